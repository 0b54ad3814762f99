/**
 * Diagnostics of an analysed point (analyze, bound): one extra loss/gradient evaluation on the
 * training data, plus what the caller already knows (eigenvalues, traces). Also the regularised
 * objective's numbers: with weight decay wd the objective's Hessian is H + wd I, so its lambda_max
 * and its WS bound (m shifts by wd, s is unchanged) are the cross-entropy's plus exactly wd.
 */
import type { KernelBackend } from '../backend/types.js';
import { fail } from '../errors.js';
import type { ProblemSpec } from '../backend/types.js';
import type { Dataset, Model } from '../types.js';
import { computeDiagnostics, type Diagnostics } from './diagnostics.js';

export interface ObjectiveCurvature {
  weightDecay: number;
  /** Where weightDecay came from: the weightDecay option, or the objective the model file records. */
  source: 'option' | 'model';
  /**
   * The model was trained with HSR (recorded in the model): its objective's Hessian also holds
   * beta x the penalty's, which lambdaMax and bound here do not include.
   */
  hsr?: { beta: number; target: 'upper' | 'spread' };
  /** lambda_max(H + wd I) = lambda_max(H) + wd (null when lambda_max is unknown). */
  lambdaMax: number | null;
  /** WS upper bound of H + wd I = the cross-entropy's bound + wd. */
  bound: number | null;
}

export function checkWeightDecay(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail('BAD_OPTION', `weightDecay must be a number >= 0, got ${String(value)}`);
  return value;
}

export interface ResolvedObjective {
  weightDecay: number;
  source: 'option' | 'model';
  hsr?: { beta: number; target: 'upper' | 'spread' };
}

/**
 * The objective a point is judged by: the weightDecay option when given (it overrides), else what
 * the model records from its training (train() saves it), else the bare cross-entropy.
 */
export function resolveObjective(model: Model, option: unknown): ResolvedObjective {
  if (option !== undefined) return { weightDecay: checkWeightDecay(option), source: 'option' };
  const recorded = model.objective;
  if (!recorded) return { weightDecay: 0, source: 'option' };
  return { weightDecay: recorded.weightDecay, source: 'model', ...(recorded.hsr ? { hsr: { ...recorded.hsr } } : {}) };
}

export function objectiveCurvature(objective: ResolvedObjective, lambdaMax: number | null, bound: number | null): ObjectiveCurvature | null {
  const { weightDecay } = objective;
  if (weightDecay === 0 && !objective.hsr) return null;
  return { ...objective, lambdaMax: lambdaMax === null ? null : lambdaMax + weightDecay, bound: bound === null ? null : bound + weightDecay };
}

export function pointDiagnostics(
  backend: KernelBackend,
  spec: ProblemSpec,
  model: Model,
  data: Dataset,
  known: { weightDecay: number; topEigenvalues?: readonly number[]; lambdaMin?: number | null; trace?: number | null; traceOfSquare?: number | null; eigenConverged?: boolean },
): Diagnostics {
  const { loss, gradient } = backend.lossGrad(spec);
  return computeDiagnostics({ model, data, loss, gradient, ...known });
}
