/**
 * Opens an SVG file as a standalone document in Chromium (strict XML, as a browser shows a file or
 * an <img>) and reports what a reader would see wrong: a parse error, texts that leave the canvas,
 * texts that overlap each other. Optionally saves a PNG of it (for looking at the figures).
 */
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';

export interface TextBox {
  text: string;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface SvgRendering {
  /** Chromium's parser error text, or null when the file parsed as XML with an <svg> root. */
  parseError: string | null;
  width: number;
  height: number;
  texts: TextBox[];
  /** Texts (partly) outside the canvas. */
  outside: TextBox[];
  /** Pairs of texts whose boxes intersect by more than half a pixel each way. */
  overlaps: Array<[TextBox, TextBox]>;
}

export async function renderSvgFile(browser: Browser, path: string, pngPath?: string): Promise<SvgRendering> {
  const page = await browser.newPage();
  try {
    await page.goto(pathToFileURL(path).href);
    const seen = await page.evaluate(() => {
      const root = document.documentElement;
      const error = document.getElementsByTagName('parsererror')[0];
      if (error || root.namespaceURI !== 'http://www.w3.org/2000/svg' || root.localName !== 'svg')
        return { parseError: (error?.textContent ?? `root element <${root.localName}>`).trim(), width: 0, height: 0, texts: [] };
      const box = root.getBoundingClientRect();
      const texts = [...root.querySelectorAll('text')]
        .filter((t) => (t.textContent ?? '').trim() !== '')
        .map((t) => {
          const r = t.getBoundingClientRect();
          return { text: t.textContent ?? '', left: r.left - box.left, top: r.top - box.top, right: r.right - box.left, bottom: r.bottom - box.top };
        });
      return { parseError: null, width: box.width, height: box.height, texts };
    });
    if (pngPath && seen.parseError === null) {
      await page.setViewportSize({ width: Math.ceil(seen.width), height: Math.ceil(seen.height) });
      await page.screenshot({ path: pngPath });
    }
    const tolerance = 0.5;
    const outside = seen.texts.filter((t) => t.left < -tolerance || t.top < -tolerance || t.right > seen.width + tolerance || t.bottom > seen.height + tolerance);
    const overlaps: Array<[TextBox, TextBox]> = [];
    seen.texts.forEach((a, i) => {
      for (const b of seen.texts.slice(i + 1))
        if (Math.min(a.right, b.right) - Math.max(a.left, b.left) > tolerance && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > tolerance) overlaps.push([a, b]);
    });
    return { ...seen, outside, overlaps };
  } finally {
    await page.close();
  }
}

/** A one-line account of a rendering's problems (empty when there are none). */
export function renderingProblems(r: SvgRendering): string[] {
  if (r.parseError !== null) return [`does not parse: ${r.parseError.slice(0, 200)}`];
  return [
    ...r.outside.map((t) => `text leaves the ${Math.round(r.width)}x${Math.round(r.height)} canvas: ${JSON.stringify(t.text)} at [${Math.round(t.left)}, ${Math.round(t.top)}, ${Math.round(t.right)}, ${Math.round(t.bottom)}]`),
    ...r.overlaps.map(([a, b]) => `texts overlap: ${JSON.stringify(a.text)} and ${JSON.stringify(b.text)}`),
  ];
}
