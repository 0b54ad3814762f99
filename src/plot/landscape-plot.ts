/**
 * Loss landscapes as SVG: 1D curves (one per direction, with the quadratic model of eigenvector
 * directions dashed; for relu nets the stretch where no sample crosses a kink shaded) or a 2D
 * filled contour plot (marching squares by d3-contour) with a color bar. Pure.
 */
import { contours } from 'd3-contour';
import type { LandscapeResult } from '../analysis/landscape.js';
import { COLORS, el, header, label, linearAxis, logAxis, Panel, px, svgDocument, textEl, tickLabel, type LegendEntry, type Markup } from './svg.js';

export interface LandscapePlotOptions {
  title?: string;
}

const CURVE_COLORS = [COLORS.blue, COLORS.orange, COLORS.green, COLORS.purple, COLORS.grey];

// Viridis at 5 stops, interpolated linearly in RGB.
const VIRIDIS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
] as const;

function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i] as readonly number[];
  const b = VIRIDIS[i + 1] as readonly number[];
  const c = a.map((v, k) => Math.round(v + f * ((b[k] as number) - v)));
  return `rgb(${c.join(',')})`;
}

function curvesSvg(r: LandscapeResult, title: string): string {
  const width = 860;
  const curves = r.curves ?? [];
  const all = curves.flatMap((c) => c.loss).filter(Number.isFinite);
  const radii = curves.map((c) => c.smoothRadius).filter((v): v is number => v !== null);
  const smooth = radii.length ? Math.min(...radii) : null;
  const entries: LegendEntry[] = smooth === null ? [] : [{ text: `no sample crosses a kink (|a| <= ${label(smooth)})`, color: COLORS.green, kind: 'band' }];
  entries.push(...curves.map((c, i) => ({
    text: c.eigenvalue === null ? c.label : `${c.label} (\u03bb = ${label(c.eigenvalue)})`,
    color: CURVE_COLORS[i % CURVE_COLORS.length] as string,
  })));
  if (curves.some((c) => c.quadratic)) entries.push({ text: 'quadratic model', color: COLORS.muted, kind: 'dashed' });
  const subtitle = `loss at the parameters: ${label(r.loss, 6)} (dot); P = ${r.parameters}, ${r.samples} samples; ${r.alphas.length} points in [-${label(r.radius)}, ${label(r.radius)}]`;
  const head = header(width, title, subtitle, entries);
  const x = linearAxis(-r.radius, r.radius, 8, true);
  const panel = new Panel(100, head.bottom + 16, width - 140, 300, x, linearAxis(Math.min(...all, r.loss), Math.max(...all, r.loss), 6));
  const body: Array<Markup | null> = [head.markup, panel.frame('step along the direction (parameter units)', 'loss')];
  // relu / leaky_relu: shade where no curve's line has crossed a kink (the a.e. Hessian applies).
  if (smooth !== null) body.push(panel.band(-smooth, smooth, COLORS.green));
  curves.forEach((c, i) => {
    const color = CURVE_COLORS[i % CURVE_COLORS.length] as string;
    if (c.quadratic) {
      // The quadratic model leaves the frame quickly: keep the part inside the loss range.
      const [lo, hi] = [panel.y.min, panel.y.max];
      const inside = r.alphas.map((a, j) => [a, (c.quadratic as number[])[j] as number] as const).map(([a, v]) => [a, v >= lo && v <= hi ? v : NaN] as const);
      body.push(panel.line(inside, color, { 'stroke-dasharray': '5,4', opacity: 0.7, 'stroke-width': 1.4 }));
    }
    body.push(panel.line(r.alphas.map((a, j) => [a, c.loss[j] as number] as const), color));
  });
  body.push(el('circle', { cx: panel.px(0), cy: panel.py(r.loss), r: 4, fill: COLORS.text }));
  return svgDocument(width, panel.bottom + Panel.X_TITLE_OFFSET + 16, title, body);
}

function surfaceSvg(r: LandscapeResult, title: string): string {
  const width = 760;
  const surface = r.surface as number[][];
  const betas = r.betas as number[];
  const n = r.alphas.length;
  const m = betas.length;
  const values = surface.flat();
  const min = Math.min(...values);
  const max = Math.max(...values);
  // Log-spaced levels when the loss spans more than a decade, so the basin is resolved too.
  const logLevels = min > 0 && max / min > 10;
  const levels = 16;
  const thresholds = Array.from({ length: levels }, (_, i) => (logLevels ? min * (max / min) ** (i / levels) : min + ((max - min) * i) / levels));
  const h = (2 * r.radius) / (n - 1);
  const axes = (r.axes ?? []).map((a) => (a.eigenvalue === null ? a.label : `${a.label}: \u03bb = ${label(a.eigenvalue)}`)).join('; ');
  const subtitle = `loss at the parameters (cross): ${label(r.loss, 6)}; range ${label(min, 4)} to ${label(max, 4)}${logLevels ? ' (log-spaced levels)' : ''}; ${n} x ${m} points in [-${label(r.radius)}, ${label(r.radius)}]^2${axes ? `\n${axes}` : ''}`;
  const head = header(width, title, subtitle);
  const x = linearAxis(-r.radius - h / 2, r.radius + h / 2, 6, true);
  const y = linearAxis(-r.radius - h / 2, r.radius + h / 2, 6, true);
  const side = 500;
  // Room above the panel for the colour bar's title.
  const panel = new Panel(110, head.bottom + 30, side, side, x, y);
  // d3-contour: value (i, j) fills the unit cell [i, i+1] x [j, j+1] of a grid of n x m cells.
  const cellX = (gx: number) => panel.px(-r.radius - h / 2 + gx * h);
  const cellY = (gy: number) => panel.py(-r.radius - h / 2 + gy * h);
  const shapes = contours().size([n, m]).thresholds(thresholds)(values);
  const position = (v: number) => (logLevels ? Math.log(v / min) / Math.log(max / min) : (v - min) / (max - min || 1));
  const body: Markup[] = [head.markup, panel.frame(`${r.axes?.[0]?.label ?? 'direction 1'}`, `${r.axes?.[1]?.label ?? 'direction 2'}`)];
  const paths: Markup[] = [];
  for (const shape of shapes) {
    const d = shape.coordinates
      .map((polygon) => polygon.map((ring) => `M${ring.map(([gx, gy]) => `${px(cellX(gx))},${px(cellY(gy))}`).join('L')}Z`).join(''))
      .join('');
    if (d) paths.push(el('path', { d, fill: viridis(position(shape.value)) }));
  }
  body.push(el('clipPath', { id: 'plot-area' }, [el('rect', { x: panel.left, y: panel.top, width: panel.width, height: panel.height })]));
  body.push(el('g', { 'clip-path': 'url(#plot-area)', stroke: 'white', 'stroke-width': 0.4, 'stroke-opacity': 0.5 }, paths));
  // The parameters themselves.
  const cx = panel.px(0);
  const cy = panel.py(0);
  body.push(el('path', { d: `M${px(cx - 7)},${px(cy)}L${px(cx + 7)},${px(cy)}M${px(cx)},${px(cy - 7)}L${px(cx)},${px(cy + 7)}`, stroke: 'white', 'stroke-width': 2.5 }));
  body.push(el('path', { d: `M${px(cx - 6)},${px(cy)}L${px(cx + 6)},${px(cy)}M${px(cx)},${px(cy - 6)}L${px(cx)},${px(cy + 6)}`, stroke: COLORS.orange, 'stroke-width': 1.5 }));
  // Colour bar, with ticks from the range of the values (log or linear like the levels).
  const barX = panel.right + 40;
  const stripes = 64;
  for (let i = 0; i < stripes; i++) {
    const yTop = panel.bottom - ((i + 1) / stripes) * panel.height;
    const v = logLevels ? min * (max / min) ** ((i + 0.5) / stripes) : min + (max - min) * ((i + 0.5) / stripes);
    body.push(el('rect', { x: barX, y: yTop, width: 18, height: panel.height / stripes + 0.5, fill: viridis(position(v)) }));
  }
  const barAxis = logLevels ? logAxis(min, max, 0) : linearAxis(min, max, 6, true);
  let lastY = Infinity;
  for (const t of barAxis.ticks) {
    if (t.text === null || t.value < min * (1 - 1e-12) || t.value > max * (1 + 1e-12)) continue;
    const yy = panel.bottom - position(t.value) * panel.height;
    if (lastY - yy < 14) continue;
    lastY = yy;
    body.push(el('line', { x1: barX + 18, y1: yy, x2: barX + 23, y2: yy, stroke: COLORS.axis }));
    body.push(tickLabel(label(t.value, 3), { x: barX + 26, y: yy + 4, 'font-size': 11, fill: COLORS.text }, 11).markup);
  }
  body.push(textEl('text', { x: barX, y: panel.top - 10, 'font-size': 12, fill: COLORS.text }, 'loss'));
  return svgDocument(width, panel.bottom + Panel.X_TITLE_OFFSET + 16, title, body);
}

export function landscapePlotSvg(r: LandscapeResult, options: LandscapePlotOptions = {}): string {
  const what = r.directions === 'eigen' ? 'top Hessian eigenvector' : 'filter-normalized random direction';
  const title = options.title ?? (r.dimensions === 1 ? `Loss along the ${what}${(r.curves?.length ?? 1) > 1 ? 's' : ''}` : `Loss on the plane of two ${what}s`);
  return r.dimensions === 1 ? curvesSvg(r, title) : surfaceSvg(r, title);
}
