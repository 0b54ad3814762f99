/**
 * What the exact traces (hence the exact WS bound) of a model on a data set will cost, before the
 * wait: the multiply-adds of each evaluation and the time on this machine, extrapolated from a
 * quick run of the same kernel on a few samples. The dual closed form costs O(N^2 c^2 h), so at
 * 60,000 samples it can take hours where lambda_max by Lanczos takes a minute; the CLI prints this
 * estimate before a long computation and `analyze` uses it to skip the bound (docs/closed-form.md,
 * section "Before the wait").
 */
import type { KernelBackend, ProblemSpec } from './backend/types.js';
import { getBackend } from './backend/select.js';
import { tracesKernelOptions, type TraceMethod } from './bound.js';
import { toDatasetInput, toModel, type DataInput, type ModelInput } from './inputs.js';
import { toProblemSpec } from './problem.js';
import type { BackendName, Reduction } from './types.js';

export interface CostEstimateOptions {
  /** The traces' evaluation (default 'auto': what `bound` and `analyze` would run). */
  method?: TraceMethod;
  reduction?: Reduction;
  backend?: BackendName | 'auto';
  /** Scratch of the closed form (as in wsBound; it sets the tile size). */
  workBytes?: number;
  /** Hutch++ products the alternative would use (default 150). */
  probes?: number;
}

export interface CostEstimate {
  backend: BackendName;
  parameters: number;
  samples: number;
  /** The exact evaluation that would run: 'dual' or 'primal' (one hidden layer), 'dense' or 'hutch++' (deeper nets). */
  method: Exclude<TraceMethod, 'auto'>;
  /** Multiply-adds of the closed form's two evaluations (one hidden layer; the kernel's cost model). */
  multiplyAdds: { dual: number; primal: number } | null;
  /** Dual: tiles of sample pairs and the kernel threads that would run them. */
  tiles: { size: number; count: number; threads: number } | null;
  /**
   * Estimated seconds of the exact traces on this machine: a run of the same kernel on `probe.samples`
   * samples, scaled by the multiply-add (dual: tile) count and divided by the threads. null when the
   * method is not a closed form (dense and Hutch++ paths are not estimated here).
   */
  seconds: number | null;
  /** The measured run the estimate scales; null when nothing was measured. */
  probe: { samples: number; seconds: number; multiplyAdds: number; threads: number } | null;
  /** Hutch++ alternative: one measured Hessian-vector product times `probes` (an interval, not the exact value). */
  hutchpp: { products: number; seconds: number } | null;
}

/** Below this many multiply-adds the traces take seconds at most on any backend: no probe is run. */
export const PROBE_THRESHOLD = 2e10;
/** The probe's target cost (multiply-adds): tens of milliseconds natively. */
const PROBE_MULTIPLY_ADDS = 1e9;

/**
 * The kernel's plan for `spec`: method, multiply-adds and tiles, without computing anything. Only
 * the first sample is passed (with planSamples = N), so a large data set is not copied for it.
 */
async function plan(backend: KernelBackend, spec: ProblemSpec, options: CostEstimateOptions): Promise<{
  method: Exclude<TraceMethod, 'auto'>;
  cost?: { dual: number; primal: number };
  tiles?: { size: number; count: number; threads: number };
}> {
  const text = await backend.run('traces', firstSamples(spec, 1), { ...tracesKernelOptions(backend, options), plan: 1, planSamples: spec.samples });
  return JSON.parse(text) as Awaited<ReturnType<typeof plan>>;
}

/** The first n samples of a problem. */
function firstSamples(spec: ProblemSpec, n: number): ProblemSpec {
  const d = spec.sizes[0]!;
  const c = spec.sizes[spec.sizes.length - 1]!;
  return { ...spec, x: spec.x.subarray(0, n * d), targets: spec.targets.subarray(0, n * c), samples: n };
}

function now(): number {
  return globalThis.performance.now() / 1000;
}

/** estimateCost on a problem already in kernel form (analyze and the CLI use it). */
export async function estimateTracesCost(backend: KernelBackend, spec: ProblemSpec, options: CostEstimateOptions = {}): Promise<CostEstimate> {
  const full = await plan(backend, spec, options);
  const P = spec.params.length;
  const out: CostEstimate = {
    backend: backend.name,
    parameters: P,
    samples: spec.samples,
    method: full.method,
    multiplyAdds: full.cost ?? null,
    tiles: full.method === 'dual' ? (full.tiles ?? null) : null,
    seconds: null,
    probe: null,
    hutchpp: null,
  };
  if (!full.cost || (full.method !== 'dual' && full.method !== 'primal')) return out;
  const total = full.method === 'dual' ? full.cost.dual : full.cost.primal;
  if (total < PROBE_THRESHOLD) {
    // Cheap everywhere: not worth a measurement; say so with a null time and no probe.
    return out;
  }
  // Probe: the same kernel on the first n samples, n chosen so the run costs about 1e9
  // multiply-adds (dual: per pair cost c^2 h, so n ~ sqrt; primal: linear), within one tile.
  const perUnit = full.method === 'dual' ? (2 * full.cost.dual) / (spec.samples * spec.samples) : full.cost.primal / spec.samples;
  const wanted = full.method === 'dual' ? Math.sqrt((2 * PROBE_MULTIPLY_ADDS) / perUnit) : PROBE_MULTIPLY_ADDS / perUnit;
  const cap = full.method === 'dual' ? (full.tiles?.size ?? 256) : spec.samples;
  const n = Math.max(Math.min(spec.samples, 16), Math.min(spec.samples, cap, Math.round(wanted)));
  const probeSpec = firstSamples(spec, n);
  const kernelOptions = { ...tracesKernelOptions(backend, { ...options, method: full.method, orthogonality: false }) };
  const text = await backend.run('traces', probeSpec, kernelOptions);
  const probe = JSON.parse(text) as { seconds: { traces: number }; cost: { dual: number; primal: number }; tiles?: { count: number; threads: number } };
  const probeSeconds = Math.max(probe.seconds.traces, 1e-6);
  const probeCost = full.method === 'dual' ? probe.cost.dual : probe.cost.primal;
  const probeThreads = probe.tiles?.threads ?? 1;
  // Dual: time per tile of the probe (one tile of n samples, a diagonal one) times the full run's
  // tiles of side `size`, scaled by (size / n)^2, over its threads. Primal: linear in N.
  let seconds: number;
  if (full.method === 'dual' && full.tiles) {
    const probeTiles = probe.tiles?.count ?? 1;
    const perTile = (probeSeconds * probeThreads) / probeTiles;
    const scale = (full.tiles.size / n) ** 2;
    seconds = (perTile * scale * full.tiles.count) / Math.max(1, full.tiles.threads);
  } else {
    seconds = (probeSeconds * total) / Math.max(probeCost, 1);
  }
  out.seconds = seconds;
  out.probe = { samples: n, seconds: probeSeconds, multiplyAdds: probeCost, threads: probeThreads };
  // Hutch++: one product on up to 2,000 samples, timed and scaled to N (a product is linear in N).
  const products = options.probes ?? 150;
  const hvpSamples = Math.min(spec.samples, 2000);
  const v = new Float64Array(P).fill(1 / Math.sqrt(P));
  const hvpStart = now();
  await backend.hvp(firstSamples(spec, hvpSamples), v, 1);
  out.hutchpp = { products, seconds: (products * (now() - hvpStart) * spec.samples) / hvpSamples };
  return out;
}

/**
 * The cost of the exact traces (and WS bound) of `model` on `data`, before computing them: the
 * multiply-adds of the closed form's dual and primal evaluations, which one `auto` picks, and the
 * seconds it would take here (measured on a few samples and extrapolated; null when the count is
 * small enough not to matter, below 2e10 multiply-adds).
 */
export async function estimateCost(modelInput: ModelInput, dataInput: DataInput, options: CostEstimateOptions = {}): Promise<CostEstimate> {
  const model = toModel(modelInput);
  const data = toDatasetInput(dataInput);
  const backend = await getBackend(options.backend);
  return estimateTracesCost(backend, toProblemSpec(model, data, options.reduction), options);
}

/** "3.2 min", "1.4 h": a duration for people. */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The lines the CLI prints before a long exact computation (or when analyze skips it). */
export function costNotice(e: CostEstimate, how: 'computing' | 'skipped', command: 'bound' | 'analyze'): string {
  const ops = e.multiplyAdds ? (e.method === 'primal' ? e.multiplyAdds.primal : e.multiplyAdds.dual) : null;
  const where = e.tiles ? `, ${e.tiles.threads} thread${e.tiles.threads === 1 ? '' : 's'}` : '';
  const time = e.seconds !== null ? `about ${formatDuration(e.seconds)} on this machine (${e.backend}${where}; from a ${e.probe?.samples}-sample run)` : 'time not estimated';
  const head =
    how === 'skipped'
      ? `hessbound: skipping the exact WS bound: its traces (${e.method} closed form, ${ops?.toExponential(1)} multiply-adds) would take ${time}.`
      : `hessbound: the exact traces (${e.method} closed form, ${ops?.toExponential(1)} multiply-adds) will take ${time}.`;
  const hutch = e.hutchpp ? ` (about ${formatDuration(e.hutchpp.seconds)})` : '';
  const avoid =
    command === 'analyze'
      ? how === 'skipped'
        ? `  to compute it anyway: --bound; an interval instead: hessbound bound --trace-method hutch++${hutch}`
        : `  to avoid it: --no-bound (lambda_max only), or hessbound bound --trace-method hutch++ for an interval${hutch}`
      : `  to avoid it: --trace-method hutch++ for an interval${hutch} instead of the exact value; Ctrl-C cancels`;
  return `${head}\n${avoid}\n`;
}
