/**
 * Loss landscapes as SVG: 1D curves (one per direction, with the quadratic model of eigenvector
 * directions dashed; for relu nets the stretch where no sample crosses a kink shaded) or a 2D filled contour plot (marching squares by d3-contour) with a color
 * bar. Pure.
 */
import { contours } from 'd3-contour';
import type { LandscapeResult } from '../analysis/landscape.js';
import { COLORS, escapeXml, label, legend, linearAxis, logAxis, Panel, px, svgDocument, type LegendEntry } from './svg.js';

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
  const height = 500;
  const curves = r.curves ?? [];
  const all = curves.flatMap((c) => c.loss);
  const x = linearAxis(-r.radius, r.radius, 8, true);
  const panel = new Panel(100, 110, width - 140, 300, x, linearAxis(Math.min(...all), Math.max(...all), 6));
  const body: string[] = [panel.frame('step along the direction (parameter units)', 'loss')];
  const entries: LegendEntry[] = [];
  // relu / leaky_relu: shade where no curve's line has crossed a kink (the a.e. Hessian applies).
  const radii = curves.map((c) => c.smoothRadius).filter((v): v is number => v !== null);
  if (radii.length) {
    const smooth = Math.min(...radii);
    body.push(panel.band(-smooth, smooth, COLORS.green));
    entries.push({ text: `no sample crosses a kink (|a| <= ${label(smooth)})`, color: COLORS.green, kind: 'band' });
  }
  curves.forEach((c, i) => {
    const color = CURVE_COLORS[i % CURVE_COLORS.length] as string;
    if (c.quadratic) {
      // The quadratic model leaves the frame quickly: keep the part inside the loss range.
      const [lo, hi] = [panel.y.min, panel.y.max];
      body.push(panel.line(r.alphas.map((a, j) => [a, (c.quadratic as number[])[j] as number] as const).map(([a, v]) => [a, v >= lo && v <= hi ? v : NaN] as const), color, 'stroke-dasharray="5,4" opacity="0.7" stroke-width="1.4"'));
    }
    body.push(panel.line(r.alphas.map((a, j) => [a, c.loss[j] as number] as const), color));
    entries.push({ text: c.eigenvalue === null ? c.label : `${c.label} (\u03bb = ${label(c.eigenvalue)})`, color });
  });
  if (curves.some((c) => c.quadratic)) entries.push({ text: 'quadratic model', color: COLORS.muted, kind: 'dashed' });
  body.push(legend(entries, panel.left, 80));
  body.push(`<circle cx="${px(panel.px(0))}" cy="${px(panel.py(r.loss))}" r="4" fill="${COLORS.text}"/>`);
  const subtitle = `loss at the parameters: ${label(r.loss, 6)} (dot); P = ${r.parameters}, ${r.samples} samples; ${r.alphas.length} points in [-${label(r.radius)}, ${label(r.radius)}]`;
  return svgDocument(width, height, title, subtitle, body);
}

function surfaceSvg(r: LandscapeResult, title: string): string {
  const width = 760;
  const height = 700;
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
  const x = linearAxis(-r.radius - h / 2, r.radius + h / 2, 6, true);
  const y = linearAxis(-r.radius - h / 2, r.radius + h / 2, 6, true);
  const side = 500;
  const panel = new Panel(110, 110, side, side, x, y);
  // d3-contour: value (i, j) fills the unit cell [i, i+1] x [j, j+1] of a grid of n x m cells.
  const cellX = (gx: number) => panel.px(-r.radius - h / 2 + gx * h);
  const cellY = (gy: number) => panel.py(-r.radius - h / 2 + gy * h);
  const shapes = contours().size([n, m]).thresholds(thresholds)(values);
  const position = (v: number) => (logLevels ? Math.log(v / min) / Math.log(max / min) : (v - min) / (max - min || 1));
  const body: string[] = [panel.frame(`${r.axes?.[0]?.label ?? 'direction 1'}`, `${r.axes?.[1]?.label ?? 'direction 2'}`)];
  body.push(`<clipPath id="plot-area"><rect x="${px(panel.left)}" y="${px(panel.top)}" width="${px(panel.width)}" height="${px(panel.height)}"/></clipPath>`);
  body.push(`<g clip-path="url(#plot-area)" stroke="white" stroke-width="0.4" stroke-opacity="0.5">`);
  for (const shape of shapes) {
    const d = shape.coordinates
      .map((polygon) => polygon.map((ring) => `M${ring.map(([gx, gy]) => `${px(cellX(gx))},${px(cellY(gy))}`).join('L')}Z`).join(''))
      .join('');
    if (d) body.push(`<path d="${d}" fill="${viridis(position(shape.value))}"/>`);
  }
  body.push(`</g>`);
  // The parameters themselves.
  const cx = panel.px(0);
  const cy = panel.py(0);
  body.push(`<path d="M${px(cx - 7)},${px(cy)}L${px(cx + 7)},${px(cy)}M${px(cx)},${px(cy - 7)}L${px(cx)},${px(cy + 7)}" stroke="white" stroke-width="2.5"/>`);
  body.push(`<path d="M${px(cx - 6)},${px(cy)}L${px(cx + 6)},${px(cy)}M${px(cx)},${px(cy - 6)}L${px(cx)},${px(cy + 6)}" stroke="${COLORS.orange}" stroke-width="1.5"/>`);
  // Color bar.
  const barX = panel.right + 40;
  const bar = new Panel(barX, panel.top, 18, side, linearAxis(0, 1, 1), logLevels ? logAxis(min, max) : linearAxis(min, max, 6));
  const stripes = 64;
  for (let i = 0; i < stripes; i++) {
    const t0 = i / stripes;
    const yTop = bar.bottom - ((i + 1) / stripes) * bar.height;
    const v = logLevels ? min * (max / min) ** ((i + 0.5) / stripes) : min + (max - min) * ((i + 0.5) / stripes);
    body.push(`<rect x="${px(barX)}" y="${px(yTop)}" width="18" height="${px(bar.height / stripes + 0.5)}" fill="${viridis(position(v))}" data-t="${t0.toFixed(3)}"/>`);
  }
  const barTicks = (logLevels ? logAxis(min, max) : linearAxis(min, max, 6)).ticks.filter((t) => t.text !== null && t.value >= min * (1 - 1e-12) && t.value <= max * (1 + 1e-12));
  for (const t of barTicks) {
    const yy = bar.bottom - position(t.value) * bar.height;
    body.push(`<line x1="${px(barX + 18)}" y1="${px(yy)}" x2="${px(barX + 23)}" y2="${px(yy)}" stroke="${COLORS.axis}"/><text x="${px(barX + 26)}" y="${px(yy + 4)}" font-size="11" fill="${COLORS.text}">${escapeXml(label(t.value, 3))}</text>`);
  }
  body.push(`<text x="${px(barX)}" y="${px(panel.top - 10)}" font-size="12" fill="${COLORS.text}">loss</text>`);
  const axes = (r.axes ?? []).map((a) => (a.eigenvalue === null ? a.label : `${a.label}: \u03bb = ${label(a.eigenvalue)}`)).join('; ');
  const subtitle = `loss at the parameters (cross): ${label(r.loss, 6)}; range ${label(min, 4)} to ${label(max, 4)}${logLevels ? ' (log-spaced levels)' : ''}; ${n} x ${m} points in [-${label(r.radius)}, ${label(r.radius)}]^2\n${axes}`;
  return svgDocument(width, height, title, subtitle, body);
}

export function landscapePlotSvg(r: LandscapeResult, options: LandscapePlotOptions = {}): string {
  const what = r.directions === 'eigen' ? 'top Hessian eigenvector' : 'filter-normalized random direction';
  const title = options.title ?? (r.dimensions === 1 ? `Loss along the ${what}${(r.curves?.length ?? 1) > 1 ? 's' : ''}` : `Loss on the plane of two ${what}s`);
  return r.dimensions === 1 ? curvesSvg(r, title) : surfaceSvg(r, title);
}
