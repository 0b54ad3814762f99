/**
 * The plotting layer (src/plot/): markup that cannot repeat an attribute and escapes every text,
 * axes whose range and ticks come from the data, texts measured so they wrap or shorten inside the
 * canvas. The rendered plots are checked in Chromium by browser-plots.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { label, linearAxis, logAxis } from '../src/plot/axis.js';
import { header, Panel } from '../src/plot/svg.js';
import { ELLIPSIS, shorten, textWidth, wrap } from '../src/plot/text-metrics.js';
import { el, escapeXml, mergeAttrs, textEl } from '../src/plot/xml.js';
import { checkSvg } from './helpers/svg.js';

const labelled = (ticks: Array<{ value: number; text: string | null }>) => ticks.filter((t) => t.text !== null);

describe('markup', () => {
  it('escapes the five XML specials in texts and attribute values', () => {
    expect(escapeXml(`a<b>&"c"'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;');
    const svg = el('svg', { xmlns: 'http://www.w3.org/2000/svg', 'data-x': 'x"><script>' }, [textEl('text', { x: 1 }, '</text><b>&')]).svg;
    expect(svg).toBe('<svg xmlns="http://www.w3.org/2000/svg" data-x="x&quot;&gt;&lt;script&gt;">\n<text x="1">&lt;/text&gt;&lt;b&gt;&amp;</text>\n</svg>');
    checkSvg(svg);
  });

  it('merges attributes so that a later value replaces an earlier one (never two stroke-widths)', () => {
    const line = el('polyline', mergeAttrs({ points: '0,0 1,1', 'stroke-width': 2 }, { 'stroke-width': 1, opacity: 0.35 })).svg;
    expect(line).toBe('<polyline points="0,0 1,1" stroke-width="1" opacity="0.35"/>');
    expect(() => checkSvg(`<svg><polyline stroke-width="2" stroke-width="1"/></svg>`)).toThrow(/stroke-width/);
  });

  it('leaves out undefined, null and false attributes; refuses bad names and non-finite coordinates', () => {
    expect(el('line', { x1: 0, 'stroke-dasharray': undefined, a: null, b: false }).svg).toBe('<line x1="0"/>');
    expect(() => el('line', { 'x1 onload': 1 })).toThrow(/bad attribute name/);
    expect(() => el('line', { x1: NaN })).toThrow(/non-finite/);
  });

  it('Panel.line takes extra attributes that override its own (the duplicate stroke-width of the SLQ envelope)', () => {
    const panel = new Panel(0, 0, 100, 100, linearAxis(0, 1), linearAxis(0, 1));
    const svg = panel.line([[0, 0], [1, 1]], 'red', { 'stroke-width': 1, opacity: 0.35 }).svg;
    expect(svg.match(/stroke-width=/g)).toHaveLength(1);
    expect(svg).toContain('stroke-width="1"');
  });
});

describe('axes from the data', () => {
  it('a log axis over 1.15..1.4 spans about that range (not 1..10), with several distinct labels inside it', () => {
    const axis = logAxis(1.15, 1.4);
    expect(axis.min).toBeGreaterThan(1.1);
    expect(axis.max).toBeLessThan(1.45);
    const texts = labelled(axis.ticks);
    expect(texts.length).toBeGreaterThanOrEqual(3);
    expect(new Set(texts.map((t) => t.text)).size).toBe(texts.length);
    for (const t of axis.ticks) expect(t.value).toBeGreaterThanOrEqual(axis.min), expect(t.value).toBeLessThanOrEqual(axis.max);
    expect(axis.position(1.15)).toBeGreaterThan(0);
    expect(axis.position(1.4)).toBeLessThan(1);
  });

  it('over decades: a labelled tick per decade, thinned to at most 9 labels over many decades', () => {
    const five = labelled(logAxis(1e-5, 1).ticks).map((t) => t.text);
    expect(five).toEqual(['1e-5', '1e-4', '0.001', '0.01', '0.1', '1']);
    const many = logAxis(1e-30, 1);
    expect(labelled(many.ticks).length).toBeLessThanOrEqual(9);
    expect(labelled(many.ticks).length).toBeGreaterThanOrEqual(4);
  });

  it('about two decades: 1, 2 and 5 labelled', () => {
    expect(labelled(logAxis(0.011, 0.95).ticks).map((t) => t.text)).toEqual(['0.01', '0.02', '0.05', '0.1', '0.2', '0.5', '1']);
  });

  it('a constant log axis is widened, and pad 0 keeps exactly the data range', () => {
    const flat = logAxis(3, 3);
    expect(flat.min).toBeLessThan(3);
    expect(flat.max).toBeGreaterThan(3);
    const exact = logAxis(0.5, 200, 0);
    expect(exact.min).toBeCloseTo(0.5, 12);
    expect(exact.max).toBeCloseTo(200, 9);
  });

  it('linear ticks are distinct labels at 1, 2, 2.5 or 5 times a power of ten', () => {
    const axis = linearAxis(1.0001, 1.0009, 4);
    const texts = labelled(axis.ticks).map((t) => t.text as string);
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts.length).toBeGreaterThanOrEqual(3);
    expect(labelled(linearAxis(-2, 4, 7).ticks).map((t) => t.text)).toEqual(['-2', '-1', '0', '1', '2', '3', '4']);
    expect(label(0.000012345)).toBe('1.2e-5');
    // Labels say the tick's value exactly, however many digits that takes.
    expect(labelled(linearAxis(0, 1250, 5).ticks).map((t) => t.text)).toEqual(['0', '250', '500', '750', '1000', '1250']);
    for (const axis of [linearAxis(0.0123, 0.0177, 6), linearAxis(-3.3e-7, 1.7e-6, 5), logAxis(1.15, 1.4), logAxis(2e-9, 3e-3)])
      for (const t of labelled(axis.ticks)) expect(Number(t.text)).toBeCloseTo(t.value, 12 - Math.floor(Math.log10(Math.abs(t.value) || 1)));
  });
});

describe('measured texts', () => {
  const id = `sha256:${'0123456789abcdef'.repeat(4)}`;

  it('shortens a text that does not fit, with an ellipsis, and keeps one that fits', () => {
    const short = shorten(id, 120, 12);
    expect(short.endsWith(ELLIPSIS)).toBe(true);
    expect(textWidth(short, 12)).toBeLessThanOrEqual(120);
    expect(shorten('fits', 120, 12)).toBe('fits');
  });

  it('wraps at spaces within the width, at most maxLines, shortening a word longer than a line', () => {
    const text = `Sharpness vs. width: ${id}; rho 0, 0.25, 0.5, 0.75, 0.9; sigmoid, tanh; 1 hidden layer; weight decay 0.001`;
    const all = wrap(text, 300, 12);
    expect(all.length).toBeGreaterThan(2);
    for (const line of all) expect(textWidth(line, 12)).toBeLessThanOrEqual(300);
    expect(all.join(' ')).toContain('weight decay 0.001');
    const two = wrap(text, 300, 17, 2, true);
    expect(two).toHaveLength(2);
    for (const line of two) expect(textWidth(line, 17, true)).toBeLessThanOrEqual(300);
    expect(two[1]?.endsWith(ELLIPSIS)).toBe(true);
    expect(wrap('a b c', 1000, 12)).toEqual(['a b c']);
  });

  it('header: a long title and subtitle stay within the margins', () => {
    const head = header(400, `A title with ${id} in it that goes on and on and on`, `${id} subtitle `.repeat(6));
    const texts = [...head.markup.svg.matchAll(/<text x="24"[^>]*font-size="(\d+)"([^>]*)>([^<]*)</g)];
    expect(texts.length).toBeGreaterThan(2);
    for (const [, size, rest, text] of texts) expect(textWidth(text as string, Number(size), (rest as string).includes('bold'))).toBeLessThanOrEqual(400 - 48);
  });
});
