/**
 * landscape(): the loss on a line or a plane through the parameters theta,
 *   1D: L(theta + a d_i) along each of the k top Hessian eigenvectors (or one random direction);
 *   2D: L(theta + a d_1 + b d_2) with the top two eigenvectors, or two random directions.
 * Eigenvectors are unit vectors (dense eigensolve or Lanczos, kernel command "eigenvectors"), so
 * near a = 0 the curve follows the quadratic model L + a g.d + a^2 lambda / 2, reported beside it.
 * Random directions are filter-normalized (Li et al., "Visualizing the loss landscape of neural
 * nets", 2018): Gaussian, then each row of each weight matrix (one unit's incoming weights) scaled
 * to the norm of the same row of theta; bias directions are zero, as in that paper.
 * Each point is one exact loss evaluation in the kernel.
 */
import { chooseMethod } from '../analyze.js';
import { getBackend } from '../backend/select.js';
import type { ProgressCallback } from '../backend/types.js';
import { fail } from '../errors.js';
import { toDatasetInput, toModel, type DataInput, type ModelInput } from '../inputs.js';
import { flattenParams, parameterCount } from '../model.js';
import { toProblemSpec } from '../problem.js';
import { createRng } from '../rng.js';
import { isKinked } from './kinks.js';
import { KinkCounter, smoothRadius } from './landscape-kinks.js';
import type { BackendName, Model, Reduction } from '../types.js';

export type LandscapeDirections = 'eigen' | 'random';

export interface LandscapeOptions {
  /** 1 (default) or 2. */
  dimensions?: 1 | 2;
  /** 'eigen' (default): top Hessian eigenvectors; 'random': filter-normalized random directions. */
  directions?: LandscapeDirections;
  /** 1D with eigenvectors: how many top eigenvectors, one curve each (default 1). */
  k?: number;
  /** Points per axis (default 41 in 1D, 25 in 2D), odd so that 0 is on the grid. */
  points?: number;
  /** The coordinates run over [-radius, radius] (default 1). */
  radius?: number;
  /** Seed of random directions (default 0). */
  seed?: number;
  /** Eigenvectors by 'dense', 'lanczos' or 'auto' (default, as analyze). */
  method?: 'dense' | 'lanczos' | 'auto';
  reduction?: Reduction;
  backend?: BackendName | 'auto';
  maxMemoryBytes?: number;
  onProgress?: ProgressCallback;
}

export interface LandscapeCurve {
  /** e.g. 'eigenvector 1' or 'random (filter-normalized)'. */
  label: string;
  /** The eigenvalue of an eigenvector direction (null for random ones). */
  eigenvalue: number | null;
  /** g . d, the slope at 0. */
  slope: number;
  /** |d|. */
  norm: number;
  loss: number[];
  /** Eigenvector directions: L + a g.d + a^2 lambda / 2 at each coordinate. */
  quadratic: number[] | null;
  /**
   * relu / leaky_relu (null otherwise): at each coordinate, the (sample, unit) pairs on the other
   * side of their kink than at theta (there the a.e. Hessian at theta no longer applies).
   */
  kinkChanges: number[] | null;
  /** relu / leaky_relu: how far along the line (on the grid) no pair has crossed a kink. */
  smoothRadius: number | null;
}

export interface LandscapeResult {
  dimensions: 1 | 2;
  directions: LandscapeDirections;
  backend: BackendName;
  parameters: number;
  samples: number;
  /** Loss at theta. */
  loss: number;
  radius: number;
  /** Coordinates along the first (x) axis. */
  alphas: number[];
  /** 2D: coordinates along the second (y) axis. */
  betas: number[] | null;
  /** 1D: one curve per direction. */
  curves: LandscapeCurve[] | null;
  /** 2D: loss[i][j] at (alphas[j], betas[i]). */
  surface: number[][] | null;
  /** 2D, relu / leaky_relu: pairs on the other side of their kink than at theta, as surface. */
  kinkSurface: number[][] | null;
  /** The two directions of a 2D landscape (eigenvalue null for random ones). */
  axes: Array<{ label: string; eigenvalue: number | null; norm: number }> | null;
  /** How the eigenvectors were computed (null for random directions). */
  eigenMethod: 'dense' | 'lanczos' | null;
  /** Lanczos residuals of the eigenvectors (zeros for dense). */
  eigenResiduals: number[] | null;
  seconds: number;
}

/** Li et al.'s filter normalization of a Gaussian direction: per weight row, the row norm of theta. */
export function filterNormalizedDirection(model: Model, seed: number): Float64Array {
  const rng = createRng(seed);
  const normal = () => rng.normal();
  const out: number[] = [];
  for (const layer of model.layers) {
    for (let i = 0; i < layer.out; i++) {
      const row = Array.from({ length: layer.in }, () => normal());
      const theta = layer.weight.subarray(i * layer.in, (i + 1) * layer.in);
      const rn = Math.hypot(...row);
      const tn = Math.hypot(...theta);
      for (const v of row) out.push(rn > 0 ? (v / rn) * tn : 0);
    }
    if (layer.bias) for (let i = 0; i < layer.out; i++) out.push(0);
  }
  return Float64Array.from(out);
}

function coordinates(points: number, radius: number): number[] {
  return Array.from({ length: points }, (_, i) => (i === (points - 1) / 2 ? 0 : -radius + (2 * radius * i) / (points - 1)));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

const now = (): number => globalThis.performance.now() / 1000;

export async function landscape(modelInput: ModelInput, dataInput: DataInput, options: LandscapeOptions = {}): Promise<LandscapeResult> {
  const started = now();
  const model = toModel(modelInput);
  const data = toDatasetInput(dataInput);
  const dimensions = options.dimensions ?? 1;
  if (dimensions !== 1 && dimensions !== 2) fail('BAD_OPTION', `dimensions must be 1 or 2, got ${String(dimensions)}`);
  const directions = options.directions ?? 'eigen';
  if (directions !== 'eigen' && directions !== 'random') fail('BAD_OPTION', `unknown directions '${String(directions)}'`, 'use eigen or random');
  const points = options.points ?? (dimensions === 1 ? 41 : 25);
  if (!Number.isInteger(points) || points < 3 || points > 10001 || points % 2 === 0)
    fail('BAD_OPTION', `points must be an odd integer from 3 to 10001 (so that 0 is on the grid), got ${String(points)}`);
  const radius = options.radius ?? 1;
  if (!(radius > 0 && Number.isFinite(radius))) fail('BAD_OPTION', `radius must be a positive number, got ${String(radius)}`);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) fail('BAD_OPTION', `seed must be a non-negative integer, got ${String(seed)}`);
  const P = parameterCount(model);
  const k = dimensions === 2 ? 2 : directions === 'random' ? 1 : (options.k ?? 1);
  if (!Number.isInteger(k) || k < 1 || k > Math.min(10, P)) fail('BAD_OPTION', `k must be an integer from 1 to ${Math.min(10, P)}, got ${String(options.k)}`);

  const backend = await getBackend(options.backend);
  const spec = toProblemSpec(model, data, options.reduction);
  const theta = flattenParams(model);
  const report = options.onProgress ?? (() => {});

  // The directions, unit eigenvectors or filter-normalized random ones.
  let dirs: Float64Array[];
  let eigenvalues: Array<number | null>;
  let eigenMethod: LandscapeResult['eigenMethod'] = null;
  let eigenResiduals: number[] | null = null;
  if (directions === 'eigen') {
    eigenMethod = chooseMethod(options.method ?? 'auto', P, backend, options.maxMemoryBytes);
    const text = await backend.run('eigenvectors', spec, { method: eigenMethod === 'dense' ? 0 : 1, k, maxDenseBytes: Number.MAX_SAFE_INTEGER }, (f) => report(0.5 * f));
    const r = JSON.parse(text) as { values: number[]; vectors: number[]; residuals: number[] };
    dirs = r.values.map((_, i) => Float64Array.from(r.vectors.slice(i * P, (i + 1) * P)));
    eigenvalues = r.values;
    eigenResiduals = r.residuals;
  } else {
    dirs = Array.from({ length: k }, (_, i) => filterNormalizedDirection(model, seed + i));
    eigenvalues = dirs.map(() => null);
  }
  const labels = directions === 'eigen' ? dirs.map((_, i) => `eigenvector ${i + 1}`) : dirs.map((_, i) => `random direction ${i + 1} (filter-normalized)`);

  const point = new Float64Array(P);
  const kinks = isKinked(model) ? new KinkCounter(model, data) : null;
  const changes: number[] = [];
  const lossAt = (a: number, da: Float64Array, b = 0, db?: Float64Array): number => {
    for (let i = 0; i < P; i++) point[i] = (theta[i] as number) + a * (da[i] as number) + (db ? b * (db[i] as number) : 0);
    if (kinks) changes.push(kinks.changesAt(point));
    return backend.lossGrad({ ...spec, params: point }).loss;
  };
  const base = backend.lossGrad(spec);
  const alphas = coordinates(points, radius);
  const from = directions === 'eigen' ? 0.5 : 0;
  let curves: LandscapeCurve[] | null = null;
  let surface: number[][] | null = null;
  let betas: number[] | null = null;
  let kinkSurface: number[][] | null = null;
  if (dimensions === 1) {
    curves = dirs.map((d, i) => {
      const slope = dot(base.gradient, d);
      const lambda = eigenvalues[i] ?? null;
      changes.length = 0;
      const loss = alphas.map((a) => lossAt(a, d));
      const kinkChanges = kinks ? [...changes] : null;
      report(from + ((1 - from) * (i + 1)) / dirs.length);
      return {
        label: labels[i] as string,
        eigenvalue: lambda,
        slope,
        norm: Math.sqrt(dot(d, d)),
        loss,
        quadratic: lambda === null ? null : alphas.map((a) => base.loss + a * slope + 0.5 * lambda * a * a),
        kinkChanges,
        smoothRadius: kinkChanges ? smoothRadius(alphas, kinkChanges) : null,
      };
    });
  } else {
    betas = coordinates(points, radius);
    const [d1, d2] = dirs as [Float64Array, Float64Array];
    surface = betas.map((b, row) => {
      changes.length = 0;
      const line = alphas.map((a) => lossAt(a, d1, b, d2));
      if (kinks) (kinkSurface ??= []).push([...changes]);
      report(from + ((1 - from) * (row + 1)) / points);
      return line;
    });
  }
  for (const v of [...(curves ?? []).flatMap((c) => c.loss), ...(surface ?? []).flat()])
    if (!Number.isFinite(v)) fail('NON_FINITE', 'the loss is not finite somewhere on the landscape', 'use a smaller radius');
  return {
    dimensions,
    directions,
    backend: backend.name,
    parameters: P,
    samples: data.n,
    loss: base.loss,
    radius,
    alphas,
    betas,
    curves,
    surface,
    kinkSurface,
    axes: dimensions === 2 ? dirs.map((d, i) => ({ label: labels[i] as string, eigenvalue: eigenvalues[i] ?? null, norm: Math.sqrt(dot(d, d)) })) : null,
    eigenMethod,
    eigenResiduals,
    seconds: now() - started,
  };
}
