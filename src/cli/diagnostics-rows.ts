/** Table rows for a point's diagnostics and the regularised objective (analyze, bound). */
import type { Diagnostics } from '../analysis/diagnostics.js';
import type { ObjectiveCurvature } from '../analysis/point-diagnostics.js';
import { fmt } from './format.js';

export function diagnosticsRows(d: Diagnostics, objective: ObjectiveCurvature | null): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  if (objective)
    rows.push([
      `objective (wd ${objective.weightDecay})`,
      `lambda_max ${objective.lambdaMax === null ? '—' : fmt(objective.lambdaMax)}, WS bound ${objective.bound === null ? '—' : fmt(objective.bound)}   (H + wd I)`,
    ]);
  rows.push(
    ['parameter norm', fmt(d.parameterNorm)],
    ['scale derivative', `${fmt(d.scaleDerivative, 3)}   (theta.grad F / F)`],
    ['saturated', `${(100 * d.saturatedFraction).toFixed(1)}% of (sample, unit) pairs; ${d.collapsedCells} collapsed cell(s)`],
    ['lambda_2 / lambda_1', fmt(d.lambdaRatio, 4)],
    ['effective rank', `${fmt(d.effectiveRank, 4)}   (tr(H)^2 / tr(H^2))`],
    ['flags', d.flags.length ? d.flags.join(', ') : 'none'],
  );
  return rows;
}
