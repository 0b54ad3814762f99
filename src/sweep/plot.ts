/**
 * The sweep plot as an SVG string (no dependencies, no DOM; the shared plotting layer of
 * src/plot/svg.ts): lambda_max and the WS bound against hidden width on log axes (seeds as points,
 * a line through the per-width medians), and a second panel with the ratio bound / lambda_max.
 * Several values of a study axis (data sets, rho, activations, ...) give one colour per combination,
 * named once in the legend; the title names each axis's values. Pure.
 */
import { shorten } from '../plot/text-metrics.js';
import {
  COLORS as BASE_COLORS,
  el,
  header,
  linearAxis,
  logAxis,
  marker,
  Panel,
  svgDocument,
  textEl,
  type Axis,
  type LegendEntry,
  type MarkerKind,
  type Markup,
} from '../plot/svg.js';
import type { SweepResult } from './result.js';

export interface PlotOptions {
  /** Default: built from the rows' study axes. */
  title?: string;
}

const WIDTH = 820;
const LEFT = 92;
const RIGHT = 28;
const COLORS = { lambda: '#1f5fa8', bound: '#d9480f', ratio: '#2b8a3e', text: BASE_COLORS.text, muted: BASE_COLORS.muted };

interface Series {
  color: string;
  marker: MarkerKind;
  /** Dashed median line (so coinciding lines both show). */
  dashed?: boolean;
  value: (r: SweepResult) => number | null;
  /** The rows of this series' line (one line per value of the varied axes); default all. */
  member?: (r: SweepResult) => boolean;
}

/** Flagged points (degenerate or unconverged): grey, hollow, and left out of the median lines. */
const FLAGGED_COLOR = '#9a9a9a';
// Matplotlib's tab10: ten colours that are easy to tell apart (no two oranges).
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

type AxisKey = 'dataset' | 'rho' | 'activation' | 'depth' | 'weightDecay' | 'hsr' | 'targetLoss';
const AXES: Array<{ key: AxisKey; name: string }> = [
  { key: 'dataset', name: 'data' },
  { key: 'rho', name: 'rho' },
  { key: 'activation', name: '' },
  { key: 'depth', name: 'depth' },
  { key: 'weightDecay', name: 'wd' },
  { key: 'hsr', name: 'hsr' },
  { key: 'targetLoss', name: 'target' },
];

/**
 * A data set id for people: synthetic ids without their default fields (and without rho when rho
 * is an axis of its own), files by name, content ids (sha256:<64 hex>) by their first 8 digits.
 */
export function datasetLabel(id: string, withoutRho = false): string {
  const content = /^sha256:([0-9a-f]{8})[0-9a-f]*$/.exec(id);
  if (content) return `data sha256:${content[1] as string}\u2026`;
  if (id.startsWith('file:')) return id.slice(5).replace(/^.*[\\/]/, '');
  if (!id.startsWith('synthetic:')) return id;
  const fields = id
    .slice('synthetic:'.length)
    .split(',')
    .filter((f) => f !== 'seed=0' && f !== 'teacher=mlp' && !(withoutRho && f.startsWith('rho=')));
  return `synthetic ${fields.join(', ')}`;
}

function distinct<T>(rows: readonly SweepResult[], f: (r: SweepResult) => T): T[] {
  return [...new Set(rows.map(f))];
}

/** Whether rho is an axis with several values (then it is not repeated inside the data set names). */
function rhoVaries(rows: readonly SweepResult[]): boolean {
  return distinct(rows, (r) => r.rho ?? null).length > 1;
}

function axisValue(r: SweepResult, key: AxisKey, withoutRho: boolean): string {
  return key === 'dataset' ? datasetLabel(r.dataset, withoutRho) : String(r[key]);
}

/** The axes with more than one value (data sets that differ only by rho count as one), and each row's group label over them. */
export function plotGroups(rows: readonly SweepResult[]): { labels: string[]; of: (r: SweepResult) => string } {
  const withoutRho = rhoVaries(rows);
  const varied = AXES.filter((a) => distinct(rows, (r) => axisValue(r, a.key, withoutRho)).length > 1);
  const of = (r: SweepResult) => varied.map((a) => `${a.name && a.key !== 'dataset' ? `${a.name} ` : ''}${axisValue(r, a.key, withoutRho)}`).join(', ');
  return { labels: distinct(rows, of), of };
}

function listValues(values: string[]): string {
  return values.length <= 4 ? values.join(', ') : `${values.length} values, ${values[0] as string} to ${values.at(-1) as string}`;
}

/** Every study axis once: its single value, or the list (or count and range) of its values. */
function defaultTitle(rows: SweepResult[]): string {
  const withoutRho = rhoVaries(rows);
  const parts: string[] = [];
  const datasets = distinct(rows, (r) => datasetLabel(r.dataset, withoutRho));
  parts.push(datasets.length === 1 ? (datasets[0] as string) : `${datasets.length} data sets`);
  if (withoutRho) parts.push(`rho ${listValues(distinct(rows, (r) => r.rho).sort((a, b) => (a ?? 0) - (b ?? 0)).map(String))}`);
  parts.push(listValues(distinct(rows, (r) => r.activation)));
  const depths = distinct(rows, (r) => r.depth).sort((a, b) => a - b);
  parts.push(depths.length === 1 && depths[0] === 1 ? '1 hidden layer' : `${listValues(depths.map(String))} hidden layers`);
  for (const [key, name] of [['weightDecay', 'weight decay'], ['hsr', 'hsr']] as const) {
    const vs = distinct(rows, (r) => r[key]).sort((a, b) => a - b);
    if (vs.length > 1 || (vs[0] ?? 0) !== 0) parts.push(`${name} ${listValues(vs.map(String))}`);
  }
  return `Sharpness vs. width: ${parts.join('; ')}`;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const positiveValue = (v: number | null): v is number => v !== null && Number.isFinite(v) && v > 0;

/**
 * One panel: y from the values (log; or linear when `scale` is 'auto' and they span less than a
 * factor of 4, as ratios near 1 do), x the widths; points per seed and median lines.
 */
function drawPanel(
  rows: SweepResult[],
  series: Series[],
  box: { top: number; height: number },
  x: Axis,
  yTitle: string,
  options: { scale: 'log' | 'auto'; reference?: number },
): Markup[] {
  const values = rows.flatMap((r) => series.map((s) => s.value(r))).filter(positiveValue);
  if (options.reference !== undefined) values.push(options.reference);
  const placeholder = values.length === 0;
  const [lo, hi] = placeholder ? [0.1, 1] : [Math.min(...values), Math.max(...values)];
  const y = options.scale === 'auto' && hi < 4 * lo ? linearAxis(lo, hi, 5) : logAxis(lo, hi);
  const panel = new Panel(LEFT, box.top, WIDTH - RIGHT - LEFT, box.height, x, y);
  const out: Markup[] = [panel.frame('', yTitle)];
  if (placeholder) {
    out.push(textEl('text', { x: panel.left + panel.width / 2, y: panel.top + panel.height / 2, 'text-anchor': 'middle', 'font-size': 12, fill: COLORS.muted }, 'no positive values to plot'));
    return out;
  }
  if (options.reference !== undefined) {
    const ry = panel.py(options.reference);
    out.push(el('line', { x1: panel.left, y1: ry, x2: panel.right, y2: ry, stroke: COLORS.muted, 'stroke-width': 1.2, 'stroke-dasharray': '6,4' }));
  }
  const widths = distinct(rows, (r) => r.width).sort((a, b) => a - b);
  // Seeds side by side around each width, so points of one width do not hide each other.
  const seeds = distinct(rows, (r) => r.seed).sort((a, b) => a - b);
  const jitter = (seed: number) => (seeds.indexOf(seed) - (seeds.length - 1) / 2) * Math.min(5, 24 / Math.max(1, seeds.length));
  for (const s of series) {
    const mine = s.member ? rows.filter(s.member) : rows;
    const medians = widths
      .map((w) => {
        const vs = mine.filter((r) => r.width === w && !r.flags).map(s.value).filter(positiveValue);
        return vs.length ? ([w, median(vs)] as const) : null;
      })
      .filter((p): p is readonly [number, number] => p !== null);
    if (medians.length > 1) out.push(panel.line(medians, s.color, { 'stroke-dasharray': s.dashed ? '7,4' : undefined, opacity: 0.9, 'stroke-linejoin': undefined }));
    for (const r of mine) {
      const v = s.value(r);
      if (!positiveValue(v)) continue;
      out.push(marker(s.marker, panel.px(r.width) + jitter(r.seed), panel.py(v), r.flags ? FLAGGED_COLOR : s.color, r.converged && !r.flags));
    }
  }
  return out;
}

/** The widths as a log2 axis with a tick at each (a single width sits in the middle). */
function widthAxis(widths: number[]): Axis {
  const [wMin, wMax] = widths.length ? [widths[0] as number, widths.at(-1) as number] : [1, 2];
  const lx0 = Math.log2(wMin) - (wMax === wMin ? 1 : 0.35);
  const lx1 = Math.log2(wMax) + (wMax === wMin ? 1 : 0.35);
  return { min: 2 ** lx0, max: 2 ** lx1, log: true, position: (w) => (Math.log2(w) - lx0) / (lx1 - lx0), ticks: widths.map((w) => ({ value: w, text: String(w) })) };
}

export function sweepPlotSvg(rows: readonly SweepResult[], options: PlotOptions = {}): string {
  const data = [...rows].sort((a, b) => a.width - b.width || a.seed - b.seed);
  const widths = distinct(data, (r) => r.width).sort((a, b) => a - b);
  const seeds = distinct(data, (r) => r.seed).length;
  const unconverged = data.filter((r) => !r.converged).length;
  const flagged = data.filter((r) => r.flags).length;
  const groups = plotGroups(data);
  const several = groups.labels.length > 1;
  const colorOf = (i: number) => PALETTE[i % PALETTE.length] as string;
  const perGroup = (marker: MarkerKind, value: Series['value'], dashed = false): Series[] =>
    groups.labels.map((g, i) => ({ color: colorOf(i), marker, dashed, value, member: (r: SweepResult) => groups.of(r) === g }));
  const lambdaSeries: Series[] = several ? perGroup('circle', (r) => r.lambdaMax) : [{ color: COLORS.lambda, marker: 'circle', value: (r) => r.lambdaMax }];
  const boundSeries: Series[] = several ? perGroup('square', (r) => r.bound, true) : [{ color: COLORS.bound, marker: 'square', dashed: true, value: (r) => r.bound }];
  const ratioSeries: Series[] = several ? perGroup('diamond', (r) => r.ratio) : [{ color: COLORS.ratio, marker: 'diamond', value: (r) => r.ratio }];
  const title = options.title ?? defaultTitle(data);
  const subtitle = `${data.length} trained networks (${seeds} seed${seeds === 1 ? '' : 's'} per width${several ? `; ${groups.labels.length} groups, one colour each` : ''}); points: seeds, lines: median per width of the unflagged points; log axes`;
  const flaggedEntry: LegendEntry[] = flagged ? [{ text: `grey hollow: flagged (${flagged})`, color: FLAGGED_COLOR, kind: 'hollow' }] : [];
  const legend: LegendEntry[] = several
    ? [
        ...groups.labels.map((g, i) => ({ text: g, color: colorOf(i) })),
        { text: 'lambda_max (solid)', color: COLORS.muted, kind: 'circle' as const },
        { text: 'WS bound (dashed)', color: COLORS.muted, kind: 'square' as const },
        ...flaggedEntry,
      ]
    : [
        { text: 'lambda_max (exact)', color: COLORS.lambda, kind: 'circle' },
        { text: 'Wolkowicz\u2013Styan bound', color: COLORS.bound, kind: 'square' },
        { text: 'median per width', color: COLORS.muted },
        ...flaggedEntry,
        ...(unconverged && !flagged ? [{ text: 'hollow: not converged', color: COLORS.muted, kind: 'hollow' as const }] : []),
      ];
  const head = header(WIDTH, title, subtitle, legend);
  const x = widthAxis(widths);
  const top = { top: head.bottom + 16, height: 330 };
  const bottom = { top: top.top + top.height + 64, height: 160 };
  const heading = shorten('How tight is the bound: WS bound / lambda_max (dashed line: 1, bound = lambda_max)', WIDTH - RIGHT - LEFT, 13, true);
  const parts: Markup[] = [
    head.markup,
    el('g', { id: 'sharpness' }, drawPanel(data, [...boundSeries, ...lambdaSeries], top, x, 'largest Hessian eigenvalue', { scale: 'log' })),
    textEl('text', { x: LEFT, y: bottom.top - 12, 'font-size': 13, 'font-weight': 'bold', fill: COLORS.text }, heading),
    el('g', { id: 'ratio' }, drawPanel(data, ratioSeries, bottom, x, 'bound / lambda_max', { scale: 'auto', reference: 1 })),
    textEl('text', { x: (LEFT + WIDTH - RIGHT) / 2, y: bottom.top + bottom.height + Panel.X_TITLE_OFFSET, 'text-anchor': 'middle', 'font-size': 13, fill: COLORS.text }, 'hidden width (units per hidden layer, log scale)'),
  ];
  return svgDocument(WIDTH, bottom.top + bottom.height + Panel.X_TITLE_OFFSET + 16, title, parts);
}
