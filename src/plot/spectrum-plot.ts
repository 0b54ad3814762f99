/**
 * The spectral density as an SVG: density (log axis) against the eigenvalue, with lambda_max,
 * lambda_min and the Wolkowicz–Styan intervals marked. Readable without the JSON: the method,
 * its settings and the estimated error are in the subtitle. Pure.
 */
import type { SpectrumResult } from '../analysis/spectrum.js';
import { COLORS, footnote, header, label, linearAxis, logAxis, Panel, svgDocument, type LegendEntry, type Markup } from './svg.js';

export interface SpectrumPlotOptions {
  title?: string;
}

/** Densities below this fraction of the peak are drawn at the floor (the Gaussian tails go to 0). */
export const DENSITY_FLOOR = 1e-8;

export function spectrumPlotSvg(r: SpectrumResult, options: SpectrumPlotOptions = {}): string {
  const width = 860;
  // A density that is zero everywhere (it never is for a Gaussian kernel) still gets a valid axis.
  const peak = Math.max(...r.density) > 0 ? Math.max(...r.density) : 1;
  const floor = peak * DENSITY_FLOOR;
  const clipped = r.density.map((v) => Math.max(v, floor));
  const lo = Math.min(r.grid[0] as number, r.lambdaMin);
  let hi = Math.max(r.grid.at(-1) as number, r.lambdaMax);
  if (r.bound) hi = Math.max(hi, r.bound.upper + 0.03 * (r.bound.upper - lo));

  const entries: LegendEntry[] = [{ text: 'density', color: COLORS.blue }];
  if (r.bound) entries.push({ text: 'WS interval of lambda_max', color: COLORS.orange, kind: 'band' }, { text: 'WS interval of lambda_min', color: COLORS.purple, kind: 'band' });
  const envelope = r.slq !== null && r.slq !== undefined && r.slq.probes > 1;
  if (envelope) entries.push({ text: '+2 std. errors (probes)', color: COLORS.blue, kind: 'dashed' });
  entries.push({ text: r.method === 'dense' ? 'lambda_max / lambda_min (exact)' : 'extreme Ritz values', color: COLORS.green });
  if (r.bound) entries.push({ text: 'WS upper bound', color: COLORS.orange, kind: 'dashed' });
  const method =
    r.method === 'dense'
      ? `exact eigenvalues (dense, P = ${r.parameters})`
      : `stochastic Lanczos quadrature: ${r.slq?.probes} probes x ${r.slq?.steps} steps (P = ${r.parameters})`;
  const mean = r.meanStdError === null ? `mean tr(H)/P = ${label(r.mean)}` : `mean ${label(r.mean)} \u00b1 ${label(r.meanStdError, 2)} (std. error)`;
  const subtitle = `${method}; Gaussian kernel width ${label(r.kernelWidth, 3)}\nintegral ${r.integral.toFixed(6)}; ${mean}; densities below ${DENSITY_FLOOR} x peak drawn at that floor`;
  const title = options.title ?? 'Hessian eigenvalue density';
  const head = header(width, title, subtitle, entries);

  const panel = new Panel(100, head.bottom + 16, width - 140, 320, linearAxis(lo, hi, 7), logAxis(floor, peak, 0.02));
  const body: Array<Markup | null> = [head.markup];
  if (r.bound) {
    // Where WS places lambda_max and lambda_min (the latter may reach past the left edge).
    body.push(panel.band(r.bound.lowerOfMax, r.bound.upper, COLORS.orange, 0.13));
    body.push(panel.band(r.bound.lowerOfMin, r.bound.upperOfMin, COLORS.purple, 0.1));
  }
  body.push(panel.frame('eigenvalue of the Hessian', 'density (log scale)'));
  if (envelope) {
    // Mean +/- 2 standard errors across probes, as a light envelope.
    const se = r.slq?.densityStdError as number[];
    body.push(panel.line(r.grid.map((t, i) => [t, Math.max(floor, (r.density[i] as number) + 2 * (se[i] as number))] as const), COLORS.blue, { opacity: 0.35, 'stroke-width': 1, 'stroke-dasharray': '6,4' }));
  }
  body.push(panel.line(r.grid.map((t, i) => [t, clipped[i] as number] as const), COLORS.blue));
  body.push(panel.vertical(r.lambdaMax, COLORS.green, `\u03bbmax ${label(r.lambdaMax)}`, '', 0));
  body.push(panel.vertical(r.lambdaMin, COLORS.green, `\u03bbmin ${label(r.lambdaMin)}`, '5,3', 1));
  if (r.bound) {
    body.push(panel.vertical(r.bound.upper, COLORS.orange, `WS bound ${label(r.bound.upper)}`, '6,4', 2));
    if (r.bound.lowerOfMin < panel.x.min) body.push(panel.note(`\u2190 WS lower bound of \u03bbmin ${label(r.bound.lowerOfMin)}`, COLORS.purple));
  }
  const bottomNote =
    r.bound === null
      ? 'WS bound not computed'
      : `WS bound from ${r.traceSource === 'hutch++' ? 'Hutch++ trace estimates' : r.traceSource === 'dense' ? 'exact traces of the dense Hessian' : 'closed-form traces'}: tr(H) = ${label(r.trace ?? NaN, 6)}, tr(H^2) = ${label(r.traceOfSquare ?? NaN, 6)}`;
  const foot = footnote(bottomNote, width, panel.bottom + Panel.X_TITLE_OFFSET + 14);
  body.push(foot.markup);
  return svgDocument(width, panel.bottom + Panel.X_TITLE_OFFSET + 14 + foot.height + 14, title, body);
}
