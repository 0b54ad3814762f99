/**
 * One sweep point: load the data, initialise (seed), train to a near-critical point, then the
 * closed-form WS bound and the exact lambda_max, timing each phase. Pure (runs in browsers with the
 * WebAssembly backend); data loading is injected.
 */
import { analyze } from '../analyze.js';
import { getBackend } from '../backend/select.js';
import { closedFormTraces, type ClosedFormTraces } from '../bound.js';
import { fail } from '../errors.js';
import { parameterCount, randomModel } from '../model.js';
import { toProblemSpec } from '../problem.js';
import { train } from '../train.js';
import type { BackendName, Dataset, Model, Reduction } from '../types.js';
import { loadDatasetById } from './dataset-id.js';
import { jobKey, normalizeJob, type SweepJobInput } from './job.js';
import type { SweepRecord } from './result.js';

export interface PointContext {
  backend?: BackendName | 'auto';
  /** Loads a data set by its (canonical) id; default: synthetic ids only. */
  loadData?: (id: string) => Dataset;
  /** Fraction of this point done, in [0, 1]. */
  onProgress?: (fraction: number) => void;
}

// Share of a point's time per phase, for progress reports (training dominates on every data set).
const TRAIN_SHARE = 0.8;
const BOUND_SHARE = 0.05;

const now = (): number => globalThis.performance.now() / 1000;

/** tr(H), tr(H^2) and the WS bound: closed form for one hidden layer; exact dense or Hutch++ traces deeper. */
async function wsBound(model: Model, data: Dataset, reduction: Reduction, backendName?: BackendName | 'auto'): Promise<ClosedFormTraces> {
  const backend = await getBackend(backendName);
  // The data-orthogonality summary is the same for every point of a data set: skipped.
  return closedFormTraces(backend, toProblemSpec(model, data, reduction), { orthogonality: false });
}

export async function runPoint(input: SweepJobInput, context: PointContext = {}): Promise<SweepRecord> {
  const spec = normalizeJob(input);
  const key = jobKey(spec);
  const report = context.onProgress ?? (() => {});
  const started = now();
  const data = (context.loadData ?? ((id: string) => loadDatasetById(id)))(spec.dataset);
  const model = randomModel({
    inputs: data.d,
    hidden: Array.from({ length: spec.depth }, () => spec.width),
    classes: data.classes,
    activation: spec.activation,
    seed: spec.seed,
  });
  const parameters = parameterCount(model);

  let t = now();
  const trained = await train(model, data, {
    reduction: spec.reduction,
    gradTol: spec.gradTol,
    maxSteps: spec.maxSteps,
    adamSteps: spec.adamSteps,
    lr: spec.lr,
    weightDecay: spec.weightDecay,
    ...(context.backend ? { backend: context.backend } : {}),
    onProgress: (f) => report(TRAIN_SHARE * f),
  });
  const secondsTrain = now() - t;

  t = now();
  const traces = await wsBound(trained.model, data, spec.reduction, context.backend);
  const secondsBound = now() - t;
  report(TRAIN_SHARE + BOUND_SHARE);

  t = now();
  const lambdaMethod = parameters <= spec.denseMaxParameters ? 'dense' : 'lanczos';
  const spectrum = await analyze(trained.model, data, {
    method: lambdaMethod,
    which: 'largest',
    // One answer per job key, whatever the BLAS thread count of the machine or worker.
    deterministic: true,
    // The bound phase above already has the traces.
    bound: false,
    reduction: spec.reduction,
    ...(context.backend ? { backend: context.backend } : {}),
    onProgress: (f) => report(TRAIN_SHARE + BOUND_SHARE + (1 - TRAIN_SHARE - BOUND_SHARE) * f),
  });
  const secondsLambdaMax = now() - t;
  // Unconverged Lanczos: keep the largest Ritz value (a lower bound), flagged, and no ratio.
  const exact = spectrum.lambdaMax !== null;
  const lambdaMax = spectrum.lambdaMax ?? spectrum.lambdaMaxLowerBound;
  if (lambdaMax === null) fail('KERNEL', 'the eigensolver returned no lambda_max', 'this is a bug in hessbound; please report it');
  const bound = traces.bound.upper;
  report(1);

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
      samples: data.n,
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
      trainSteps: trained.steps.adam + trained.steps.lbfgs,
      lambdaMethod,
      lambdaConverged: exact,
      boundMethod: traces.method,
      boundEstimated: traces.estimated,
      reduction: spec.reduction,
      secondsTrain,
      secondsBound,
      secondsLambdaMax,
      backend: trained.backend,
    },
    history: trained.history,
  };
}
