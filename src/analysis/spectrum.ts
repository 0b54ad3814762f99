/**
 * spectrum(): the Hessian's eigenvalue spectral density, smoothed by a Gaussian kernel.
 *  - 'dense': the exact eigenvalues (weights 1/P each);
 *  - 'slq': stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017; Ghorbani et al. 2019): K
 *    Rademacher probes, M Lanczos steps each with full reorthogonalization (in the kernel, command
 *    "slq"); per probe the Gauss quadrature of its tridiagonal T (nodes: Ritz values, weights:
 *    squared first components of T's eigenvectors, summing to 1), averaged over probes.
 * The spread across probes gives the error estimates: the standard error of the density's mean
 * (an unbiased estimate of tr(H)/P) and a pointwise standard error of the density.
 */
import { analyze, boundsFromTraces, chooseMethod, type WsBounds } from '../analyze.js';
import { getBackend } from '../backend/select.js';
import type { ProgressCallback } from '../backend/types.js';
import { closedFormTraces } from '../bound.js';
import { fail } from '../errors.js';
import { toDatasetInput, toModel, type DataInput, type ModelInput } from '../inputs.js';
import { parameterCount } from '../model.js';
import { toProblemSpec } from '../problem.js';
import type { BackendName, Reduction } from '../types.js';
import { defaultKernelWidth, densityGrid, gaussianMixture, trapezoid } from './density.js';

export type SpectrumMethod = 'dense' | 'slq' | 'auto';

export interface SpectrumOptions {
  /** 'auto' (default): dense when the Hessian fits comfortably (as analyze), else SLQ. */
  method?: SpectrumMethod;
  /** SLQ: Rademacher probes K (default 10). */
  probes?: number;
  /** SLQ: Lanczos steps M per probe (default 90; at most P). */
  steps?: number;
  /** SLQ: seed of the probes (default 0). */
  seed?: number;
  /** Grid points (default 1000). */
  grid?: number;
  /** Grid ends (default: extreme nodes -/+ 6 kernel widths). */
  range?: readonly [number, number];
  /** Gaussian kernel standard deviation (default 1% of lambda_max - lambda_min). */
  kernelWidth?: number;
  /** Compute tr(H), tr(H^2) and the WS bound for SLQ (closed form / dense / Hutch++; default true). */
  bound?: boolean;
  reduction?: Reduction;
  backend?: BackendName | 'auto';
  maxMemoryBytes?: number;
  onProgress?: ProgressCallback;
}

export interface SlqDetails {
  probes: number;
  steps: number;
  seed: number;
  /** Hessian-vector products used. */
  products: number;
  /** Each probe's quadrature: nodes (ascending Ritz values) and weights. */
  quadratures: Array<{ nodes: number[]; weights: number[] }>;
  /** z^T H z / P per probe: unbiased estimates of tr(H)/P. */
  quadraticForms: number[];
  /** Pointwise standard error of the density (spread across probes / sqrt K); zeros for one probe. */
  densityStdError: number[];
  /** Ritz residual bounds |beta_M s_M| of the extreme nodes (absolute; 0 when T is exact). */
  lambdaMaxResidual: number;
  lambdaMinResidual: number;
}

export interface SpectrumResult {
  method: 'dense' | 'slq';
  backend: BackendName;
  /** Number of model parameters P (the Hessian is P x P). */
  parameters: number;
  samples: number;
  loss: number;
  /** The settings used. */
  settings: { grid: number; kernelWidth: number; range: [number, number]; probes: number | null; steps: number | null; seed: number | null };
  grid: number[];
  density: number[];
  kernelWidth: number;
  /** Trapezoid integral of the density over the grid (1 up to ~1e-8). */
  integral: number;
  /** First moment of the unsmoothed spectrum: tr(H)/P (dense exact; SLQ an estimate). */
  mean: number;
  /** SLQ: standard error of `mean` across probes (null for dense, or one probe). */
  meanStdError: number | null;
  /** Dense: exact extremes. SLQ: the extreme Ritz values over all probes (inside the true range). */
  lambdaMax: number;
  lambdaMin: number;
  trace: number | null;
  traceOfSquare: number | null;
  /** WS bounds from tr(H), tr(H^2) (null when not computed). */
  bound: WsBounds | null;
  /** Where the traces came from; 'hutch++' means estimated. */
  traceSource: 'dense' | 'dual' | 'primal' | 'hutch++' | 'none';
  /** Dense only: all eigenvalues, ascending. */
  eigenvalues?: number[];
  slq?: SlqDetails;
  seconds: number;
}

interface KernelSlq {
  parameters: number;
  probes: number;
  steps: number;
  products: number;
  counts: number[];
  nodes: number[];
  weights: number[];
  quadraticForms: number[];
  topResiduals: number[];
  bottomResiduals: number[];
  loss: number;
}

function positiveInteger(value: number | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) fail('BAD_OPTION', `${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  return value;
}

const now = (): number => globalThis.performance.now() / 1000;

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function stdError(values: readonly number[]): number | null {
  const k = values.length;
  if (k < 2) return null;
  const m = mean(values);
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (k - 1) / k);
}

export async function spectrum(modelInput: ModelInput, dataInput: DataInput, options: SpectrumOptions = {}): Promise<SpectrumResult> {
  const started = now();
  const model = toModel(modelInput);
  const data = toDatasetInput(dataInput);
  const requested = options.method ?? 'auto';
  if (!['dense', 'slq', 'auto'].includes(requested)) fail('BAD_OPTION', `unknown spectrum method '${String(requested)}'`, 'use dense, slq or auto');
  const probes = positiveInteger(options.probes, 'probes', 10, 100_000);
  const steps = positiveInteger(options.steps, 'steps', 90, 100_000);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) fail('BAD_OPTION', `seed must be a non-negative integer, got ${String(seed)}`);
  if (options.kernelWidth !== undefined && !(options.kernelWidth > 0 && Number.isFinite(options.kernelWidth)))
    fail('BAD_OPTION', `kernelWidth must be a positive number, got ${String(options.kernelWidth)}`);
  const backend = await getBackend(options.backend);
  const P = parameterCount(model);
  const method =
    requested === 'slq' ? 'slq' : requested === 'dense' ? (chooseMethod('dense', P, backend, options.maxMemoryBytes), 'dense') : chooseMethod('auto', P, backend, options.maxMemoryBytes) === 'dense' ? 'dense' : 'slq';

  if (method === 'dense') {
    const r = await analyze(model, data, {
      method: 'dense',
      k: 1,
      ...(options.reduction ? { reduction: options.reduction } : {}),
      backend: backend.name,
      ...(options.maxMemoryBytes !== undefined ? { maxMemoryBytes: options.maxMemoryBytes } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const values = r.eigenvalues as number[];
    const lambdaMin = values[0] as number;
    const lambdaMax = values[values.length - 1] as number;
    const sigma = options.kernelWidth ?? defaultKernelWidth(lambdaMin, lambdaMax);
    const grid = densityGrid(lambdaMin, lambdaMax, sigma, { ...(options.grid ? { size: options.grid } : {}), ...(options.range ? { range: options.range } : {}) });
    const density = gaussianMixture(grid, values, new Float64Array(values.length).fill(1 / values.length), sigma);
    return {
      method: 'dense',
      backend: r.backend,
      parameters: P,
      samples: r.samples,
      loss: r.loss,
      settings: { grid: grid.length, kernelWidth: sigma, range: [grid[0] as number, grid.at(-1) as number], probes: null, steps: null, seed: null },
      grid,
      density,
      kernelWidth: sigma,
      integral: trapezoid(grid, density),
      mean: (r.trace as number) / P,
      meanStdError: null,
      lambdaMax,
      lambdaMin,
      trace: r.trace,
      traceOfSquare: r.traceOfSquare,
      bound: r.bound,
      traceSource: 'dense',
      eigenvalues: values,
      seconds: now() - started,
    };
  }

  const spec = toProblemSpec(model, data, options.reduction);
  const withBound = options.bound !== false;
  const onProgress = options.onProgress;
  const k = JSON.parse(
    await backend.run('slq', spec, { probes, steps, seed }, onProgress ? (f) => onProgress((withBound ? 0.8 : 1) * f) : undefined),
  ) as KernelSlq;
  const quadratures: SlqDetails['quadratures'] = [];
  let offset = 0;
  for (const count of k.counts) {
    quadratures.push({ nodes: k.nodes.slice(offset, offset + count), weights: k.weights.slice(offset, offset + count) });
    offset += count;
  }
  const lambdaMax = Math.max(...quadratures.map((q) => q.nodes.at(-1) as number));
  const lambdaMin = Math.min(...quadratures.map((q) => q.nodes[0] as number));
  const topProbe = quadratures.findIndex((q) => q.nodes.at(-1) === lambdaMax);
  const bottomProbe = quadratures.findIndex((q) => q.nodes[0] === lambdaMin);
  const sigma = options.kernelWidth ?? defaultKernelWidth(lambdaMin, lambdaMax);
  const grid = densityGrid(lambdaMin, lambdaMax, sigma, { ...(options.grid ? { size: options.grid } : {}), ...(options.range ? { range: options.range } : {}) });
  const perProbe = quadratures.map((q) => gaussianMixture(grid, q.nodes, q.weights, sigma));
  const density = grid.map((_, j) => perProbe.reduce((s, d) => s + (d[j] as number), 0) / perProbe.length);
  const densityStdError = grid.map((_, j) => stdError(perProbe.map((d) => d[j] as number)) ?? 0);

  let trace: number | null = null;
  let traceOfSquare: number | null = null;
  let bound: WsBounds | null = null;
  let traceSource: SpectrumResult['traceSource'] = 'none';
  if (withBound) {
    const t = await closedFormTraces(backend, spec, { orthogonality: false, ...(onProgress ? { onProgress: (f: number) => onProgress(0.8 + 0.2 * f) } : {}) });
    trace = t.trace;
    traceOfSquare = t.traceOfSquare;
    bound = boundsFromTraces(backend, t.trace, t.traceOfSquare, P);
    traceSource = t.method;
  }
  return {
    method: 'slq',
    backend: backend.name,
    parameters: P,
    samples: data.n,
    loss: k.loss,
    settings: { grid: grid.length, kernelWidth: sigma, range: [grid[0] as number, grid.at(-1) as number], probes, steps: k.steps, seed },
    grid,
    density,
    kernelWidth: sigma,
    integral: trapezoid(grid, density),
    mean: mean(k.quadraticForms),
    meanStdError: stdError(k.quadraticForms),
    lambdaMax,
    lambdaMin,
    trace,
    traceOfSquare,
    bound,
    traceSource,
    slq: {
      probes,
      steps: k.steps,
      seed,
      products: k.products,
      quadratures,
      quadraticForms: k.quadraticForms,
      densityStdError,
      lambdaMaxResidual: k.topResiduals[topProbe] as number,
      lambdaMinResidual: k.bottomResiduals[bottomProbe] as number,
    },
    seconds: now() - started,
  };
}
