/**
 * Diagnostics of an analysed point (analyze, bound): the kernel's measures of the point on the
 * training data (loss, gradient norms, saturation), plus what the caller already knows (eigenvalues,
 * traces). Also the regularised
 * objective's numbers: with weight decay wd the objective's Hessian is H + wd I, so its lambda_max
 * and its WS bound (m shifts by wd, s is unchanged) are the cross-entropy's plus exactly wd.
 */
import type { KernelBackend } from '../backend/types.js';
import { fail } from '../errors.js';
import type { ProblemSpec } from '../backend/types.js';
import type { Dataset, Model } from '../types.js';
import { computeDiagnostics, diagnosticsFromMeasures, largestSlope, SATURATION_SLOPE, type Diagnostics, type DiagnosticsContext, type PointMeasures } from './diagnostics.js';
import { isKinked } from './kinks.js';

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

/** The kernel's measures of the point (command "diagnose", native/kernel/analysis/point_diagnostics.cpp). */
export async function measurePointInKernel(backend: KernelBackend, spec: ProblemSpec, model: Model, weightDecay: number, signal?: AbortSignal): Promise<PointMeasures> {
  const slopeLimit = SATURATION_SLOPE * largestSlope(model);
  const r = JSON.parse(await backend.run('diagnose', spec, { weightDecay, slopeLimit }, undefined, signal)) as {
    objective: number | null;
    parameterNorm: number;
    gradNorm: number | null;
    thetaDotGrad: number | null;
    saturatedPairs: number;
    pairs: number;
    collapsedCells: number;
    collapsedSamples: number;
  };
  // The kernel prints a non-finite number (overflowing weights) as null.
  const finite = (v: number | null): number => (v === null ? Number.NaN : v);
  return {
    objective: finite(r.objective),
    parameterNorm: r.parameterNorm,
    gradNorm: finite(r.gradNorm),
    thetaDotGrad: finite(r.thetaDotGrad),
    saturatedFraction: r.pairs ? r.saturatedPairs / r.pairs : 0,
    collapsedCells: r.collapsedCells,
    collapsedSamples: r.collapsedSamples,
    kinks: null,
  };
}

/**
 * The diagnostics of an analysed point, measured in the kernel: one threaded loss/gradient
 * evaluation and a forward pass in blocks of rows (no per-sample arrays in JavaScript). relu and
 * leaky_relu nets also need the kink summary (kinks.ts), which the kernel does not compute: they
 * keep the TypeScript reference (a loss/gradient call and the TypeScript forward pass).
 */
export async function pointDiagnostics(
  backend: KernelBackend,
  spec: ProblemSpec,
  model: Model,
  data: Dataset,
  known: Omit<DiagnosticsContext, 'model'> & { weightDecay: number },
  signal?: AbortSignal,
): Promise<Diagnostics> {
  const context = { ...known, model };
  if (isKinked(model)) {
    const { loss, gradient } = backend.lossGrad(spec);
    return computeDiagnostics({ ...context, data, loss, gradient });
  }
  return diagnosticsFromMeasures(await measurePointInKernel(backend, spec, model, known.weightDecay, signal), context);
}
