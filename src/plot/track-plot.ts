/**
 * Sharpness along training as an SVG: lambda_max and the WS bound (top), the loss and the gradient
 * norm (below), against the training step, all on log axes. Pure.
 */
import type { SharpnessTrack } from '../analysis/tracking.js';
import { COLORS, el, fragment, header, label, linearAxis, logAxis, Panel, svgDocument, type Markup } from './svg.js';

export interface TrackPlotOptions {
  title?: string;
}

function positive(values: number[]): number[] {
  return values.filter((v) => Number.isFinite(v) && v > 0);
}

function markers(panel: Panel, points: Array<readonly [number, number]>, color: string, hollow: boolean[] = []): Markup {
  return fragment(
    points.map(([x, y], i) =>
      Number.isFinite(y) && y > 0 ? el('circle', { cx: panel.px(x), cy: panel.py(y), r: 3.2, fill: hollow[i] ? 'white' : color, stroke: color, 'stroke-width': 1.4 }) : null,
    ),
  );
}

/** A log axis over the positive values, or a placeholder decade when there are none. */
function valueAxis(values: number[]) {
  return values.length ? logAxis(Math.min(...values), Math.max(...values)) : logAxis(1e-3, 1);
}

export function trackPlotSvg(track: SharpnessTrack, options: TrackPlotOptions = {}): string {
  const width = 860;
  const pts = track.points;
  const steps = pts.map((p) => p.step);
  const x = linearAxis(Math.min(...steps), Math.max(...steps, Math.min(...steps) + 1), 8, true);
  const unconverged = pts.filter((p) => !p.lanczosConverged).length;
  const last = pts.at(-1);
  const subtitle = `every ${track.every} steps, ${pts.length} points${unconverged ? `, ${unconverged} Lanczos run(s) not converged (hollow)` : ''}; final lambda_max ${last ? label(last.lambdaMax) : '-'}, WS bound ${last ? label(last.bound) : '-'} (${track.boundMethod} traces)`;
  const title = options.title ?? 'Sharpness along training';
  const head = header(width, title, subtitle, [
    { text: 'lambda_max (Lanczos)', color: COLORS.blue },
    { text: `WS bound${track.boundEstimated ? ' (Hutch++ estimate)' : ''}`, color: COLORS.orange, kind: 'dashed' },
    { text: 'loss', color: COLORS.green },
    { text: 'gradient norm', color: COLORS.purple, kind: 'dashed' },
  ]);
  const body: Markup[] = [head.markup];

  const top = new Panel(100, head.bottom + 16, width - 140, 270, x, valueAxis(positive(pts.flatMap((p) => [p.lambdaMax, p.bound]))));
  body.push(top.frame('', 'largest Hessian eigenvalue'));
  body.push(top.line(pts.map((p) => [p.step, p.bound] as const), COLORS.orange, { 'stroke-dasharray': '7,4' }));
  body.push(top.line(pts.map((p) => [p.step, p.lambdaMax] as const), COLORS.blue));
  body.push(markers(top, pts.map((p) => [p.step, p.lambdaMax] as const), COLORS.blue, pts.map((p) => !p.lanczosConverged)));
  const negative = pts.filter((p) => !(p.lambdaMax > 0)).length;
  if (negative) body.push(top.note(`${negative} point(s) with lambda_max <= 0 not shown (log axis)`));

  const bottom = new Panel(100, top.bottom + 40, width - 140, 190, x, valueAxis(positive(pts.flatMap((p) => [p.loss, p.gradNorm]))));
  body.push(bottom.frame('training step', 'loss, gradient norm'));
  body.push(bottom.line(pts.map((p) => [p.step, p.loss] as const), COLORS.green));
  body.push(bottom.line(pts.map((p) => [p.step, p.gradNorm] as const), COLORS.purple, { 'stroke-dasharray': '4,3' }));
  body.push(markers(bottom, pts.map((p) => [p.step, p.loss] as const), COLORS.green));
  return svgDocument(width, bottom.bottom + Panel.X_TITLE_OFFSET + 16, title, body);
}
