/**
 * Typed access to the kernel's "traces" command: tr(H), tr(H^2) and the Wolkowicz–Styan bounds.
 * One hidden layer: the closed form (docs/closed-form.md), exact, with its decomposition. Deeper
 * networks: exact traces of the dense Hessian when it fits, else Hutch++ estimates with an interval.
 */
import { checkCallOptions } from './backend/cancel.js';
import { assertDeterministicHonoured } from './analysis/deterministic-guard.js';
import type { Diagnostics } from './analysis/diagnostics.js';
import { objectiveCurvature, pointDiagnostics, resolveObjective, type ObjectiveCurvature } from './analysis/point-diagnostics.js';
import type { KernelBackend, ProblemSpec, ProgressCallback } from './backend/types.js';
import type { WsBounds } from './analyze.js';
import { getBackend } from './backend/select.js';
import { fail, HessboundError } from './errors.js';
import { toDatasetInput, toModel, type DataInput, type ModelInput } from './inputs.js';
import { toProblemSpec } from './problem.js';
import { assertCallFits, closedFormThreads, closedFormWork, forwardCache, hutchppBasis, hvpScratch } from './resources/memory-plan.js';
import type { BackendName, Reduction } from './types.js';
import { tilePlan, tileSumOptions, type TileSource } from './split/tile-sums.js';

/** 'auto': dual or primal by a cost estimate (one hidden layer), else dense when it fits, else Hutch++. */
export const TRACE_METHODS = ['auto', 'dual', 'primal', 'dense', 'hutch++'] as const;
export type TraceMethod = (typeof TRACE_METHODS)[number];

export interface ClosedFormTracesOptions {
  method?: TraceMethod;
  /** Deeper networks: largest dense Hessian (bytes) before switching to Hutch++ (default 1 GiB or the backend's limit). */
  maxDenseBytes?: number;
  /** Scratch memory of the closed form's tiles and panels, in bytes (default 256 MiB). */
  workBytes?: number;
  /** Hutch++: Hessian-vector products in all (default 150, at least 6). */
  probes?: number;
  /** Hutch++: seed of the random probes (default 0). */
  seed?: number;
  /** Hutch++: confidence level of the interval (default 0.95). */
  confidence?: number;
  /** Compute the data-orthogonality summary (O(N^2 d); default true). */
  orthogonality?: boolean;
  /**
   * Run every BLAS call on one thread, so the traces do not change in the last bits with the BLAS
   * thread count or with other threads' calls in the process (sweeps set it; default false).
   */
  deterministic?: boolean;
  /**
   * Compute the closed form's sample-pair tiles elsewhere (one hidden layer, dual evaluation): e.g.
   * queueTileSource from hessbound/queue spreads them over `hessbound worker`s. The result has the
   * bits of a local run with method 'dual' (docs/distributed.md).
   */
  tiles?: TileSource;
  /** Cancels the call: it rejects with HessboundError code ABORTED (native: checked in the kernel's loops). */
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

export interface TraceAndSquare {
  trace: number;
  traceOfSquare: number;
}

/** The five Wolkowicz–Styan numbers (the same type analyze() reports). */
export type WsBoundSet = WsBounds;

/**
 * Where tr(H) and tr(H^2) come from (one hidden layer, closed form only). H = G + R with G the
 * Gauss–Newton matrix and R the residual (sigma'' term in the hidden block, gradient term in the
 * cross block). The parts add up exactly:
 *   trace         = blocks.output.trace + blocks.hidden.trace = gaussNewton.trace + residual.trace
 *   traceOfSquare = output + hidden + cross (traceOfSquare)    = gaussNewton + residual + mixed
 */
export interface TraceDecomposition {
  blocks: {
    /** Output layer block H22 = sum_n A_n (x) z~z~^T. */
    output: TraceAndSquare;
    /** Hidden layer block H11. */
    hidden: TraceAndSquare;
    /** 2 ||H21||_F^2 (the cross block sits above and below the diagonal; it has no trace). */
    cross: { traceOfSquare: number };
  };
  gaussNewton: TraceAndSquare;
  residual: TraceAndSquare & {
    /** diag(e_n) (x) x~x~^T in the hidden block, e = sigma''(u) * (W2^T g). */
    sigmaSecond: TraceAndSquare;
    /** g_k [a == j] s_j x~_b in the cross block (trace 0; traceOfSquare counts both copies). */
    gradientCross: TraceAndSquare;
  };
  /** 2 <G, R>_F. */
  mixed: number;
  /**
   * True for identity, relu and leaky_relu: sigma'' = 0 (between kinks), so residual.sigmaSecond is
   * exactly 0 and its passes were skipped (the cost estimate leaves them out too).
   */
  sigmaSecondVanishes: boolean;
}

export interface OrthogonalitySummary {
  /** Mean and max |cos| between distinct samples' raw inputs x (no bias); null for one sample or when skipped. */
  meanAbsCosine: number | null;
  maxAbsCosine: number | null;
  /** N (N - 1) / 2; null when skipped. */
  pairs: number | null;
  /** tr(H^2) with Kx off the diagonal set to 0 (closed form only; see docs/closed-form.md). */
  traceOfSquareIfOrthogonal: number | null;
  /**
   * A counterfactual, not a bound on this network: the WS numbers of tr(H) and the what-if
   * traceOfSquareIfOrthogonal. Its `upper` can be below the true lambda_max (0.47 against 1.05 on
   * a digits net); it says how much of the bound the input overlaps account for.
   */
  orthogonalCounterfactual: WsBoundSet | null;
}

/** The kernel's JSON still says boundIfOrthogonal: renamed here, so nobody reads it as a bound. */
function renameCounterfactual(result: ClosedFormTraces & { orthogonality: { boundIfOrthogonal?: WsBoundSet | null } }): ClosedFormTraces {
  const { boundIfOrthogonal, ...rest } = result.orthogonality;
  result.orthogonality = { ...rest, orthogonalCounterfactual: boundIfOrthogonal ?? null } as OrthogonalitySummary;
  return result;
}

export interface ClosedFormTraces {
  parameters: number;
  samples: number;
  loss: number;
  gradNorm: number;
  trace: number;
  traceOfSquare: number;
  bound: WsBoundSet;
  /** sqrt(tr H^2) >= |lambda| for every eigenvalue. */
  frobenius: number;
  closedForm: boolean;
  /** The deterministic option as the kernel understood it. */
  deterministic?: boolean;
  estimated: boolean;
  method: Exclude<TraceMethod, 'auto'>;
  decomposition: TraceDecomposition | null;
  orthogonality: OrthogonalitySummary;
  /** Hutch++ only: intervals at `confidence` (conditional on the sketch, CLT-based). */
  interval: { trace: [number, number]; traceOfSquare: [number, number]; confidence: number } | null;
  hutchpp?: { products: number; sketch: number; probes: number; traceOfSketch: number; traceOfSquareOfSketch: number };
  /** One hidden layer: the multiply-add estimates `auto` compares. */
  cost?: { dual: number; primal: number };
  /**
   * Dual only: the side of the sample tiles, how many tiles the upper triangle of sample pairs
   * makes, and how many of the kernel's threads ran them (HESSBOUND_THREADS; the result does not
   * depend on it).
   */
  tiles?: { size: number; count: number; threads: number };
  /** Closed form: the kernel threads the tiles (dual) or panel blocks (primal) were split over, at most. */
  threads?: number;
  seconds: { forward: number; traces: number; orthogonality: number; total: number };
}

const DEFAULT_MAX_DENSE_BYTES = 2 ** 30;

function positive(value: number | undefined, name: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const ok = Number.isFinite(value) && value > 0 && (!integer || Number.isSafeInteger(value));
  if (!ok) fail('BAD_OPTION', `${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`);
  return value;
}

/** The numeric options of the kernel command, checked. */
export function tracesKernelOptions(backend: KernelBackend, options: ClosedFormTracesOptions): Record<string, number> {
  const method = options.method ?? 'auto';
  const code = TRACE_METHODS.indexOf(method);
  if (code < 0) fail('BAD_OPTION', `unknown trace method '${String(method)}'`, `use one of: ${TRACE_METHODS.join(', ')}`);
  const out: Record<string, number> = {
    method: code,
    maxDenseBytes: positive(options.maxDenseBytes, 'maxDenseBytes', true) ?? Math.min(DEFAULT_MAX_DENSE_BYTES, backend.maxDenseBytes),
  };
  const workBytes = positive(options.workBytes, 'workBytes', true);
  if (workBytes !== undefined) out['workBytes'] = workBytes;
  const probes = positive(options.probes, 'probes', true);
  if (probes !== undefined) {
    if (probes < 6) fail('BAD_OPTION', `probes must be at least 6 (Hutch++ splits them three ways), got ${probes}`);
    out['probes'] = probes;
  }
  if (options.seed !== undefined) {
    if (!Number.isSafeInteger(options.seed) || options.seed < 0)
      fail('BAD_OPTION', `seed must be a non-negative integer, got ${String(options.seed)}`);
    out['seed'] = options.seed;
  }
  if (options.confidence !== undefined) {
    if (!(options.confidence > 0 && options.confidence < 1))
      fail('BAD_OPTION', `confidence must be between 0 and 1, got ${String(options.confidence)}`);
    out['confidence'] = options.confidence;
  }
  if (options.orthogonality !== undefined) out['orthogonality'] = options.orthogonality ? 1 : 0;
  if (options.deterministic) out['deterministic'] = 1;
  return out;
}

/** tr(H), tr(H^2), the WS bounds and (one hidden layer) their decomposition, from the kernel. */
export async function closedFormTraces(
  backend: KernelBackend,
  spec: ProblemSpec,
  options: ClosedFormTracesOptions = {},
): Promise<ClosedFormTraces> {
  checkCallOptions(options);
  const kernelOptions = tracesKernelOptions(backend, options);
  const sizes = Array.from(spec.sizes);
  const oneHidden = sizes.length === 3;
  const P = spec.params.length;
  if (options.tiles) return splitTraces(backend, spec, options, options.tiles, kernelOptions);
  // Deeper nets: dense traces when they fit the kernel's maxDenseBytes (it checks), else Hutch++.
  assertCallFits(backend, [
    forwardCache(sizes, spec.samples),
    ...(oneHidden && method(options) !== 'hutch++' && method(options) !== 'dense'
      ? [closedFormWork(sizes, spec.samples, closedFormThreads(backend), method(options) === 'primal' ? 'primal' : method(options) === 'dual' ? 'dual' : 'auto')]
      : [hvpScratch(sizes, spec.samples), hutchppBasis(P, kernelOptions['probes'] ?? 150)]),
  ]);
  return tracesResult(backend, spec, kernelOptions, options, options.onProgress);
}

/** The dual evaluation's tiles from `tiles` (elsewhere), then the rest of the point here. */
async function splitTraces(
  backend: KernelBackend,
  spec: ProblemSpec,
  options: ClosedFormTracesOptions,
  tiles: TileSource,
  kernelOptions: Record<string, number>,
): Promise<ClosedFormTraces> {
  if (typeof tiles !== 'function') fail('BAD_OPTION', 'tiles must be a TileSource function (e.g. queueTileSource from hessbound/queue)');
  const m = method(options);
  if (m !== 'auto' && m !== 'dual') fail('BAD_OPTION', `a point split into tiles uses the dual evaluation; trace method '${m}' cannot be split`, "use --trace-method dual (or auto), or run without --queue");
  // Here only the forward pass and the O(N) parts: the tiles' scratch is on the workers.
  assertCallFits(backend, [forwardCache(Array.from(spec.sizes), spec.samples)]);
  const plan = await tilePlan(backend, spec, options.workBytes !== undefined ? { workBytes: options.workBytes } : {});
  const onProgress = options.onProgress;
  const totals = await tiles({
    backend,
    spec,
    plan,
    ...(options.workBytes !== undefined ? { workBytes: options.workBytes } : {}),
    ...(options.deterministic ? { deterministic: true } : {}),
    ...(onProgress ? { onProgress: (f: number) => onProgress(0.95 * f) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return tracesResult(backend, spec, { ...kernelOptions, ...tileSumOptions(totals, plan.count) }, options, onProgress ? (f) => onProgress(0.95 + 0.05 * f) : undefined);
}

async function tracesResult(
  backend: KernelBackend,
  spec: ProblemSpec,
  kernelOptions: Record<string, number>,
  options: ClosedFormTracesOptions,
  onProgress: ProgressCallback | undefined,
): Promise<ClosedFormTraces> {
  const text = await backend.run('traces', spec, kernelOptions, onProgress, options.signal).catch((e: unknown) => {
    // Finite inputs whose traces overflow: say so, instead of "need finite traces".
    if (e instanceof HessboundError && e.code === 'NON_FINITE' && /WS bounds need finite traces/.test(e.message))
      fail('NON_FINITE', 'the traces overflow float64: the weights are so large that the squared Hessian entries exceed 1.8e308', 'rescale the model (its curvature grows with the square of the weight scale)');
    throw e;
  });
  const result = renameCounterfactual(JSON.parse(text) as ClosedFormTraces & { orthogonality: { boundIfOrthogonal?: WsBoundSet | null } });
  assertDeterministicHonoured(options.deterministic, result.deterministic, backend.name);
  return result;
}

export interface WsBoundOptions extends ClosedFormTracesOptions {
  reduction?: Reduction;
  backend?: BackendName | 'auto';
  /**
   * The weight decay the model was trained with: adds the objective's bound (+ wd) and judges the
   * diagnostics by that objective. Default: what the model records (train() saves it), else 0.
   */
  weightDecay?: number;
}

export type WsBoundResult = ClosedFormTraces & {
  backend: BackendName;
  /** Which Hessian the traces and bound are of: the plain cross-entropy's. */
  hessian: 'cross-entropy';
  /** With weight decay (given or recorded in the model) > 0: the regularised objective's bound (shifted by wd). */
  objective: ObjectiveCurvature | null;
  /** Health of the point (see docs/diagnostics.md). */
  diagnostics: Diagnostics;
};

/**
 * The paper's bound without an eigensolve: tr(H) and tr(H^2) in closed form (one hidden layer) or
 * from the dense Hessian / Hutch++ (deeper), then the five Wolkowicz–Styan numbers.
 */
export async function wsBound(modelInput: ModelInput, dataInput: DataInput, options: WsBoundOptions = {}): Promise<WsBoundResult> {
  checkCallOptions(options);
  const model = toModel(modelInput);
  const data = toDatasetInput(dataInput);
  const backend = await getBackend(options.backend);
  const spec = toProblemSpec(model, data, options.reduction);
  const { weightDecay: wdOption, ...traceOptions } = options;
  const objective = resolveObjective(model, wdOption);
  const { weightDecay } = objective;
  const result = await closedFormTraces(backend, spec, traceOptions);
  const diagnostics = await pointDiagnostics(backend, spec, model, data, { weightDecay, trace: result.trace, traceOfSquare: result.traceOfSquare }, options.signal);
  return {
    backend: backend.name,
    ...result,
    hessian: 'cross-entropy',
    objective: objectiveCurvature(objective, null, result.bound.upper),
    diagnostics,
  };
}

function method(options: ClosedFormTracesOptions): string {
  return options.method ?? 'auto';
}
