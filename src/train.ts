/**
 * train(): full-batch training of a smooth MLP on its cross-entropy loss to a near-critical point,
 * in the kernel (native/kernel/train.cpp): Adam first, then L-BFGS with a strong-Wolfe line search.
 *
 * Stopping: the gradient norm of the objective (absolute, Euclidean, with the chosen reduction)
 * <= gradTol, or maxSteps iterations in total. On separable data (common for MLPs wider than a few
 * units) cross-entropy has no finite minimiser: the loss keeps falling as the weights grow, and the
 * gradient falls with it, so gradTol is still reached, at a point whose scale depends on gradTol.
 * weightDecay > 0 adds weightDecay/2 |params|^2, which gives a finite minimiser (of the
 * regularised objective; analyze() still reports the Hessian of the plain cross-entropy).
 *
 * Deterministic: the same model, data, options and backend give bit-identical results (native: for a
 * fixed OPENBLAS_NUM_THREADS). Native and WebAssembly agree to rounding, not to the bit.
 */
import { getBackend } from './backend/select.js';
import type { ProgressCallback } from './backend/types.js';
import { fail } from './errors.js';
import { toDatasetInput, toModel, type DataInput, type ModelInput } from './inputs.js';
import { unflattenParams } from './model.js';
import { toProblemSpec } from './problem.js';
import type { BackendName, Model, Reduction } from './types.js';

export interface TrainOptions {
  reduction?: Reduction;
  /** Stop when |grad objective|_2 <= gradTol (absolute). Default 1e-6. */
  gradTol?: number;
  /** Iteration budget, Adam and L-BFGS together. Default 20000. */
  maxSteps?: number;
  /** Adam iterations before L-BFGS takes over (0: L-BFGS only). Default 200. */
  adamSteps?: number;
  /** Adam learning rate. Default 0.01. */
  lr?: number;
  /** L2 penalty weightDecay/2 |params|^2 added to the loss. Default 0. */
  weightDecay?: number;
  /** L-BFGS correction pairs kept. Default 20. */
  memory?: number;
  backend?: BackendName | 'auto';
  /** Cancels the call: it rejects with HessboundError code ABORTED (native: checked in the kernel's loops). */
  signal?: AbortSignal;
  /** Fraction done in [0, 1]: the larger of steps / maxSteps and the log-scale way to gradTol. */
  onProgress?: ProgressCallback;
}

export interface TrainHistoryEntry {
  step: number;
  loss: number;
  gradNorm: number;
}

export interface TrainResult {
  model: Model;
  /** Cross-entropy loss at the trained parameters (without weight decay). */
  loss: number;
  /** The minimised function: loss + weightDecay/2 |params|^2. */
  objective: number;
  /** |grad objective|_2 at the trained parameters. */
  gradNorm: number;
  steps: { adam: number; lbfgs: number; evaluations: number };
  converged: boolean;
  /** 'gradTol' (converged), 'maxSteps', or 'stalled' (no further decrease possible in float64). */
  stopReason: 'gradTol' | 'maxSteps' | 'stalled';
  /** Loss and gradient norm along the way, subsampled to at most 200 entries (first and last kept). */
  history: TrainHistoryEntry[];
  backend: BackendName;
  seconds: number;
}

export const TRAIN_DEFAULTS = { gradTol: 1e-6, maxSteps: 20000, adamSteps: 200, lr: 0.01, weightDecay: 0, memory: 20 } as const;

const KNOWN_OPTIONS = new Set(['reduction', 'gradTol', 'maxSteps', 'adamSteps', 'lr', 'weightDecay', 'memory', 'backend', 'onProgress', 'signal']);

// The kernel reads step counts as int32.
const MAX_STEPS = 1_000_000_000;

function integerOption(value: number | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    fail('BAD_OPTION', `${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  return value;
}

function numberOption(value: number | undefined, name: string, ok: (v: number) => boolean, rule: string, fallback: number, hint?: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) fail('BAD_OPTION', `${name} must be ${rule}, got ${String(value)}`, hint);
  return value;
}

/** Checks every option up front (the kernel checks again) and fills in the defaults. */
export function trainKernelOptions(options: TrainOptions): Record<string, number> {
  if (typeof options !== 'object' || options === null) fail('BAD_OPTION', 'train options must be an object');
  for (const key of Object.keys(options))
    if (!KNOWN_OPTIONS.has(key)) fail('BAD_OPTION', `unknown train option '${key}'`, `known options: ${[...KNOWN_OPTIONS].join(', ')}`);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') fail('BAD_OPTION', 'onProgress must be a function');
  const d = TRAIN_DEFAULTS;
  return {
    gradTol: numberOption(options.gradTol, 'gradTol', (v) => v >= 0, 'a number >= 0', d.gradTol, 'e.g. 1e-6 (absolute gradient norm)'),
    maxSteps: integerOption(options.maxSteps, 'maxSteps', 0, MAX_STEPS, d.maxSteps),
    adamSteps: integerOption(options.adamSteps, 'adamSteps', 0, MAX_STEPS, d.adamSteps),
    lr: numberOption(options.lr, 'lr', (v) => v > 0, 'a positive number', d.lr, 'Adam learning rates around 1e-3 to 1e-1 are usual'),
    weightDecay: numberOption(options.weightDecay, 'weightDecay', (v) => v >= 0, 'a number >= 0', d.weightDecay),
    memory: integerOption(options.memory, 'memory', 1, 1000, d.memory),
  };
}

interface KernelTrainResult {
  params: number[];
  loss: number;
  objective: number;
  gradNorm: number;
  steps: { adam: number; lbfgs: number; evaluations: number };
  converged: boolean;
  stopReason: TrainResult['stopReason'];
  history: { step: number[]; loss: number[]; gradNorm: number[] };
  seconds: number;
}

/** Trains `model` (its parameters are the start point; it is not modified) on `data`. */
export async function train(modelInput: ModelInput, dataInput: DataInput, options: TrainOptions = {}): Promise<TrainResult> {
  const kernelOptions = trainKernelOptions(options);
  const model = toModel(modelInput);
  const data = toDatasetInput(dataInput);
  const spec = toProblemSpec(model, data, options.reduction);
  const backend = await getBackend(options.backend);
  const r = JSON.parse(await backend.run('train', spec, kernelOptions, options.onProgress, options.signal)) as KernelTrainResult;
  if (r.params.some((v) => v === null)) fail('NON_FINITE', 'training produced non-finite parameters', 'lower lr or add weightDecay');
  return {
    model: unflattenParams(model, r.params),
    loss: r.loss,
    objective: r.objective,
    gradNorm: r.gradNorm,
    steps: r.steps,
    converged: r.converged,
    stopReason: r.stopReason,
    history: r.history.step.map((step, i) => ({ step, loss: r.history.loss[i] as number, gradNorm: r.history.gradNorm[i] as number })),
    backend: backend.name,
    seconds: r.seconds,
  };
}
