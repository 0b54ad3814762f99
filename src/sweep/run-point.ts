/**
 * One sweep point: load the data, initialise (seed), train to a near-critical point, then the
 * closed-form WS bound and the exact lambda_max, timing each phase. Pure (runs in browsers with the
 * WebAssembly backend); data loading is injected.
 */
import { analyze } from '../analyze.js';
import { getBackend } from '../backend/select.js';
import { closedFormTraces, type ClosedFormTraces } from '../bound.js';
import { fail } from '../errors.js';
import { layerSizes, parameterCount, randomModel } from '../model.js';
import { toProblemSpec } from '../problem.js';
import { train } from '../train.js';
import type { BackendName, Dataset, Model, Reduction } from '../types.js';
import { DIAGNOSTIC_FLAGS, type DiagnosticFlag } from '../analysis/diagnostics.js';
import { selectSamples, stratifiedSplit } from '../analysis/split.js';
import { corruptLabels } from '../study/label-noise.js';
import { measureFunction } from '../study/measure-registry.js';
import { subsampleTraining } from '../study/subsample.js';
import { modelToJson } from '../model.js';
import { loadDatasetById, parseDatasetId } from './dataset-id.js';
import { jobKey, minibatchTrainOptions, normalizeJob, type SweepJobInput } from './job.js';
import { assertCallFits, closedFormCosts } from '../resources/memory-plan.js';
import type { TileSource } from '../split/tile-sums.js';
import { knownDataShape, pointAllocations } from '../resources/point-plan.js';
import type { SweepRecord } from './result.js';

export interface PointContext {
  backend?: BackendName | 'auto';
  /** Loads a data set by its (canonical) id; default: synthetic ids only. */
  loadData?: (id: string) => Dataset;
  /** Loads a test set by id, transformed like the training set (default: loadData). */
  loadTestData?: (id: string, trainId: string) => Dataset;
  /** Return the trained model with the record (for --save-models). */
  keepModel?: boolean;
  /** Fraction of this point done, in [0, 1]. */
  onProgress?: (fraction: number) => void;
  /** Cancels the point (its kernel calls reject with ABORTED). */
  signal?: AbortSignal;
  /**
   * One hidden layer: traces whose dual evaluation costs at least `aboveMultiplyAdds` are computed
   * by `tiles` (e.g. queue workers), with the bits of a local dual run.
   */
  splitTraces?: { tiles: TileSource; aboveMultiplyAdds: number };
}

// Share of a point's time per phase, for progress reports (training dominates on every data set).
const TRAIN_SHARE = 0.8;
const BOUND_SHARE = 0.05;

const now = (): number => globalThis.performance.now() / 1000;

/** tr(H), tr(H^2) and the WS bound: closed form for one hidden layer; exact dense or Hutch++ traces deeper. */
async function wsBound(model: Model, data: Dataset, reduction: Reduction, backendName?: BackendName | 'auto', signal?: AbortSignal, split?: PointContext['splitTraces']): Promise<ClosedFormTraces> {
  const backend = await getBackend(backendName);
  const sizes = layerSizes(model);
  if (split && sizes.length === 3 && closedFormCosts(sizes, data.n).dual >= split.aboveMultiplyAdds)
    return closedFormTraces(backend, toProblemSpec(model, data, reduction), { method: 'dual', tiles: split.tiles, orthogonality: true, deterministic: true, ...(signal ? { signal } : {}) });
  // The orthogonality summary (O(N^2 d)) gives the rho study its cosine columns and the bound as if
  // the samples were orthogonal (one hidden layer). Deterministic: one answer per job key, even when
  // other pool workers of the process call the BLAS at the same time.
  return closedFormTraces(backend, toProblemSpec(model, data, reduction), { orthogonality: true, deterministic: true, ...(signal ? { signal } : {}) });
}

function complement(n: number, excluded: readonly number[]): number[] {
  const out = new Set(excluded);
  return Array.from({ length: n }, (_, i) => i).filter((i) => !out.has(i));
}

function mergeFlags(a: readonly DiagnosticFlag[], b: readonly DiagnosticFlag[]): DiagnosticFlag[] {
  const all = new Set([...a, ...b]);
  return DIAGNOSTIC_FLAGS.filter((f) => all.has(f));
}

export async function runPoint(input: SweepJobInput, context: PointContext = {}): Promise<SweepRecord> {
  const spec = normalizeJob(input);
  const key = jobKey(spec);
  const report = context.onProgress ?? (() => {});
  const started = now();
  // The point's memory plan, before the data is loaded (when its shape is known by name) and after.
  const backend = await getBackend(context.backend);
  const known = knownDataShape(spec.dataset);
  const knownTest = spec.testData === '' ? undefined : knownDataShape(spec.testData);
  if (known && knownTest !== null) assertCallFits(backend, pointAllocations(spec, known, knownTest));
  const load = context.loadData ?? ((id: string) => loadDatasetById(id));
  const data = load(spec.dataset);
  const testData = spec.testData === '' ? undefined : (context.loadTestData ?? ((id: string) => load(id)))(spec.testData, spec.dataset);
  assertCallFits(backend, pointAllocations(spec, data, testData));
  const model = randomModel({
    inputs: data.d,
    hidden: Array.from({ length: spec.depth }, () => spec.width),
    classes: data.classes,
    activation: spec.activation,
    seed: spec.seed,
  });
  const parameters = parameterCount(model);

  // A study point trains on its (subsampled, label-noised) part of the split and is tested on the rest.
  const studyData = spec.measures ? studyTrainingData(spec, data) : undefined;
  let t = now();
  const trained = await train(model, studyData?.train ?? data, {
    reduction: spec.reduction,
    gradTol: spec.gradTol,
    maxSteps: spec.maxSteps,
    adamSteps: spec.adamSteps,
    lr: spec.lr,
    weightDecay: spec.weightDecay,
    targetLoss: spec.targetLoss,
    ...(studyData ? { testData: studyData.test } : spec.testFraction > 0 ? { testFraction: spec.testFraction, splitSeed: spec.splitSeed } : {}),
    ...(testData ? { testData } : {}),
    ...(context.backend ? { backend: context.backend } : {}),
    onProgress: (f) => report(TRAIN_SHARE * f),
    ...(context.signal ? { signal: context.signal } : {}),
    ...(spec.track ? { track: spec.track } : {}),
    ...(spec.hsr ? { hsr: { beta: spec.hsr, target: spec.hsrTarget ?? 'upper' } } : {}),
    ...minibatchTrainOptions(spec),
  });
  const secondsTrain = now() - t;
  // Hessians are of the training samples only.
  const trainData = studyData ? studyData.train : trained.split?.kind === 'fraction' ? selectSamples(data, complement(data.n, trained.split.testIndices), 'train') : data;

  t = now();
  const traces = await wsBound(trained.model, trainData, spec.reduction, context.backend, context.signal, context.splitTraces);
  const secondsBound = now() - t;
  report(TRAIN_SHARE + BOUND_SHARE);

  t = now();
  const lambdaMethod = parameters <= spec.denseMaxParameters ? 'dense' : 'lanczos';
  const spectrum = await analyze(trained.model, trainData, {
    method: lambdaMethod,
    which: 'largest',
    // Two: lambda_2 / lambda_1 for the rank-one diagnostic.
    k: 2,
    weightDecay: spec.weightDecay,
    // One answer per job key, whatever the BLAS thread count of the machine or worker.
    deterministic: true,
    // The bound phase above already has the traces.
    bound: false,
    reduction: spec.reduction,
    ...(context.backend ? { backend: context.backend } : {}),
    onProgress: (f) => report(TRAIN_SHARE + BOUND_SHARE + (1 - TRAIN_SHARE - BOUND_SHARE) * f),
    ...(context.signal ? { signal: context.signal } : {}),
  });
  const secondsLambdaMax = now() - t;
  // Unconverged Lanczos: keep the largest Ritz value (a lower bound), flagged, and no ratio.
  const exact = spectrum.lambdaMax !== null;
  const lambdaMax = spectrum.lambdaMax ?? spectrum.lambdaMaxLowerBound;
  if (lambdaMax === null) fail('KERNEL', 'the eigensolver returned no lambda_max', 'this is a bug in hessbound; please report it');
  const bound = traces.bound.upper;
  report(1);
  const diagnostics = { ...spectrum.diagnostics, flags: mergeFlags(trained.diagnostics.flags, spectrum.diagnostics.flags) };
  if (diagnostics.effectiveRank === null) diagnostics.effectiveRank = (traces.trace * traces.trace) / traces.traceOfSquare;
  const synthetic = parseDatasetId(spec.dataset);
  const o = traces.orthogonality;
  // The study's measures, of networks that reached the target only (the others are left out of its statistics).
  let study: SweepRecord['study'];
  if (spec.measures) {
    const reached = trained.loss <= spec.targetLoss;
    const measures: Record<string, number | null> = {};
    const ctx = { model: trained.model, init: model, data: trainData, backend: backend.name, seed: spec.seed, cache: new Map<string, unknown>(), ...(context.signal ? { signal: context.signal } : {}) };
    for (const m of spec.measures) measures[m] = reached ? await measureFunction(m)(ctx) : null;
    study = { reached, measures };
  }

  return {
    key,
    spec,
    result: {
      dataset: spec.dataset,
      activation: spec.activation,
      width: spec.width,
      depth: spec.depth,
      seed: spec.seed,
      parameters,
      samples: trainData.n,
      loss: trained.loss,
      gradNorm: trained.gradNorm,
      lambdaMax,
      bound,
      ratio: exact && lambdaMax > 0 ? bound / lambdaMax : null,
      trace: traces.trace,
      traceOfSquare: traces.traceOfSquare,
      seconds: now() - started,
      key,
      converged: trained.converged,
      stopReason: trained.stopReason,
      trainSteps: trained.steps.adam + trained.steps.lbfgs + trained.steps.minibatch,
      lambdaMethod,
      lambdaConverged: exact,
      boundMethod: traces.method,
      boundEstimated: traces.estimated,
      reduction: spec.reduction,
      secondsTrain,
      secondsBound,
      secondsLambdaMax,
      backend: trained.backend,
      rho: synthetic.kind === 'synthetic' ? synthetic.options.rho : null,
      meanAbsCosine: o.meanAbsCosine,
      maxAbsCosine: o.maxAbsCosine,
      orthogonalCounterfactual: o.orthogonalCounterfactual ? o.orthogonalCounterfactual.upper : null,
      weightDecay: spec.weightDecay,
      targetLoss: spec.targetLoss,
      testFraction: spec.testFraction,
      testData: spec.testData,
      testSamples: trained.testSamples,
      trainAccuracy: trained.trainAccuracy,
      testAccuracy: trained.testAccuracy,
      testLoss: trained.testLoss,
      gap: trained.gap,
      objectiveLambdaMax: lambdaMax + spec.weightDecay,
      objectiveBound: bound + spec.weightDecay,
      parameterNorm: diagnostics.parameterNorm,
      scaleDerivative: diagnostics.scaleDerivative,
      saturatedFraction: diagnostics.saturatedFraction,
      collapsedCells: diagnostics.collapsedCells,
      lambdaRatio: diagnostics.lambdaRatio,
      effectiveRank: diagnostics.effectiveRank,
      flags: diagnostics.flags.join(' '),
      hsr: spec.hsr ?? 0,
      hsrTarget: spec.hsr ? (spec.hsrTarget ?? 'upper') : '',
      hsrPenalty: trained.hsr ? trained.hsr.penalty : null,
      batchSize: spec.batchSize ?? 0,
      optimizer: spec.optimizer ?? '',
      epochs: trained.steps.epochs,
    },
    history: trained.history,
    diagnostics,
    ...(context.keepModel ? { model: modelToJson(trained.model) } : {}),
    ...(trained.track ? { track: trained.track } : {}),
    ...(study ? { study } : {}),
  };
}

/** A study point's training part (its split, subsample and label noise, all seeded) and test part. */
function studyTrainingData(spec: ReturnType<typeof normalizeJob>, data: Dataset): { train: Dataset; test: Dataset } {
  const split = stratifiedSplit(data, spec.testFraction, spec.splitSeed);
  // Nested subsets (one shuffle by splitSeed), the same for every network seed.
  const part = subsampleTraining(split.train, spec.trainSize ?? split.train.n, spec.splitSeed);
  return { train: corruptLabels(part, spec.labelNoise ?? 0, spec.seed).data, test: split.test };
}
