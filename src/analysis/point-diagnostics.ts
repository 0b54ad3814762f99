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

export function objectiveCurvature(weightDecay: number, lambdaMax: number | null, bound: number | null): ObjectiveCurvature | null {
  if (weightDecay === 0) return null;
  return { weightDecay, lambdaMax: lambdaMax === null ? null : lambdaMax + weightDecay, bound: bound === null ? null : bound + weightDecay };
}

export function pointDiagnostics(
  backend: KernelBackend,
  spec: ProblemSpec,
  model: Model,
  data: Dataset,
  known: { weightDecay: number; topEigenvalues?: readonly number[]; trace?: number | null; traceOfSquare?: number | null; eigenConverged?: boolean },
): Diagnostics {
  const { loss, gradient } = backend.lossGrad(spec);
  return computeDiagnostics({ model, data, loss, gradient, ...known });
}
