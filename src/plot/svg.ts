/**
 * The plotting layer every plot uses: a framed panel with axes (axis.ts), lines, markers, legends and
 * the document with its header. Strings only: no DOM, no dependencies, so the plots render in Node
 * and in browsers alike. Texts are measured (text-metrics.ts) so that titles and legends wrap or
 * shorten inside the canvas, legends sit above the data area, and tick labels and axis titles keep
 * clear of each other.
 */
import { label, type Axis } from './axis.js';
import { el, fragment, mergeAttrs, px, textEl, type Attrs, type Markup } from './xml.js';
import { lineHeight, shorten, textWidth, wrap } from './text-metrics.js';

export { label, linearAxis, logAxis, type Axis, type Tick } from './axis.js';
export { el, escapeXml, fragment, px, textEl, type Attrs, type Markup } from './xml.js';

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

const TICK_SIZE = 12;
const AXIS_TITLE_SIZE = 13;

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** A tick label: "1e-5" as 10 with a superscript exponent, plain decimals near 1; with its width. */
export function tickLabel(text: string, attrs: Attrs, size = TICK_SIZE): { markup: Markup; width: number; raised: number } {
  const m = /^(-?\d(?:\.\d+)?)e(-?\d+)$/.exec(text);
  if (!m) return { markup: textEl('text', attrs, text), width: textWidth(text, size), raised: 0 };
  const [, mantissa, exponent] = m as unknown as [string, string, string];
  const k = Number(exponent);
  if (k >= -3 && k <= 4) {
    const plain = String(Number((Number(mantissa) * 10 ** k).toPrecision(6)));
    return { markup: textEl('text', attrs, plain), width: textWidth(plain, size), raised: 0 };
  }
  const lead = mantissa === '1' ? '' : mantissa === '-1' ? '\u2212' : `${mantissa.replace('-', '\u2212')}\u00d7`;
  const power = `${k < 0 ? '\u2212' : ''}${Math.abs(k)}`;
  const small = Math.round(0.75 * size);
  return {
    markup: textEl('text', attrs, `${lead}10`, [textEl('tspan', { dy: -Math.round(size / 2), 'font-size': small }, power)]),
    width: textWidth(`${lead}10`, size) + textWidth(power, small),
    raised: Math.round(size / 2),
  };
}

/** Pixel extents [start, end) of labels; a label is kept only when it clears the last kept one. */
function thin<T extends { start: number; end: number }>(labels: T[], gap: number): T[] {
  const kept: T[] = [];
  for (const l of labels) if (!kept.length || l.start >= (kept.at(-1) as T).end + gap) kept.push(l);
  return kept;
}

export interface FrameOptions {
  /** Draw the x tick labels (default true). */
  xLabels?: boolean;
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
  /** Pixels below the frame taken by the x tick labels and the x title. */
  static readonly X_TITLE_OFFSET = 40;
  /** The widest y tick label, so the y title can be placed clear of it. */
  yLabelWidth(): number {
    return Math.max(0, ...this.y.ticks.filter((t) => t.text !== null).map((t) => tickLabel(t.text as string, {}).width));
  }

  /** Frame, grid, ticks and axis titles (the y title left of the widest tick label). */
  frame(xTitle: string, yTitle: string, options: FrameOptions = {}): Markup {
    const out: Markup[] = [el('rect', { x: this.left, y: this.top, width: this.width, height: this.height, fill: 'none', stroke: COLORS.axis })];
    const tickText = { 'font-size': TICK_SIZE, fill: COLORS.text };
    const yLabels: Array<{ start: number; end: number; markup: Markup }> = [];
    for (const t of this.y.ticks) {
      const y = this.py(t.value);
      if (y < this.top - 0.5 || y > this.bottom + 0.5) continue;
      if (y > this.top + 0.5 && y < this.bottom - 0.5) out.push(el('line', { x1: this.left, y1: y, x2: this.right, y2: y, stroke: COLORS.grid, 'stroke-dasharray': t.text ? undefined : '2,4' }));
      out.push(el('line', { x1: this.left - (t.text ? 5 : 3), y1: y, x2: this.left, y2: y, stroke: COLORS.axis }));
      if (t.text) {
        // Vertical extent as [start, end) going up the axis: descent below the baseline, ascent (and superscript) above.
        const l = tickLabel(t.text, { ...tickText, x: this.left - 8, y: y + 4, 'text-anchor': 'end' });
        yLabels.push({ start: -(y + 4) - 0.24 * TICK_SIZE, end: -(y + 4) + 0.93 * TICK_SIZE + l.raised, markup: l.markup });
      }
    }
    // From the bottom up (start/end in negated y), dropping labels that would touch the one below.
    out.push(...thin(yLabels, 1).map((l) => l.markup));
    const xLabels: Array<{ start: number; end: number; markup: Markup }> = [];
    for (const t of this.x.ticks) {
      const x = this.px(t.value);
      if (x < this.left - 0.5 || x > this.right + 0.5) continue;
      if (x > this.left + 0.5 && x < this.right - 0.5) out.push(el('line', { x1: x, y1: this.top, x2: x, y2: this.bottom, stroke: COLORS.grid, 'stroke-dasharray': t.text ? undefined : '2,4' }));
      out.push(el('line', { x1: x, y1: this.bottom, x2: x, y2: this.bottom + (t.text ? 5 : 3), stroke: COLORS.axis }));
      if (t.text && options.xLabels !== false) {
        const l = tickLabel(t.text, { ...tickText, x, y: this.bottom + 19, 'text-anchor': 'middle' });
        xLabels.push({ start: x - l.width / 2, end: x + l.width / 2, markup: l.markup });
      }
    }
    out.push(...thin(xLabels, 6).map((l) => l.markup));
    const yMid = this.top + this.height / 2;
    // The rotated title's baseline: clear of the labels by 8 px plus the title's descent.
    const yx = this.left - 8 - this.yLabelWidth() - 10;
    const titleAttrs = { 'text-anchor': 'middle', 'font-size': AXIS_TITLE_SIZE, fill: COLORS.text };
    if (yTitle) out.push(textEl('text', { ...titleAttrs, x: yx, y: yMid, transform: `rotate(-90 ${px(yx)} ${px(yMid)})` }, shorten(yTitle, this.height, AXIS_TITLE_SIZE)));
    if (xTitle) out.push(textEl('text', { ...titleAttrs, x: this.left + this.width / 2, y: this.bottom + Panel.X_TITLE_OFFSET }, shorten(xTitle, this.width, AXIS_TITLE_SIZE)));
    return fragment(out);
  }

  /** A line through the points (data coordinates); points that are not finite break it. */
  line(points: ReadonlyArray<readonly [number, number]>, color: string, extra: Attrs = {}): Markup {
    const runs: string[][] = [[]];
    for (const [x, y] of points) {
      const ok = Number.isFinite(x) && Number.isFinite(y) && (!this.y.log || y > 0) && (!this.x.log || x > 0);
      if (ok) (runs.at(-1) as string[]).push(`${px(this.px(x))},${px(this.py(y))}`);
      else if ((runs.at(-1) as string[]).length) runs.push([]);
    }
    const base: Attrs = { fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-linejoin': 'round' };
    return fragment(runs.filter((r) => r.length > 1).map((r) => el('polyline', mergeAttrs({ points: r.join(' ') }, base, extra))));
  }

  /** A vertical marker at data x with a label in row `labelRow` at the top, kept inside the frame. */
  vertical(x: number, color: string, text: string, dash = '', labelRow = 0): Markup {
    const X = this.px(x);
    const size = 12;
    const room = this.width - 8;
    const shown = shorten(text, room, size);
    const w = textWidth(shown, size);
    // Right of the line when it fits, else left of it, else against the frame's edge.
    const start = X + 4 + w <= this.right - 4 ? X + 4 : X - 4 - w >= this.left + 4 ? X - 4 - w : this.right - 4 - w;
    return fragment([
      el('line', { x1: X, y1: this.top, x2: X, y2: this.bottom, stroke: color, 'stroke-width': 1.6, 'stroke-dasharray': dash || undefined }),
      textEl('text', { x: Math.max(this.left + 4, start), y: this.top + 14 + 16 * labelRow, 'font-size': size, fill: color }, shown),
    ]);
  }

  /** A shaded band between data x0 and x1 (clipped to the frame). */
  band(x0: number, x1: number, color: string, opacity = 0.12): Markup | null {
    const a = Math.max(this.left, Math.min(this.px(x0), this.px(x1)));
    const b = Math.min(this.right, Math.max(this.px(x0), this.px(x1)));
    if (!(b > a)) return null;
    return el('rect', { x: a, y: this.top, width: b - a, height: this.height, fill: color, opacity });
  }

  /** A note inside the frame's lower left corner (shortened to the frame's width). */
  note(text: string, color: string = COLORS.muted): Markup {
    return textEl('text', { x: this.left + 6, y: this.bottom - 8, 'font-size': 12, fill: color }, shorten(text, this.width - 12, 12));
  }
}

export type MarkerKind = 'circle' | 'square' | 'diamond';

/** A point marker; hollow ones are white inside. */
export function marker(kind: MarkerKind, x: number, y: number, color: string, filled: boolean, size = 1): Markup {
  const common = { fill: filled ? color : 'white', stroke: color, 'stroke-width': 1.5 };
  if (kind === 'circle') return el('circle', { cx: x, cy: y, r: 3.6 * size, ...common });
  if (kind === 'square') return el('rect', { x: x - 5 * size, y: y - 5 * size, width: 10 * size, height: 10 * size, ...common });
  const r = 5 * size;
  return el('path', { d: `M${px(x)} ${px(y - r)}L${px(x + r)} ${px(y)}L${px(x)} ${px(y + r)}L${px(x - r)} ${px(y)}Z`, ...common });
}

export interface LegendEntry {
  text: string;
  color: string;
  kind?: 'line' | 'dashed' | 'band' | 'dot' | MarkerKind | 'hollow';
}

const LEGEND_SIZE = 12;
const LEGEND_ROW = 17;

function legendSymbol(e: LegendEntry, cx: number, cy: number): Markup {
  const kind = e.kind ?? 'line';
  if (kind === 'band') return el('rect', { x: cx - 8, y: cy - 5, width: 18, height: 10, fill: e.color, opacity: 0.25 });
  if (kind === 'dot') return el('circle', { cx, cy, r: 3.5, fill: e.color });
  if (kind === 'hollow') return marker('circle', cx, cy, e.color, false);
  if (kind === 'circle' || kind === 'square' || kind === 'diamond') return marker(kind, cx, cy, e.color, true, 0.9);
  return el('line', { x1: cx - 8, y1: cy, x2: cx + 10, y2: cy, stroke: e.color, 'stroke-width': 2, 'stroke-dasharray': kind === 'dashed' ? '6,4' : undefined });
}

/**
 * Legend entries in rows from (left, top) within `maxWidth`, each row as full as it fits; returns
 * the markup and the height taken.
 */
export function legendBlock(entries: readonly LegendEntry[], left: number, top: number, maxWidth: number): { markup: Markup; height: number } {
  const out: Markup[] = [];
  let cx = left;
  let row = 0;
  for (const e of entries) {
    const text = shorten(e.text, maxWidth - 26, LEGEND_SIZE);
    const w = 26 + textWidth(text, LEGEND_SIZE);
    if (cx > left && cx + w > left + maxWidth) {
      row++;
      cx = left;
    }
    const baseline = top + row * LEGEND_ROW + LEGEND_SIZE;
    out.push(legendSymbol(e, cx + 8, baseline - 4), textEl('text', { x: cx + 24, y: baseline, 'font-size': LEGEND_SIZE, fill: COLORS.text }, text));
    cx += w + 18;
  }
  return { markup: fragment(out), height: entries.length ? (row + 1) * LEGEND_ROW : 0 };
}

export const MARGIN = 24;
const TITLE_SIZE = 17;
const SUBTITLE_SIZE = 12;

export interface Header {
  markup: Markup;
  /** The first free y below the header. */
  bottom: number;
}

/**
 * Title (bold, up to two lines), subtitle (each \n line wrapped, up to three lines) and legend rows,
 * from the top of a canvas `width` wide: all inside the margins, whatever the lengths.
 */
export function header(width: number, title: string, subtitle: string, legendEntries: readonly LegendEntry[] = []): Header {
  const inner = width - 2 * MARGIN;
  const out: Markup[] = [];
  let y = 8;
  for (const line of wrap(title, inner, TITLE_SIZE, 2, true)) {
    y += lineHeight(TITLE_SIZE);
    out.push(textEl('text', { x: MARGIN, y: y - 4, 'font-size': TITLE_SIZE, 'font-weight': 'bold', fill: COLORS.text }, line));
  }
  y += 4;
  for (const paragraph of subtitle ? subtitle.split('\n') : [])
    for (const line of wrap(paragraph, inner, SUBTITLE_SIZE, 3)) {
      y += 16;
      out.push(textEl('text', { x: MARGIN, y: y - 3, 'font-size': SUBTITLE_SIZE, fill: COLORS.muted }, line));
    }
  if (legendEntries.length) {
    y += 8;
    const legend = legendBlock(legendEntries, MARGIN, y, inner);
    out.push(legend.markup);
    y += legend.height;
  }
  return { markup: fragment(out), bottom: y };
}

/** Lines of small print from (MARGIN, top), wrapped to the canvas; returns the markup and the height. */
export function footnote(text: string, width: number, top: number): { markup: Markup; height: number } {
  const lines = wrap(text, width - 2 * MARGIN, 12, 3);
  return {
    markup: fragment(lines.map((line, i) => textEl('text', { x: MARGIN, y: top + 12 + 16 * i, 'font-size': 12, fill: COLORS.muted }, line))),
    height: 16 * lines.length,
  };
}

/** The whole document: white background, then the parts (header first). */
export function svgDocument(width: number, height: number, title: string, parts: ReadonlyArray<Markup | null>): string {
  const root = el('svg', { xmlns: 'http://www.w3.org/2000/svg', width: Math.ceil(width), height: Math.ceil(height), viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`, 'font-family': FONT }, [
    textEl('title', {}, title),
    el('rect', { width: '100%', height: '100%', fill: 'white' }),
    ...parts.filter((p): p is Markup => p !== null),
  ]);
  return `${root.svg}\n`;
}
