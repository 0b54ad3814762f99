/**
 * train(): training of an MLP on its cross-entropy loss to a near-critical point, in the kernel
 * (native/kernel/train/train.cpp): full batch, Adam first, then L-BFGS with a strong-Wolfe line search;
 * or, with `batchSize`, mini-batch Adam or SGD with momentum over seeded shuffles for `epochs`
 * epochs, optionally polished by full-batch L-BFGS to a critical point.
 *
 * Stopping: the gradient norm of the objective (absolute, Euclidean, with the chosen reduction)
 * <= gradTol, the training cross-entropy <= targetLoss (when set), or maxSteps iterations in total. On separable data (common for MLPs wider than a few
 * units) cross-entropy has no finite minimiser: the loss keeps falling as the weights grow, and the
 * gradient falls with it, so gradTol is still reached, at a point whose scale depends on gradTol.
 * weightDecay (default 1e-3, as sweeps) adds weightDecay/2 |params|^2, which gives a finite
 * minimiser (of the regularised objective; analyze() still reports the Hessian of the plain
 * cross-entropy, and the objective's beside it). The returned model records the objective.
 *
 * Deterministic: the same model, data, options and backend give bit-identical results (native: for a
 * fixed OPENBLAS_NUM_THREADS). Native and WebAssembly agree to rounding, not to the bit.
 */
import { checkCallOptions } from './backend/cancel.js';
import { computeDiagnostics, type Diagnostics } from './analysis/diagnostics.js';
import { evaluateModel } from './analysis/evaluate.js';
import { forwardPass } from './analysis/forward.js';
import { checkTestData, checkTestFraction, stratifiedSplit } from './analysis/split.js';
import { getBackend } from './backend/select.js';
import type { ProgressCallback } from './backend/types.js';
import { fail } from './errors.js';
import { toDatasetInput, toModel, type DataInput, type ModelInput } from './inputs.js';
import { unflattenParams } from './model.js';
import { toProblemSpec } from './problem.js';
import { assertCallFits, forwardCache } from './resources/memory-plan.js';
import { hsrKernelOptions, hsrReport, requireHsrDepth, type HsrOptions, type HsrReport } from './analysis/hsr.js';
import { layerSizes } from './model.js';
import type { BackendName, Model, Reduction } from './types.js';
import { parseTrack, trackKernelOptions, TRACK_OPTIONS, type KernelTrack, type SharpnessTrack } from './analysis/tracking.js';

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
  /**
   * L2 penalty weightDecay/2 |params|^2 added to the loss. Default 1e-3 (as sweeps): on separable
   * data it gives a finite minimiser; pass 0 for the bare cross-entropy (docs/training.md).
   */
  weightDecay?: number;
  /** Also stop when the training cross-entropy (without decay) is <= targetLoss. Default 0: off. */
  targetLoss?: number;
  /** L-BFGS correction pairs kept. Default 20. */
  memory?: number;
  /** Hold out this fraction of each class (stratified, seeded by splitSeed) for testing; in (0, 1). */
  testFraction?: number;
  /** Seed of the test split (default 0). */
  splitSeed?: number;
  /** A separate test set (same features and classes); not with testFraction. */
  testData?: DataInput;
  /**
   * Mini-batch training: samples per batch (1..N), in place of the full-batch Adam phase. Each
   * epoch is a seeded shuffle (shuffleSeed); the stopping rules are checked on the full-batch loss
   * and gradient every `checkEvery` epochs. Bit-identical for any thread count. docs/training.md.
   */
  batchSize?: number;
  /** With batchSize: passes over the data. Default 10. */
  epochs?: number;
  /** With batchSize: 'adam' (default) or 'sgd' (with momentum). */
  optimizer?: MinibatchOptimizer;
  /** With optimizer 'sgd': v = momentum v + g, x -= lr v. Default 0.9. */
  momentum?: number;
  /** With batchSize: seed of the shuffles. Default 0. */
  shuffleSeed?: number;
  /** With batchSize: then full-batch L-BFGS to gradTol (a critical point). Default false. */
  polish?: boolean;
  /** With batchSize: full-batch check of the stopping rules every this many epochs (0: at the end only). Default 1. */
  checkEvery?: number;
  /** HSR: add beta x the WS upper (or spread) bound to the objective (one hidden layer; docs/hsr.md). */
  hsr?: HsrOptions;
  backend?: BackendName | 'auto';
  /** Cancels the call: it rejects with HessboundError code ABORTED (native: checked in the kernel's loops). */
  signal?: AbortSignal;
  /** Fraction done in [0, 1]: the larger of steps / maxSteps and the log-scale way to gradTol. */
  onProgress?: ProgressCallback;
  /** Every `track` steps (and at the end): lambda_max and the WS bound (src/analysis/tracking.ts). */
  track?: number;
  /** With track: also keep the parameters of every tracked point (memory: points x P). */
  trackParameters?: boolean;
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
  /** Full-batch Adam and L-BFGS iterations, loss/gradient evaluations, mini-batch updates and completed epochs. */
  steps: TrainSteps;
  /** How mini-batch training ran (absent for full-batch training). */
  minibatch?: MinibatchReport;
  /** True when a stopping rule of the protocol was met (gradTol or targetLoss). */
  converged: boolean;
  /** 'gradTol', 'targetLoss' (both: converged), 'maxSteps', 'stalled' (no further decrease possible in float64), or 'epochs' (mini-batch without polish). */
  stopReason: StopReason;
  /** Loss and gradient norm along the way, subsampled to at most 200 entries (first and last kept). */
  history: TrainHistoryEntry[];
  backend: BackendName;
  /** Wall seconds of the kernel's training loop. */
  seconds: number;
  /** Processor seconds of the process meanwhile (all its threads): the work, less the waits of a loaded machine. */
  cpuSeconds: number;
  /** Samples trained on (the Hessian's data) and held out. */
  trainSamples: number;
  testSamples: number;
  /** Accuracy on the training samples; on the test samples (null without a test set). */
  trainAccuracy: number;
  testAccuracy: number | null;
  /** Mean cross-entropy on the test samples (null without a test set). */
  testLoss: number | null;
  /** trainAccuracy - testAccuracy (null without a test set). */
  gap: number | null;
  /** How the test set was made: a stratified split, a separate data set, or none. */
  split: { kind: 'fraction'; fraction: number; seed: number; testIndices: number[] } | { kind: 'data' } | null;
  /** Health of the trained point (training data, cross-entropy gradient); see docs/diagnostics.md. */
  diagnostics: Diagnostics;
  /** With `track`: lambda_max, the WS bound and more every `track` steps. */
  track?: SharpnessTrack;
  /** With `hsr`: the penalty at the trained parameters and its share of the objective. */
  hsr?: HsrReport;
}

export type StopReason = 'gradTol' | 'targetLoss' | 'maxSteps' | 'stalled' | 'epochs';

export type MinibatchOptimizer = 'adam' | 'sgd';
export const MINIBATCH_OPTIMIZERS: readonly MinibatchOptimizer[] = ['adam', 'sgd'];

export interface TrainSteps {
  adam: number;
  lbfgs: number;
  evaluations: number;
  /** Mini-batch updates (0 for full-batch training). */
  minibatch: number;
  /** Completed mini-batch epochs (0 for full-batch training). */
  epochs: number;
}

export interface MinibatchReport {
  optimizer: MinibatchOptimizer;
  batchSize: number;
  /** Updates per epoch: ceil(N / batchSize) (the last batch may be shorter). */
  batchesPerEpoch: number;
  shuffleSeed: number;
  /** SGD only. */
  momentum?: number;
  /** Whether full-batch L-BFGS followed the epochs (its steps are steps.lbfgs). */
  polish: boolean;
  /** Wall seconds of the epochs' updates (shuffles, gathers, batch evaluations, steps), without the full-batch checks. */
  seconds: number;
  /** Processor seconds of the process meanwhile (all its threads): the work, less the waits of a loaded machine. */
  cpuSeconds: number;
}

export const TRAIN_DEFAULTS = { gradTol: 1e-6, maxSteps: 20000, adamSteps: 200, lr: 0.01, weightDecay: 1e-3, targetLoss: 0, memory: 20 } as const;
export const MINIBATCH_DEFAULTS = { epochs: 10, optimizer: 'adam', momentum: 0.9, shuffleSeed: 0, polish: false, checkEvery: 1 } as const;

const MINIBATCH_OPTIONS = ['epochs', 'optimizer', 'momentum', 'shuffleSeed', 'polish', 'checkEvery'] as const;
const KNOWN_OPTIONS = new Set<string>(['reduction', 'gradTol', 'maxSteps', 'adamSteps', 'lr', 'weightDecay', 'targetLoss', 'memory', 'testFraction', 'splitSeed', 'testData', 'backend', 'onProgress', 'hsr', 'signal', 'batchSize', ...MINIBATCH_OPTIONS]);
for (const key of TRACK_OPTIONS) KNOWN_OPTIONS.add(key);

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

/** The mini-batch options as kernel options (none without batchSize); the batch size is checked against N in train(). */
function minibatchKernelOptions(options: TrainOptions): Record<string, number> {
  if (options.batchSize === undefined) {
    const stray = MINIBATCH_OPTIONS.filter((k) => options[k] !== undefined);
    if (stray.length > 0) fail('BAD_OPTION', `${stray.join(', ')} need(s) batchSize (mini-batch training)`, 'e.g. batchSize: 128, epochs: 20; or leave them out for full-batch training');
    return {};
  }
  const batchSize = integerOption(options.batchSize, 'batchSize', 1, MAX_STEPS, 0);
  const m = MINIBATCH_DEFAULTS;
  const optimizer = options.optimizer ?? m.optimizer;
  if (!MINIBATCH_OPTIMIZERS.includes(optimizer)) fail('BAD_OPTION', `optimizer must be one of ${MINIBATCH_OPTIMIZERS.join(', ')}, got ${String(optimizer)}`);
  if (options.momentum !== undefined && optimizer !== 'sgd') fail('BAD_OPTION', "momentum applies to optimizer 'sgd' only", "add optimizer: 'sgd', or leave momentum out");
  if (options.polish !== undefined && typeof options.polish !== 'boolean') fail('BAD_OPTION', `polish must be true or false, got ${String(options.polish)}`);
  return {
    batchSize,
    epochs: integerOption(options.epochs, 'epochs', 1, MAX_STEPS, m.epochs),
    optimizer: MINIBATCH_OPTIMIZERS.indexOf(optimizer),
    momentum: numberOption(options.momentum, 'momentum', (v) => v >= 0 && v < 1, 'a number in [0, 1)', m.momentum, 'e.g. 0.9'),
    shuffleSeed: integerOption(options.shuffleSeed, 'shuffleSeed', 0, Number.MAX_SAFE_INTEGER, m.shuffleSeed),
    polish: (options.polish ?? m.polish) ? 1 : 0,
    checkEvery: integerOption(options.checkEvery, 'checkEvery', 0, MAX_STEPS, m.checkEvery),
  };
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
    targetLoss: numberOption(options.targetLoss, 'targetLoss', (v) => v >= 0, 'a number >= 0 (0: off)', d.targetLoss, 'e.g. 0.01: stop once the training cross-entropy reaches 0.01'),
    memory: integerOption(options.memory, 'memory', 1, 1000, d.memory),
    ...trackKernelOptions(options),
    ...hsrKernelOptions(options.hsr),
    ...minibatchKernelOptions(options),
  };
}

interface KernelTrainResult {
  params: number[];
  loss: number;
  objective: number;
  gradNorm: number;
  steps: TrainSteps;
  converged: boolean;
  stopReason: TrainResult['stopReason'];
  history: { step: number[]; loss: number[]; gradNorm: number[] };
  seconds: number;
  cpuSeconds: number;
  minibatchSeconds: number;
  minibatchCpuSeconds: number;
  track?: KernelTrack;
  hsrValue: number;
}

/** Trains `model` (its parameters are the start point; it is not modified) on `data`. */
export async function train(modelInput: ModelInput, dataInput: DataInput, options: TrainOptions = {}): Promise<TrainResult> {
  checkCallOptions(options);
  const kernelOptions = trainKernelOptions(options);
  const model = toModel(modelInput);
  const all = toDatasetInput(dataInput);
  if (options.testFraction !== undefined && options.testData !== undefined) fail('BAD_OPTION', 'give testFraction or testData, not both');
  let data = all;
  let test = null;
  let split: TrainResult['split'] = null;
  if (options.testFraction !== undefined) {
    const s = stratifiedSplit(all, checkTestFraction(options.testFraction), options.splitSeed ?? 0);
    data = s.train;
    test = s.test;
    split = { kind: 'fraction', fraction: s.fraction, seed: s.seed, testIndices: s.testIndices };
  } else if (options.testData !== undefined) {
    test = checkTestData(all, toDatasetInput(options.testData));
    split = { kind: 'data' };
  }
  if (options.hsr) requireHsrDepth(layerSizes(model));
  const batchSize = kernelOptions['batchSize'];
  if (batchSize !== undefined) {
    if (options.hsr && options.hsr.beta > 0) fail('BAD_OPTION', 'HSR training is full-batch only (its penalty is a function of all samples)', 'leave batchSize out with hsr');
    if (batchSize > data.n)
      fail('BAD_OPTION', `batchSize ${batchSize} is larger than the ${data.n} training samples`, `use a batch size from 1 to ${data.n} (${data.n}: one batch per epoch)`);
  }
  const spec = toProblemSpec(model, data, options.reduction);
  const backend = await getBackend(options.backend);
  // The forward cache plus L-BFGS's history (a few dozen P-vectors).
  const P = spec.params.length;
  assertCallFits(backend, [
    forwardCache(Array.from(spec.sizes), spec.samples),
    { what: `the optimizer state (${P.toLocaleString('en-US')} parameters)`, bytes: 8 * P * 48, hint: 'use smaller hidden widths (--hidden)' },
  ]);
  const r = JSON.parse(await backend.run('train', spec, kernelOptions, options.onProgress, options.signal)) as KernelTrainResult;
  if (r.params.some((v) => v === null)) fail('NON_FINITE', 'training produced non-finite parameters', 'lower lr or add weightDecay');
  // The model carries the objective it was trained on: analyze/bound judge it by that function.
  const hsrUsed = options.hsr && options.hsr.beta > 0 ? { hsr: { beta: options.hsr.beta, target: options.hsr.target ?? 'upper' } } : {};
  const trained: Model = { ...unflattenParams(model, r.params), objective: { weightDecay: kernelOptions['weightDecay'] ?? 0, ...hsrUsed } };
  // One forward pass in TypeScript for the accuracy and the saturation diagnostics (at width 1024
  // each pass costs about as much as 40 training evaluations).
  const forward = forwardPass(trained, data);
  const trainEval = evaluateModel(trained, data, forward);
  const testEval = test ? evaluateModel(trained, test) : null;
  const { loss, gradient } = backend.lossGrad(toProblemSpec(trained, data, options.reduction));
  const diagnostics = computeDiagnostics({ model: trained, data, loss, gradient, weightDecay: kernelOptions['weightDecay'] ?? 0, stopReason: r.stopReason, forward });
  return {
    model: trained,
    loss: r.loss,
    objective: r.objective,
    gradNorm: r.gradNorm,
    steps: r.steps,
    ...(batchSize !== undefined ? { minibatch: minibatchReport(kernelOptions, data.n, r.minibatchSeconds, r.minibatchCpuSeconds) } : {}),
    converged: r.converged,
    stopReason: r.stopReason,
    history: r.history.step.map((step, i) => ({ step, loss: r.history.loss[i] as number, gradNorm: r.history.gradNorm[i] as number })),
    backend: backend.name,
    seconds: r.seconds,
    cpuSeconds: r.cpuSeconds,
    trainSamples: data.n,
    testSamples: test ? test.n : 0,
    trainAccuracy: trainEval.accuracy,
    testAccuracy: testEval ? testEval.accuracy : null,
    testLoss: testEval ? testEval.loss : null,
    gap: testEval ? trainEval.accuracy - testEval.accuracy : null,
    split,
    diagnostics,
    ...(r.track ? { track: parseTrack(r.track, r.params.length) } : {}),
    ...(options.hsr && options.hsr.beta > 0 ? { hsr: hsrReport(options.hsr, r.hsrValue, r.objective) } : {}),
  };
}

function minibatchReport(k: Record<string, number>, samples: number, seconds: number, cpuSeconds: number): MinibatchReport {
  const batchSize = k['batchSize'] as number;
  const optimizer = MINIBATCH_OPTIMIZERS[k['optimizer'] as number] as MinibatchOptimizer;
  return {
    optimizer,
    batchSize,
    batchesPerEpoch: Math.ceil(samples / batchSize),
    shuffleSeed: k['shuffleSeed'] as number,
    ...(optimizer === 'sgd' ? { momentum: k['momentum'] as number } : {}),
    polish: k['polish'] === 1,
    seconds,
    cpuSeconds,
  };
}
