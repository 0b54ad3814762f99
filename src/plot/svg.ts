/**
 * Small SVG building blocks shared by the spectrum, tracking and landscape plots: axes with nice
 * ticks (linear or log), a framed panel, polylines, legends, the document wrapper. Strings only:
 * no DOM, no dependencies, so the plots render in Node and in browsers alike.
 */

export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
export const COLORS = {
  blue: '#1f5fa8',
  orange: '#d9480f',
  green: '#2b8a3e',
  purple: '#7048e8',
  grey: '#868e96',
  grid: '#e3e3e3',
  axis: '#333',
  text: '#222',
  muted: '#666',
} as const;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A coordinate with two decimals at most. */
export function px(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** A number for a label: 4 significant digits, exponent form when very large or small. */
export function label(v: number, digits = 4): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(digits)));
  return Number(v.toPrecision(Math.max(1, digits - 2))).toExponential().replace('e+', 'e');
}

export interface Tick {
  value: number;
  /** null for a minor tick (grid line only). */
  text: string | null;
}

/** Maps data values to [0, 1] along an axis. */
export interface Axis {
  readonly min: number;
  readonly max: number;
  readonly log: boolean;
  position(v: number): number;
  ticks: Tick[];
}

/**
 * About `count` ticks at 1, 2, 2.5 or 5 times a power of ten, the range widened to whole ticks
 * (or, with `exact`, kept as given with the ticks inside it).
 */
export function linearAxis(minIn: number, maxIn: number, count = 5, exact = false): Axis {
  let min = minIn;
  let max = maxIn;
  if (!(max - min > 1e-12 * Math.max(Math.abs(min), Math.abs(max), 1e-300))) {
    const pad = Math.abs(min) > 0 ? 0.05 * Math.abs(min) : 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw * 0.999) as number) * power;
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const ticks: Tick[] = [];
  for (let i = 0; lo + i * step <= hi + step / 2; i++) {
    const value = Number((lo + i * step).toPrecision(12));
    if (exact && (value < min - 1e-9 * step || value > max + 1e-9 * step)) continue;
    ticks.push({ value, text: label(value, 6) });
  }
  const [a, b] = exact ? [min, max] : [lo, hi];
  return { min: a, max: b, log: false, position: (v) => (v - a) / (b - a), ticks };
}

/** Whole decades covering [min, max] (both > 0); labels thinned when there are many decades. */
export function logAxis(min: number, max: number): Axis {
  const lo = Math.floor(Math.log10(min) + 1e-12);
  let hi = Math.ceil(Math.log10(max) - 1e-12);
  if (hi <= lo) hi = lo + 1;
  const every = Math.ceil((hi - lo) / 8);
  const ticks: Tick[] = [];
  for (let k = lo; k <= hi; k++) {
    ticks.push({ value: 10 ** k, text: (k - lo) % every === 0 ? `1e${k}` : null });
    if (k < hi && hi - lo <= 3) for (let m = 2; m <= 9; m++) ticks.push({ value: m * 10 ** k, text: hi - lo === 1 && (m === 2 || m === 5) ? `${m}e${k}` : null });
  }
  return { min: 10 ** lo, max: 10 ** hi, log: true, position: (v) => (Math.log10(v) - lo) / (hi - lo), ticks };
}

/** "1e-5" as 10 with a superscript; other labels as they are. */
function tickText(text: string, x: number, y: number, anchor: 'end' | 'middle'): string {
  const m = /^(-?\d)e(-?\d+)$/.exec(text);
  const attrs = `x="${px(x)}" y="${px(y)}" text-anchor="${anchor}" font-size="12" fill="${COLORS.text}"`;
  if (!m) return `<text ${attrs}>${escapeXml(text)}</text>`;
  const [, mantissa, exponent] = m as unknown as [string, string, string];
  const k = Number(exponent);
  if (k >= -2 && k <= 3) return `<text ${attrs}>${String(Number(mantissa) * 10 ** k).replace(/(\.\d*?)0+$/, '$1')}</text>`;
  const lead = mantissa === '1' ? '' : mantissa === '-1' ? '\u2212' : `${mantissa.replace('-', '\u2212')}\u00d7`;
  return `<text ${attrs}>${lead}10<tspan dy="-6" font-size="9">${k < 0 ? '\u2212' : ''}${Math.abs(k)}</tspan></text>`;
}

/** A rectangle of the drawing in pixels, with its two axes. */
export class Panel {
  constructor(
    readonly left: number,
    readonly top: number,
    readonly width: number,
    readonly height: number,
    readonly x: Axis,
    readonly y: Axis,
  ) {}

  get right(): number {
    return this.left + this.width;
  }
  get bottom(): number {
    return this.top + this.height;
  }
  /** Pixel x of a data value (clamped a little outside the frame). */
  px(v: number): number {
    return this.left + clamp(this.x.position(v), -0.02, 1.02) * this.width;
  }
  py(v: number): number {
    return this.bottom - clamp(this.y.position(v), -0.02, 1.02) * this.height;
  }

  /** Frame, grid, ticks and axis titles. */
  frame(xTitle: string, yTitle: string): string {
    const out: string[] = [`<rect x="${px(this.left)}" y="${px(this.top)}" width="${px(this.width)}" height="${px(this.height)}" fill="none" stroke="${COLORS.axis}"/>`];
    for (const t of this.y.ticks) {
      const y = this.py(t.value);
      if (y < this.top - 0.5 || y > this.bottom + 0.5) continue;
      if (y > this.top + 0.5 && y < this.bottom - 0.5)
        out.push(`<line x1="${px(this.left)}" y1="${px(y)}" x2="${px(this.right)}" y2="${px(y)}" stroke="${COLORS.grid}"${t.text ? '' : ' stroke-dasharray="2,4"'}/>`);
      out.push(`<line x1="${px(this.left - (t.text ? 5 : 3))}" y1="${px(y)}" x2="${px(this.left)}" y2="${px(y)}" stroke="${COLORS.axis}"/>`);
      if (t.text) out.push(tickText(t.text, this.left - 8, y + 4, 'end'));
    }
    for (const t of this.x.ticks) {
      const x = this.px(t.value);
      if (x < this.left - 0.5 || x > this.right + 0.5) continue;
      if (x > this.left + 0.5 && x < this.right - 0.5)
        out.push(`<line x1="${px(x)}" y1="${px(this.top)}" x2="${px(x)}" y2="${px(this.bottom)}" stroke="${COLORS.grid}"${t.text ? '' : ' stroke-dasharray="2,4"'}/>`);
      out.push(`<line x1="${px(x)}" y1="${px(this.bottom)}" x2="${px(x)}" y2="${px(this.bottom + (t.text ? 5 : 3))}" stroke="${COLORS.axis}"/>`);
      if (t.text) out.push(tickText(t.text, x, this.bottom + 19, 'middle'));
    }
    const yMid = this.top + this.height / 2;
    const yx = this.left - 62;
    out.push(`<text x="${px(yx)}" y="${px(yMid)}" transform="rotate(-90 ${px(yx)} ${px(yMid)})" text-anchor="middle" font-size="13" fill="${COLORS.text}">${escapeXml(yTitle)}</text>`);
    out.push(`<text x="${px(this.left + this.width / 2)}" y="${px(this.bottom + 40)}" text-anchor="middle" font-size="13" fill="${COLORS.text}">${escapeXml(xTitle)}</text>`);
    return out.join('\n');
  }

  /** A line through the points (data coordinates); points that are not finite break it. */
  line(points: ReadonlyArray<readonly [number, number]>, color: string, extra = ''): string {
    const runs: string[][] = [[]];
    for (const [x, y] of points) {
      const ok = Number.isFinite(x) && Number.isFinite(y) && (!this.y.log || y > 0) && (!this.x.log || x > 0);
      if (ok) (runs.at(-1) as string[]).push(`${px(this.px(x))},${px(this.py(y))}`);
      else if ((runs.at(-1) as string[]).length) runs.push([]);
    }
    return runs
      .filter((r) => r.length > 1)
      .map((r) => `<polyline points="${r.join(' ')}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" ${extra}/>`)
      .join('\n');
  }

  /** A vertical marker at data x with a label at the top. */
  vertical(x: number, color: string, text: string, dash = '', labelRow = 0): string {
    const X = this.px(x);
    const anchor = X > this.left + this.width * 0.75 ? 'end' : 'start';
    const dx = anchor === 'end' ? -4 : 4;
    return (
      `<line x1="${px(X)}" y1="${px(this.top)}" x2="${px(X)}" y2="${px(this.bottom)}" stroke="${color}" stroke-width="1.6"${dash ? ` stroke-dasharray="${dash}"` : ''}/>` +
      `<text x="${px(X + dx)}" y="${px(this.top + 14 + 14 * labelRow)}" text-anchor="${anchor}" font-size="12" fill="${color}">${escapeXml(text)}</text>`
    );
  }

  /** A shaded band between data x0 and x1 (clipped to the frame). */
  band(x0: number, x1: number, color: string, opacity = 0.12): string {
    const a = Math.max(this.left, Math.min(this.px(x0), this.px(x1)));
    const b = Math.min(this.right, Math.max(this.px(x0), this.px(x1)));
    if (!(b > a)) return '';
    return `<rect x="${px(a)}" y="${px(this.top)}" width="${px(b - a)}" height="${px(this.height)}" fill="${color}" opacity="${opacity}"/>`;
  }
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

export interface LegendEntry {
  text: string;
  color: string;
  kind?: 'line' | 'dashed' | 'band' | 'dot';
}

/** One row of legend entries starting at (x, y). */
export function legend(entries: readonly LegendEntry[], x: number, y: number): string {
  const out: string[] = [];
  let cx = x;
  for (const e of entries) {
    const kind = e.kind ?? 'line';
    if (kind === 'band') out.push(`<rect x="${px(cx - 8)}" y="${px(y - 10)}" width="18" height="10" fill="${e.color}" opacity="0.25"/>`);
    else if (kind === 'dot') out.push(`<circle cx="${px(cx)}" cy="${px(y - 4)}" r="3.5" fill="${e.color}"/>`);
    else out.push(`<line x1="${px(cx - 8)}" y1="${px(y - 4)}" x2="${px(cx + 10)}" y2="${px(y - 4)}" stroke="${e.color}" stroke-width="2"${kind === 'dashed' ? ' stroke-dasharray="6,4"' : ''}/>`);
    out.push(`<text x="${px(cx + 16)}" y="${px(y)}" font-size="12" fill="${COLORS.text}">${escapeXml(e.text)}</text>`);
    cx += 36 + e.text.length * 6.6;
  }
  return out.join('\n');
}

/** The whole document: white background, a title and a subtitle (lines split at \n), then the body. */
export function svgDocument(width: number, height: number, title: string, subtitle: string, body: readonly string[]): string {
  return `${[
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="24" y="30" font-size="17" font-weight="bold" fill="${COLORS.text}">${escapeXml(title)}</text>`,
    ...subtitle.split('\n').map((line, i) => `<text x="24" y="${50 + 16 * i}" font-size="12" fill="${COLORS.muted}">${escapeXml(line)}</text>`),
    ...body,
    `</svg>`,
  ].join('\n')}\n`;
}
