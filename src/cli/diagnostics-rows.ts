/** Table rows for a point's diagnostics and the regularised objective (analyze, bound). */
import type { Diagnostics } from '../analysis/diagnostics.js';
import type { ObjectiveCurvature } from '../analysis/point-diagnostics.js';
import { fmt } from './format.js';

/** relu / leaky_relu only: how near the point is to a kink, and dead units. */
export function kinkRows(d: Diagnostics): Array<[string, string]> {
  if (d.nearKinkFraction === null) return [];
  return [
    ['near a kink', `${(100 * d.nearKinkFraction).toPrecision(3)}% of (sample, unit) pairs (closest: ${fmt(d.closestKink, 3)} relative)`],
    ['dead units', `${String(d.deadUnits)} (sigma' = 0 on every training sample)`],
  ];
}

export function diagnosticsRows(d: Diagnostics, objective: ObjectiveCurvature | null): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  if (objective) {
    const from = objective.source === 'model' ? ' saved with the model' : '';
    rows.push([
      `objective (wd ${objective.weightDecay}${from})`,
      `lambda_max ${objective.lambdaMax === null ? '—' : fmt(objective.lambdaMax)}, WS bound ${objective.bound === null ? '—' : fmt(objective.bound)}   (H + wd I)`,
    ]);
    if (objective.hsr)
      rows.push(['trained with HSR', `beta ${objective.hsr.beta} x the WS ${objective.hsr.target} bound: the objective's Hessian also holds the penalty's, not included above`]);
  }
  rows.push(
    ['parameter norm', fmt(d.parameterNorm)],
    ['scale derivative', `${fmt(d.scaleDerivative, 3)}   (theta.grad F / F)`],
    ['saturated', `${(100 * d.saturatedFraction).toFixed(1)}% of (sample, unit) pairs; ${d.collapsedCells} collapsed cell(s)`],
    ...kinkRows(d),
    ['lambda_2 / lambda_1', fmt(d.lambdaRatio, 4)],
    ['effective rank', `${fmt(d.effectiveRank, 4)}   (tr(H)^2 / tr(H^2))`],
    ['flags', d.flags.length ? d.flags.join(', ') : 'none'],
  );
  return rows;
}
