/**
 * The sweep plot as an SVG string (no dependencies, no DOM): lambda_max and the WS bound against
 * hidden width on log axes (seeds as points, a line through the per-width medians), and a second
 * panel with the ratio bound / lambda_max. Pure.
 */
import type { SweepResult } from './result.js';

export interface PlotOptions {
  /** Default: built from the rows' data set, activation and depth. */
  title?: string;
}

const WIDTH = 820;
const LEFT = 92;
const RIGHT = 28;
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const COLORS = { lambda: '#1f5fa8', bound: '#d9480f', ratio: '#2b8a3e', grid: '#e3e3e3', axis: '#333', text: '#222', muted: '#666' };

interface Panel {
  top: number;
  height: number;
}

interface Series {
  label: string;
  color: string;
  marker: 'circle' | 'square' | 'diamond';
  /** Dashed median line (so coinciding lines both show). */
  dashed?: boolean;
  value: (r: SweepResult) => number | null;
  /** The rows of this series' line (one line per value of the varied axes); default all. */
  member?: (r: SweepResult) => boolean;
}

/** Flagged points (degenerate or unconverged): grey, hollow, and left out of the median lines. */
const FLAGGED_COLOR = '#9a9a9a';
const PALETTE = ['#1f5fa8', '#d9480f', '#2b8a3e', '#862e9c', '#c92a2a', '#e67700', '#0b7285', '#5c940d', '#495057', '#a61e4d'];
const AXES: Array<{ key: keyof SweepResult; label: string }> = [
  { key: 'dataset', label: '' },
  { key: 'rho', label: 'rho ' },
  { key: 'activation', label: '' },
  { key: 'depth', label: 'depth ' },
  { key: 'weightDecay', label: 'wd ' },
  { key: 'hsr', label: 'hsr ' },
  { key: 'targetLoss', label: 'target ' },
];

/** The axes with more than one value, and each row's group label over them. */
export function plotGroups(rows: readonly SweepResult[]): { labels: string[]; of: (r: SweepResult) => string } {
  const varied = AXES.filter((a) => new Set(rows.map((r) => r[a.key])).size > 1);
  const of = (r: SweepResult) =>
    varied.map((a) => `${a.label}${a.key === 'dataset' ? String(r.dataset).replace(/^synthetic:/, '').replace(/,seed=0,teacher=mlp$/, '') : String(r[a.key])}`).join(', ');
  return { labels: [...new Set(rows.map(of))], of };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fixed(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

interface Tick {
  value: number;
  /** SVG text of the label, or null for a minor tick. */
  label: ((x: number, y: number) => string) | null;
}

interface YScale {
  /** 0 at the bottom of the panel, 1 at the top. */
  position(v: number): number;
  ticks: Tick[];
}

function textAttrs(x: number, y: number): string {
  return `x="${fixed(x)}" y="${fixed(y)}" text-anchor="end" font-size="12" fill="${COLORS.text}"`;
}

/** m 10^k as text: plain decimals near 1, else (m x) 10 with a superscript exponent. */
function powerLabel(m: number, k: number): (x: number, y: number) => string {
  if (k >= -2 && k <= 3) return (x, y) => `<text ${textAttrs(x, y)}>${k >= 0 ? String(m * 10 ** k) : (m * 10 ** k).toFixed(-k)}</text>`;
  const mantissa = m === 1 ? '' : `${m}\u00d7`;
  return (x, y) => `<text ${textAttrs(x, y)}>${mantissa}10<tspan dy="-6" font-size="9">${k < 0 ? '\u2212' : ''}${Math.abs(k)}</tspan></text>`;
}

/** Whole decades covering the values; minor ticks at 2..9 when there are few decades. */
function logScale(values: number[]): YScale {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const lo = Math.floor(Math.log10(min));
  let hi = Math.ceil(Math.log10(max));
  if (hi <= lo) hi = lo + 1;
  const every = hi - lo > 8 ? 2 : 1;
  const ticks: Tick[] = [];
  for (let k = lo; k <= hi; k++) {
    ticks.push({ value: 10 ** k, label: (k - lo) % every === 0 ? powerLabel(1, k) : null });
    // Within a single decade, 2 and 5 are labelled too, so the axis has more than two numbers.
    if (k < hi && hi - lo <= 4)
      for (let m = 2; m <= 9; m++) ticks.push({ value: m * 10 ** k, label: hi - lo === 1 && (m === 2 || m === 5) ? powerLabel(m, k) : null });
  }
  return { position: (v) => (Math.log10(v) - lo) / (hi - lo), ticks };
}

/** About five ticks at 1, 2, 2.5 or 5 times a power of ten. */
function linearScale(values: number[]): YScale {
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (max - min < 1e-9 * Math.max(1, Math.abs(max))) {
    min -= 0.05 * Math.abs(min || 1);
    max += 0.05 * Math.abs(max || 1);
  }
  const raw = (max - min) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) as number) * power;
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (step / power === 2.5 ? 1 : 0));
  const ticks: Tick[] = [];
  for (let v = lo; v <= hi + step / 2; v += step) {
    const value = Number(v.toFixed(12));
    ticks.push({ value, label: (x, y) => `<text ${textAttrs(x, y)}>${value.toFixed(decimals)}</text>` });
  }
  return { position: (v) => (v - lo) / (hi - lo), ticks };
}

function marker(kind: Series['marker'], x: number, y: number, color: string, filled: boolean): string {
  const fill = filled ? color : 'white';
  const common = `fill="${fill}" stroke="${color}" stroke-width="1.5"`;
  if (kind === 'circle') return `<circle cx="${fixed(x)}" cy="${fixed(y)}" r="3.6" ${common}/>`;
  // Squares are drawn larger and first, so a circle on top of an equal value stays visible.
  if (kind === 'square') return `<rect x="${fixed(x - 5)}" y="${fixed(y - 5)}" width="10" height="10" ${common}/>`;
  return `<path d="M${fixed(x)} ${fixed(y - 5)}L${fixed(x + 5)} ${fixed(y)}L${fixed(x)} ${fixed(y + 5)}L${fixed(x - 5)} ${fixed(y)}Z" ${common}/>`;
}

function defaultTitle(rows: SweepResult[]): string {
  const distinct = (f: (r: SweepResult) => string | number) => [...new Set(rows.map(f))];
  const datasets = distinct((r) => r.dataset).join(', ');
  const activations = distinct((r) => r.activation).join(', ');
  const depths = distinct((r) => r.depth);
  const layers = depths.length === 1 && depths[0] === 1 ? '1 hidden layer' : `${depths.join(', ')} hidden layers`;
  return `Sharpness vs. width: ${datasets}, ${activations}, ${layers}`;
}

/**
 * Draws one panel (log x; log y, or linear y when `scale` is 'auto' and the values span less than a
 * factor of 4, as ratios near 1 do); returns SVG elements.
 */
function drawPanel(
  rows: SweepResult[],
  series: Series[],
  panel: Panel,
  xOf: (w: number) => number,
  widths: number[],
  yTitle: string,
  options: { scale: 'log' | 'auto'; reference?: number },
): string {
  const { reference } = options;
  const out: string[] = [];
  const values = rows.flatMap((r) => series.map((s) => s.value(r))).filter((v): v is number => v !== null && Number.isFinite(v) && v > 0);
  if (reference !== undefined) values.push(reference);
  const bottom = panel.top + panel.height;
  const right = WIDTH - RIGHT;
  out.push(`<rect x="${LEFT}" y="${panel.top}" width="${right - LEFT}" height="${panel.height}" fill="white" stroke="${COLORS.axis}" stroke-width="1"/>`);
  if (values.length === 0) {
    out.push(`<text x="${(LEFT + right) / 2}" y="${panel.top + panel.height / 2}" text-anchor="middle" fill="${COLORS.muted}">no positive values to plot</text>`);
    return out.join('\n');
  }
  const linear = options.scale === 'auto' && Math.max(...values) < 4 * Math.min(...values);
  const scale = linear ? linearScale(values) : logScale(values);
  const yOf = (v: number) => bottom - scale.position(v) * panel.height;
  // Grid: labelled ticks as solid lines, minor ticks as faint dashed ones.
  for (const tick of scale.ticks) {
    const y = yOf(tick.value);
    if (y > panel.top + 0.5 && y < bottom - 0.5)
      out.push(`<line x1="${LEFT}" y1="${fixed(y)}" x2="${right}" y2="${fixed(y)}" stroke="${COLORS.grid}"${tick.label ? '' : ' stroke-dasharray="2,4"'}/>`);
    out.push(`<line x1="${LEFT - (tick.label ? 5 : 3)}" y1="${fixed(y)}" x2="${LEFT}" y2="${fixed(y)}" stroke="${COLORS.axis}"/>`);
    if (tick.label) out.push(tick.label(LEFT - 8, y + 4));
  }
  for (const w of widths) {
    const x = xOf(w);
    out.push(`<line x1="${fixed(x)}" y1="${panel.top}" x2="${fixed(x)}" y2="${bottom}" stroke="${COLORS.grid}"/>`);
    out.push(`<line x1="${fixed(x)}" y1="${bottom}" x2="${fixed(x)}" y2="${bottom + 5}" stroke="${COLORS.axis}"/>`);
    out.push(`<text x="${fixed(x)}" y="${bottom + 19}" text-anchor="middle" font-size="12" fill="${COLORS.text}">${w}</text>`);
  }
  const yMid = panel.top + panel.height / 2;
  out.push(`<text x="22" y="${fixed(yMid)}" transform="rotate(-90 22 ${fixed(yMid)})" text-anchor="middle" font-size="13" fill="${COLORS.text}">${escapeXml(yTitle)}</text>`);
  if (reference !== undefined) {
    const y = yOf(reference);
    out.push(`<line x1="${LEFT}" y1="${fixed(y)}" x2="${right}" y2="${fixed(y)}" stroke="${COLORS.muted}" stroke-width="1.2" stroke-dasharray="6,4"/>`);
  }
  // Seeds side by side around each width, so points of one width do not hide each other.
  const seeds = [...new Set(rows.map((r) => r.seed))].sort((a, b) => a - b);
  const jitter = (seed: number) => (seeds.indexOf(seed) - (seeds.length - 1) / 2) * Math.min(5, 24 / Math.max(1, seeds.length));
  series.forEach((s) => {
    const mine = s.member ? rows.filter(s.member) : rows;
    const medians = widths
      .map((w) => {
        const vs = mine.filter((r) => r.width === w && !r.flags).map(s.value).filter((v): v is number => v !== null && Number.isFinite(v) && v > 0);
        return vs.length ? ([xOf(w), yOf(median(vs))] as const) : null;
      })
      .filter((p): p is readonly [number, number] => p !== null);
    if (medians.length > 1)
      out.push(`<polyline points="${medians.map(([x, y]) => `${fixed(x)},${fixed(y)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="7,4"' : ''} opacity="0.9"/>`);
    for (const r of mine) {
      const v = s.value(r);
      if (v === null || !Number.isFinite(v) || v <= 0) continue;
      out.push(marker(s.marker, xOf(r.width) + jitter(r.seed), yOf(v), r.flags ? FLAGGED_COLOR : s.color, r.converged && !r.flags));
    }
  });
  return out.join('\n');
}

function legend(entries: Array<{ label: string; color: string; marker: Series['marker'] | 'line' | 'hollow' }>, x: number, y: number): string {
  // Entries fill rows left to right; extra rows go above, so the panel below keeps its place.
  const rows: Array<Array<{ entry: (typeof entries)[number]; cx: number }>> = [[]];
  let cx = x;
  for (const e of entries) {
    const width = 34 + e.label.length * 7;
    if (cx + width > WIDTH - RIGHT && (rows[rows.length - 1] as unknown[]).length > 0) {
      rows.push([]);
      cx = x;
    }
    (rows[rows.length - 1] as Array<{ entry: (typeof entries)[number]; cx: number }>).push({ entry: e, cx });
    cx += width;
  }
  const out: string[] = [];
  rows.forEach((row, i) => {
    const ry = y - 16 * (rows.length - 1 - i);
    for (const { entry: e, cx: ex } of row) {
      if (e.marker === 'line') out.push(`<line x1="${ex - 8}" y1="${ry - 4}" x2="${ex + 10}" y2="${ry - 4}" stroke="${e.color}" stroke-width="2"/>`);
      else if (e.marker === 'hollow') out.push(marker('circle', ex, ry - 4, e.color, false));
      else out.push(marker(e.marker, ex, ry - 4, e.color, true));
      out.push(`<text x="${ex + 16}" y="${ry}" font-size="12" fill="${COLORS.text}">${escapeXml(e.label)}</text>`);
    }
  });
  return out.join('\n');
}

export function sweepPlotSvg(rows: readonly SweepResult[], options: PlotOptions = {}): string {
  const data = [...rows].sort((a, b) => a.width - b.width || a.seed - b.seed);
  const widths = [...new Set(data.map((r) => r.width))].sort((a, b) => a - b);
  const height = 720;
  const top: Panel = { top: 96, height: 330 };
  const bottom: Panel = { top: 500, height: 160 };
  const right = WIDTH - RIGHT;
  const [wMin, wMax] = widths.length ? [widths[0] as number, widths[widths.length - 1] as number] : [1, 2];
  const lx0 = Math.log2(wMin) - (wMax === wMin ? 1 : 0.35);
  const lx1 = Math.log2(wMax) + (wMax === wMin ? 1 : 0.35);
  const xOf = (w: number) => LEFT + ((Math.log2(w) - lx0) / (lx1 - lx0)) * (right - LEFT);
  const seeds = new Set(data.map((r) => r.seed)).size;
  const unconverged = data.filter((r) => !r.converged).length;
  const flagged = data.filter((r) => r.flags).length;
  const groups = plotGroups(data);
  const several = groups.labels.length > 1;
  const colorOf = (i: number) => PALETTE[i % PALETTE.length] as string;
  const lambdaSeries: Series[] = several
    ? groups.labels.map((g, i) => ({ label: g, color: colorOf(i), marker: 'circle', value: (r) => r.lambdaMax, member: (r) => groups.of(r) === g }))
    : [{ label: 'lambda_max', color: COLORS.lambda, marker: 'circle', value: (r) => r.lambdaMax }];
  const boundSeries: Series[] = several
    ? groups.labels.map((g, i) => ({ label: g, color: colorOf(i), marker: 'square', dashed: true, value: (r) => r.bound, member: (r) => groups.of(r) === g }))
    : [{ label: 'bound', color: COLORS.bound, marker: 'square', dashed: true, value: (r) => r.bound }];
  const ratioSeries: Series[] = several
    ? groups.labels.map((g, i) => ({ label: g, color: colorOf(i), marker: 'diamond', value: (r) => r.ratio, member: (r) => groups.of(r) === g }))
    : [{ label: 'ratio', color: COLORS.ratio, marker: 'diamond', value: (r) => r.ratio }];
  const title = options.title ?? defaultTitle(data);
  const subtitle = `${data.length} trained networks (${seeds} seed${seeds === 1 ? '' : 's'} per width); points: seeds, lines: median per width of the unflagged points; log axes`;

  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="30" font-size="17" font-weight="bold" fill="${COLORS.text}">${escapeXml(title)}</text>`,
    `<text x="${LEFT}" y="50" font-size="12" fill="${COLORS.muted}">${escapeXml(subtitle)}</text>`,
    several
      ? legend(
          [
            ...groups.labels.map((g, i) => ({ label: g, color: colorOf(i), marker: 'line' as const })),
            { label: 'lambda_max (solid)', color: COLORS.muted, marker: 'circle' as const },
            { label: 'WS bound (dashed)', color: COLORS.muted, marker: 'square' as const },
            ...(flagged ? [{ label: `grey hollow: flagged (${flagged})`, color: FLAGGED_COLOR, marker: 'hollow' as const }] : []),
          ],
          LEFT + 10,
          80,
        )
      : legend(
          [
            { label: 'lambda_max (exact)', color: COLORS.lambda, marker: 'circle' },
            { label: 'Wolkowicz\u2013Styan bound', color: COLORS.bound, marker: 'square' },
            { label: 'median per width', color: COLORS.muted, marker: 'line' },
            ...(flagged ? [{ label: `grey hollow: flagged (${flagged})`, color: FLAGGED_COLOR, marker: 'hollow' as const }] : []),
            ...(unconverged && !flagged ? [{ label: 'hollow: not converged', color: COLORS.muted, marker: 'hollow' as const }] : []),
          ],
          LEFT + 10,
          80,
        ),
    `<g id="sharpness">`,
    drawPanel(
      data,
      [...boundSeries, ...lambdaSeries],
      top,
      xOf,
      widths,
      'largest Hessian eigenvalue',
      { scale: 'log' },
    ),
    `</g>`,
    `<text x="${LEFT}" y="${bottom.top - 14}" font-size="13" font-weight="bold" fill="${COLORS.text}">How tight is the bound: WS bound / lambda_max</text>`,
    `<text x="${right}" y="${bottom.top - 14}" text-anchor="end" font-size="12" fill="${COLORS.muted}">dashed line: 1 (bound = lambda_max)</text>`,
    `<g id="ratio">`,
    drawPanel(data, ratioSeries, bottom, xOf, widths, 'bound / lambda_max', {
      scale: 'auto',
      reference: 1,
    }),
    `</g>`,
    `<text x="${(LEFT + right) / 2}" y="${bottom.top + bottom.height + 42}" text-anchor="middle" font-size="13" fill="${COLORS.text}">hidden width (units per hidden layer, log scale)</text>`,
    `</svg>`,
  ];
  return `${parts.join('\n')}\n`;
}
