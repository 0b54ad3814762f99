/** analyze(): loss, gradient norm, exact Hessian spectrum (dense or Lanczos), traces and WS bounds. */
import { checkCallOptions } from './backend/cancel.js';
import type { Diagnostics } from './analysis/diagnostics.js';
import { objectiveCurvature, pointDiagnostics, resolveObjective, type ObjectiveCurvature } from './analysis/point-diagnostics.js';
import { getBackend } from './backend/select.js';
import { closedFormTraces } from './bound.js';
import type { TileSource } from './split/tile-sums.js';
import { estimateTracesCost, type CostEstimate } from './cost.js';
import type { KernelBackend, KernelWsBounds, ProgressCallback } from './backend/types.js';
import { fail } from './errors.js';
import { toDatasetInput, toModel, type DataInput, type ModelInput } from './inputs.js';
import { assertDenseFits, denseIsComfortable, memoryBudget } from './memory.js';
import { assertCallFits, closedFormThreads, closedFormWork, denseHessian, forwardCache, hvpScratch, lanczosBasis } from './resources/memory-plan.js';
import { parameterCount } from './model.js';
import { toProblemSpec } from './problem.js';
import type { BackendName, Reduction } from './types.js';
import { layerBlocks, type LayerBlock } from './analysis/blocks.js';
import { assertDeterministicHonoured } from './analysis/deterministic-guard.js';

export type Method = 'dense' | 'lanczos' | 'auto';
export type Assembly = 'auto' | 'kronecker' | 'hvp';
export type Which = 'both' | 'largest' | 'smallest';

export interface AnalyzeOptions {
  /** 'auto' (default): dense when the Hessian fits comfortably in memory, else Lanczos. */
  method?: Method;
  /** How many extreme eigenvalues to report at each end (default 1, at most 100). */
  k?: number;
  reduction?: Reduction;
  backend?: BackendName | 'auto';
  /** Lanczos: relative residual ||Hy - θy|| / |θ| to converge to (default 1e-10). */
  tolerance?: number;
  /** Lanczos: Krylov dimension cap (default 300; memory is maxIterations x P doubles). */
  maxIterations?: number;
  /** Lanczos: which ends to converge (default 'both'). */
  which?: Which;
  /** Lanczos start vector seed (default 0). */
  seed?: number;
  /** Dense: Kronecker blocks (one hidden layer) or one Hessian-vector product per column. */
  assembly?: Assembly;
  /**
   * Lanczos on one hidden layer: also compute tr(H), tr(H^2) and the WS bound in closed form, which
   * costs O(N^2 c^2 h) and can exceed the Lanczos time many times over on large data sets.
   * 'auto' (default): estimate that cost first (estimateCost) and compute the bound when it takes
   * at most `boundBudgetSeconds`, else skip it (traceSource 'skipped', the estimate in
   * `boundEstimate`); true: always; false: never.
   */
  bound?: boolean | 'auto';
  /**
   * Lanczos on one hidden layer: compute the closed form's tiles elsewhere (queueTileSource from
   * hessbound/queue), with the bits of a local dual run. The bound is then computed however long a
   * local run would take (the budget below applies to local runs only).
   */
  tiles?: TileSource;
  /** bound 'auto': the longest the exact traces may take, in estimated seconds (default 60). */
  boundBudgetSeconds?: number;
  /** Called once the bound's cost is estimated, before any long work starts (the CLI prints it). */
  onBoundCost?: (estimate: CostEstimate, decision: 'compute' | 'skip') => void;
  /**
   * Run on one BLAS thread, so the result is bit-identical for any OPENBLAS_NUM_THREADS (default
   * false: a multithreaded OpenBLAS is faster for large dense problems and changes the last bits).
   * Sweeps set it.
   */
  deterministic?: boolean;
  /** Memory the dense path may use, in bytes (default: what the machine/heap has available). */
  maxMemoryBytes?: number;
  /**
   * The weight decay the model was trained with: adds the objective's lambda_max and bound (each +
   * wd) and judges the diagnostics by that objective. Default: what the model records (train()
   * saves it with the model), else 0; a value given here overrides the model's.
   */
  weightDecay?: number;
  /** Cancels the call: it rejects with HessboundError code ABORTED (native: checked in the kernel's loops). */
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /** Also report every layer's diagonal Hessian block (src/analysis/blocks.ts). */
  blocks?: boolean;
}

export type WsBounds = Omit<KernelWsBounds, 'frobenius'>;

export interface AnalyzeResult {
  backend: BackendName;
  method: 'dense' | 'lanczos';
  parameters: number;
  samples: number;
  loss: number;
  gradNorm: number;
  /** tr(H); null when the method did not compute it (Lanczos on deep nets). */
  trace: number | null;
  traceOfSquare: number | null;
  /** null only when Lanczos was asked for the other end alone. */
  lambdaMax: number | null;
  lambdaMin: number | null;
  /** The k largest eigenvalues, descending, and the k smallest, ascending. */
  topEigenvalues: number[];
  bottomEigenvalues: number[];
  /** All eigenvalues, ascending (dense only). */
  eigenvalues?: number[];
  /** Wolkowicz–Styan bounds from the traces (null without traces). */
  bound: WsBounds | null;
  /** bound.upper / lambdaMax. */
  boundRatio: number | null;
  /** Where the traces came from. */
  traceSource: 'dense' | 'closed-form' | 'skipped' | 'none';
  /** Lanczos on one hidden layer with the bound asked for: the exact traces' estimated cost (see estimateCost). */
  boundEstimate?: CostEstimate;
  lanczos?: {
    iterations: number;
    products: number;
    /** How layer 0 of the products read X: by its nonzeros (mostly-zero inputs) or as a dense matrix. */
    inputs: 'sparse' | 'dense';
    converged: boolean;
    /** Per end: every reported Ritz value of that end met the tolerance. */
    topConverged: boolean;
    bottomConverged: boolean;
    topResiduals: number[];
    bottomResiduals: number[];
  };
  /**
   * false when Lanczos stopped before an asked-for end converged: that end's lambdaMax/lambdaMin is
   * null and its eigenvalue list holds Ritz values (see lambdaMaxLowerBound, lambdaMinUpperBound).
   */
  converged: boolean;
  /** Unconverged top end only: the largest Ritz value, a lower bound on lambda_max (else null). */
  lambdaMaxLowerBound: number | null;
  /** Unconverged bottom end only: the smallest Ritz value, an upper bound on lambda_min (else null). */
  lambdaMinUpperBound: number | null;
  seconds: Record<string, number>;
  /** Which Hessian the numbers above are of: always the plain (unregularised) cross-entropy's. */
  hessian: 'cross-entropy';
  /** With weight decay (given or recorded in the model) > 0: the regularised objective's lambda_max and bound (shifted by wd). */
  objective: ObjectiveCurvature | null;
  /** Health of the point (see docs/diagnostics.md). */
  diagnostics: Diagnostics;
  /** With `blocks: true`: each layer's diagonal block (W and b together), exact. */
  blocks?: LayerBlock[];
}

const METHODS = ['dense', 'lanczos', 'auto'] as const;
const ASSEMBLIES = ['auto', 'kronecker', 'hvp'] as const;
const WHICH = ['largest', 'smallest', 'both'] as const;

function oneOf<T extends string>(value: T | undefined, allowed: readonly T[], fallback: T, name: string): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) fail('BAD_OPTION', `unknown ${name} '${String(value)}'`, `use one of: ${allowed.join(', ')}`);
  return value;
}

function positiveInteger(value: number | undefined, fallback: number, name: string, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max)
    fail('BAD_OPTION', `${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  return value;
}

/** What the kernel's "analyze" command returns: the result before the facade adds its parts. */
type KernelResult = Omit<AnalyzeResult, 'backend' | 'bound' | 'boundRatio' | 'traceSource' | 'converged' | 'lambdaMaxLowerBound' | 'lambdaMinUpperBound'> & {
  /** The deterministic option as the kernel understood it (absent from kernels that predate it). */
  deterministic?: boolean;
};

/** Chooses dense or Lanczos; throws TOO_LARGE when dense was asked for and cannot fit. */
export function chooseMethod(method: Method, parameters: number, backend: KernelBackend, maxMemoryBytes?: number): 'dense' | 'lanczos' {
  const budget = memoryBudget(backend, maxMemoryBytes);
  if (method === 'auto') return denseIsComfortable(parameters, budget) ? 'dense' : 'lanczos';
  if (method === 'dense') assertDenseFits(parameters, budget, backend);
  return method;
}

export function boundsFromTraces(backend: KernelBackend, trace: number, traceOfSquare: number, parameters: number): WsBounds {
  if (!Number.isFinite(trace) || !Number.isFinite(traceOfSquare))
    fail(
      'NON_FINITE',
      `the traces overflow float64 (tr(H) = ${trace}, tr(H^2) = ${traceOfSquare}): the weights are so large that the squared Hessian entries exceed 1.8e308`,
      'rescale the model (its curvature grows with the square of the weight scale), or compute only the spectrum with bound: false (CLI --no-bound)',
      'rescale the model (its curvature grows with the square of the weight scale), or compute only the spectrum with --no-bound',
    );
  const { frobenius: _frobenius, ...bound } = backend.wsBounds(trace, traceOfSquare, parameters);
  return bound;
}

export async function analyze(modelInput: ModelInput, dataInput: DataInput, options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  checkCallOptions(options);
  const model = toModel(modelInput);
  const data = toDatasetInput(dataInput);
  const requested = oneOf(options.method, METHODS, 'auto', 'method');
  const assembly = oneOf(options.assembly, ASSEMBLIES, 'auto', 'assembly');
  const which = oneOf(options.which, WHICH, 'both', 'which');
  const k = positiveInteger(options.k, 1, 'k', 100);
  const maxIterations = positiveInteger(options.maxIterations, 300, 'maxIterations', 100000);
  const tolerance = options.tolerance ?? 1e-10;
  if (!(tolerance > 0 && tolerance < 1)) fail('BAD_OPTION', `tolerance must be in (0, 1), got ${String(tolerance)}`);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) fail('BAD_OPTION', `seed must be a non-negative integer, got ${String(seed)}`);
  const objective = resolveObjective(model, options.weightDecay);
  const { weightDecay } = objective;

  const backend = await getBackend(options.backend);
  const spec = toProblemSpec(model, data, options.reduction);
  const parameters = parameterCount(model);
  const method = chooseMethod(requested, parameters, backend, options.maxMemoryBytes);
  const budget = memoryBudget(backend, options.maxMemoryBytes);
  // Everything the kernel will allocate, checked before it allocates any of it.
  const sizes = Array.from(spec.sizes);
  assertCallFits(
    backend,
    method === 'dense'
      ? [forwardCache(sizes, spec.samples), denseHessian(parameters)]
      : [forwardCache(sizes, spec.samples), hvpScratch(sizes, spec.samples, closedFormThreads(backend)), lanczosBasis(parameters, maxIterations)],
    options.maxMemoryBytes,
  );
  const boundOption = options.bound ?? 'auto';
  if (boundOption !== true && boundOption !== false && boundOption !== 'auto')
    fail('BAD_OPTION', `bound must be true, false or 'auto', got ${String(boundOption)}`);
  const budgetSeconds = options.boundBudgetSeconds ?? 60;
  if (!(budgetSeconds >= 0)) fail('BAD_OPTION', `boundBudgetSeconds must be a non-negative number, got ${String(budgetSeconds)}`);
  let closedForm = method === 'lanczos' && model.layers.length === 2 && boundOption !== false;
  let boundEstimate: CostEstimate | undefined;
  if (closedForm) {
    if (!options.tiles) assertCallFits(backend, [forwardCache(sizes, spec.samples), closedFormWork(sizes, spec.samples, closedFormThreads(backend))], options.maxMemoryBytes);
    // Before the wait: what the exact traces will cost here, and whether they fit the budget.
    boundEstimate = await estimateTracesCost(backend, spec);
    const skip = boundOption === 'auto' && !options.tiles && boundEstimate.seconds !== null && boundEstimate.seconds > budgetSeconds;
    options.onBoundCost?.(boundEstimate, skip ? 'skip' : 'compute');
    if (skip) closedForm = false;
  }
  // Progress: the eigen-solve, then the traces, in proportion to their expected times when known.
  const tracesShare = closedForm && boundEstimate?.seconds && boundEstimate.hutchpp
    ? boundEstimate.seconds / (boundEstimate.seconds + (100 * boundEstimate.hutchpp.seconds) / boundEstimate.hutchpp.products)
    : closedForm ? 0.5 : 0;
  const onProgress = options.onProgress;
  const eigenProgress = onProgress && tracesShare > 0 ? (f: number) => onProgress(f * (1 - tracesShare)) : onProgress;
  const text = await backend.run(
    'analyze',
    spec,
    {
      method: method === 'dense' ? 0 : 1,
      assembly: ASSEMBLIES.indexOf(assembly),
      k,
      which: WHICH.indexOf(which),
      tolerance,
      maxIterations,
      seed,
      maxDenseBytes: Math.min(budget, Number.MAX_SAFE_INTEGER),
      ...(options.deterministic ? { deterministic: 1 } : {}),
    },
    eigenProgress,
    options.signal,
  );
  const r = JSON.parse(text) as KernelResult;
  assertDeterministicHonoured(options.deterministic, r.deterministic, backend.name);
  let traceSource: AnalyzeResult['traceSource'] = r.trace !== null ? 'dense' : boundEstimate ? 'skipped' : 'none';
  if (r.trace === null && closedForm) {
    // Lanczos gives no traces; for one hidden layer the closed form does, exactly.
    const t = await closedFormTraces(backend, spec, {
      orthogonality: false,
      ...(options.tiles ? { tiles: options.tiles } : {}),
      ...(options.deterministic ? { deterministic: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onProgress ? { onProgress: (f: number) => onProgress(1 - tracesShare + f * tracesShare) } : {}),
    });
    r.trace = t.trace;
    r.traceOfSquare = t.traceOfSquare;
    r.seconds['traces'] = t.seconds.total;
    traceSource = 'closed-form';
  }
  const bound = r.trace !== null && r.traceOfSquare !== null ? boundsFromTraces(backend, r.trace, r.traceOfSquare, parameters) : null;
  // An unconverged end is never reported as an eigenvalue: its extreme Ritz value is only a bound.
  const partial = partialEnds(r, which);
  if (partial.top) r.lambdaMax = null;
  if (partial.bottom) r.lambdaMin = null;
  const blockStart = globalThis.performance.now();
  const blocks = options.blocks
    ? await layerBlocks(backend, spec, { method: method === 'lanczos' ? 'lanczos' : 'auto', maxDenseBytes: budget, tolerance, maxIterations, seed })
    : undefined;
  if (blocks) r.seconds['blocks'] = (globalThis.performance.now() - blockStart) / 1000;
  const diagnosticsStart = globalThis.performance.now();
  const diagnostics = await pointDiagnostics(
    backend,
    spec,
    model,
    data,
    {
      weightDecay,
      // Ritz values of an unconverged end are no eigenvalues: no lambda_2 / lambda_1 from them.
      topEigenvalues: partial.top ? [] : r.topEigenvalues,
      lambdaMin: partial.bottom || (r.lanczos && which === 'largest') ? null : r.lambdaMin,
      trace: r.trace,
      traceOfSquare: r.traceOfSquare,
      // Only the ends asked for count: `which: 'largest'` does not wait for lambda_min.
      ...(r.lanczos ? { eigenConverged: !partial.top && !partial.bottom } : {}),
    },
    options.signal,
  );
  r.seconds['diagnostics'] = (globalThis.performance.now() - diagnosticsStart) / 1000;
  return {
    backend: backend.name,
    method: r.method,
    parameters: r.parameters,
    samples: r.samples,
    loss: r.loss,
    gradNorm: r.gradNorm,
    trace: r.trace,
    traceOfSquare: r.traceOfSquare,
    lambdaMax: r.lambdaMax,
    lambdaMin: r.lambdaMin,
    bound,
    boundRatio: bound && r.lambdaMax ? bound.upper / r.lambdaMax : null,
    traceSource,
    ...(boundEstimate ? { boundEstimate } : {}),
    converged: !partial.top && !partial.bottom,
    lambdaMaxLowerBound: partial.top ? (r.topEigenvalues[0] ?? null) : null,
    lambdaMinUpperBound: partial.bottom ? (r.bottomEigenvalues[0] ?? null) : null,
    topEigenvalues: r.topEigenvalues,
    bottomEigenvalues: r.bottomEigenvalues,
    ...(r.eigenvalues ? { eigenvalues: r.eigenvalues } : {}),
    ...(r.lanczos ? { lanczos: r.lanczos } : {}),
    seconds: r.seconds,
    ...(blocks ? { blocks } : {}),
    hessian: 'cross-entropy',
    objective: objectiveCurvature(objective, r.lambdaMax, bound ? bound.upper : null),
    diagnostics,
  };
}

/** Which asked-for Lanczos ends stopped before converging (dense results are exact). */
function partialEnds(r: KernelResult, which: Which): { top: boolean; bottom: boolean } {
  if (!r.lanczos) return { top: false, bottom: false };
  return {
    top: which !== 'smallest' && !r.lanczos.topConverged,
    bottom: which !== 'largest' && !r.lanczos.bottomConverged,
  };
}
