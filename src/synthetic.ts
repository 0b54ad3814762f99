/**
 * Synthetic classification data whose samples have a chosen degree of orthogonality: every pair of
 * inputs has cosine similarity `rho` (exactly when the dimension allows it, else on average). The
 * WS bound depends on how orthogonal the training samples are (the Gram matrix Kx, curvature.md
 * section 4), so this lets users move from exactly orthogonal (rho = 0) to highly correlated data.
 * Pure TypeScript (no Node built-ins): it runs in the browser too.
 */
import { fail } from './errors.js';
import { randomModel } from './model.js';
import { createRng, type Rng } from './rng.js';
import type { Dataset, Model } from './types.js';

export type SyntheticTeacher = 'mlp' | 'centroids';

export interface SyntheticOptions {
  /** Samples (>= 2). */
  n: number;
  /** Input features (>= 1). */
  d: number;
  /** Classes (>= 2). */
  classes: number;
  /** Pairwise cosine between distinct samples' inputs, in [0, 1). */
  rho: number;
  seed: number;
  /** How labels are drawn: a random tanh MLP ('mlp', default) or the nearest of random class centroids. */
  teacher?: SyntheticTeacher;
  /** Euclidean norm of every input vector (default sqrt(d), i.e. unit mean square per feature). */
  norm?: number;
}

export interface SyntheticDataset extends Dataset {
  readonly rho: number;
  /**
   * True when every pair of distinct samples has cosine exactly rho (up to rounding): n + 1 <= d,
   * or rho = 0 with n <= d. Otherwise the cosines are random with mean near rho.
   */
  readonly exactCorrelation: boolean;
}

const TEACHER_WIDTH = 32;

function checkInteger(value: unknown, name: string, minimum: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum)
    fail('BAD_OPTION', `${name} must be an integer >= ${minimum}, got ${String(value)}`);
  return value;
}

/** Checks the options (as syntheticDataset does) and fills in the defaults. */
export function validateSyntheticOptions(o: SyntheticOptions): Required<SyntheticOptions> {
  if (typeof o !== 'object' || o === null) fail('BAD_OPTION', 'syntheticDataset needs an options object {n, d, classes, rho, seed}');
  const n = checkInteger(o.n, 'n', 2);
  const d = checkInteger(o.d, 'd', 1);
  const classes = checkInteger(o.classes, 'classes', 2);
  if (typeof o.rho !== 'number' || !(o.rho >= 0 && o.rho < 1))
    fail('BAD_OPTION', `rho must be a number in [0, 1), got ${String(o.rho)}`, 'rho = 0: orthogonal samples; rho near 1: nearly identical samples');
  if (o.rho > 0 && d < 2) fail('BAD_OPTION', 'rho > 0 needs d >= 2 (a shared direction plus room for the individual parts)');
  if (!Number.isSafeInteger(o.seed)) fail('BAD_OPTION', `seed must be a safe integer, got ${String(o.seed)}`);
  const teacher = o.teacher ?? 'mlp';
  if (teacher !== 'mlp' && teacher !== 'centroids') fail('BAD_OPTION', `teacher must be 'mlp' or 'centroids', got ${String(teacher)}`);
  const norm = o.norm ?? Math.sqrt(d);
  if (typeof norm !== 'number' || !(norm > 0 && Number.isFinite(norm))) fail('BAD_OPTION', `norm must be a positive number, got ${String(o.norm)}`);
  if (n * d > 50_000_000) fail('TOO_LARGE', `n x d = ${n * d} values is too large for a synthetic data set`);
  return { n, d, classes, rho: o.rho, seed: o.seed, teacher, norm };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function scaleInPlace(a: Float64Array, s: number): void {
  for (let i = 0; i < a.length; i++) a[i] = (a[i] as number) * s;
}

function gaussian(rng: Rng, d: number): Float64Array {
  const v = new Float64Array(d);
  for (let i = 0; i < d; i++) v[i] = rng.normal();
  return v;
}

/** Removes the components along `basis` (twice: one pass of modified Gram–Schmidt loses orthogonality). */
function projectOut(v: Float64Array, basis: readonly Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++)
    for (const q of basis) {
      const c = dot(v, q);
      for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) - c * (q[i] as number);
    }
}

/** `count` orthonormal vectors from seeded Gaussians (count <= d). */
function orthonormalVectors(rng: Rng, d: number, count: number): Float64Array[] {
  const basis: Float64Array[] = [];
  while (basis.length < count) {
    const v = gaussian(rng, d);
    const before = Math.sqrt(dot(v, v));
    projectOut(v, basis);
    const after = Math.sqrt(dot(v, v));
    if (after <= 1e-8 * before) continue; // (probability zero) numerically dependent: draw again
    scaleInPlace(v, 1 / after);
    basis.push(v);
  }
  return basis;
}

/** A unit vector drawn uniformly from the unit sphere orthogonal to `u` (or the whole sphere). */
function randomUnitOrthogonalTo(rng: Rng, d: number, u: Float64Array | null): Float64Array {
  for (;;) {
    const v = gaussian(rng, d);
    if (u) projectOut(v, [u]);
    const length = Math.sqrt(dot(v, v));
    if (length > 1e-8) {
      scaleInPlace(v, 1 / length);
      return v;
    }
  }
}

/**
 * Unit inputs x_n = sqrt(rho) c + sqrt(1 - rho) e_n with unit c and unit e_n. The draws do not
 * depend on rho (c is drawn even at rho = 0), so one seed gives the same e_n, hence the same
 * labels, at every rho:
 *  - n + 1 <= d: c and the e_n orthonormal (every cosine exactly rho);
 *  - n = d: the e_n orthonormal (exact at rho = 0), c a random unit vector (cosines near rho);
 *  - n > d: e_n random unit vectors orthogonal to c (cosines rho on average).
 */
function unitInputs(rng: Rng, n: number, d: number, rho: number): { rows: Float64Array[]; individual: Float64Array[]; exact: boolean } {
  let common: Float64Array;
  let individual: Float64Array[];
  let exact: boolean;
  if (n + 1 <= d) {
    const basis = orthonormalVectors(rng, d, n + 1);
    common = basis.shift() as Float64Array;
    individual = basis;
    exact = true;
  } else if (n <= d) {
    individual = orthonormalVectors(rng, d, n);
    common = randomUnitOrthogonalTo(rng, d, null);
    exact = rho === 0;
  } else {
    common = randomUnitOrthogonalTo(rng, d, null);
    individual = Array.from({ length: n }, () => randomUnitOrthogonalTo(rng, d, common));
    exact = false;
  }
  const a = Math.sqrt(rho);
  const b = Math.sqrt(1 - rho);
  const rows = individual.map((e) => {
    const x = new Float64Array(d);
    for (let i = 0; i < d; i++) x[i] = b * (e[i] as number) + a * (common[i] as number);
    if (!exact && rho > 0 && n <= d) {
      // c is not orthogonal to e here: renormalise so every input keeps the chosen norm.
      const length = Math.sqrt(dot(x, x));
      for (let i = 0; i < d; i++) x[i] = (x[i] as number) / length;
    }
    return x;
  });
  return { rows, individual, exact };
}

function mlpScores(teacher: Model, x: Float64Array): Float64Array {
  let a = x;
  teacher.layers.forEach((layer, l) => {
    const out = new Float64Array(layer.out);
    for (let j = 0; j < layer.out; j++) {
      let s = layer.bias ? (layer.bias[j] as number) : 0;
      for (let i = 0; i < layer.in; i++) s += (layer.weight[j * layer.in + i] as number) * (a[i] as number);
      out[j] = l < teacher.layers.length - 1 ? Math.tanh(s) : s;
    }
    a = out;
  });
  return a;
}

/**
 * Labels from teacher scores. The teacher sees the individual parts e_n (centred at their mean):
 * the shared component carries nothing about the sample, and leaving it out makes the labels the
 * same at every rho. Scores are also centred per class across samples so that classes are roughly
 * balanced.
 */
function teacherLabels(rng: Rng, rows: Float64Array[], d: number, classes: number, teacher: SyntheticTeacher): Int32Array {
  const n = rows.length;
  const mean = new Float64Array(d);
  for (const x of rows) for (let i = 0; i < d; i++) mean[i] = (mean[i] as number) + (x[i] as number) / n;
  // Unit length after centring, so the teacher behaves alike for every rho.
  const centred = rows.map((x) => {
    const c = x.map((v, i) => v - (mean[i] as number));
    const length = Math.sqrt(dot(c, c));
    return length > 0 ? c.map((v) => v / length) : c;
  });
  let score: (x: Float64Array) => Float64Array;
  if (teacher === 'mlp') {
    // Unit inputs times sqrt(d): Glorot pre-activations of order 1, neither linear nor saturated.
    const model = randomModel({ inputs: d, hidden: [TEACHER_WIDTH], classes, activation: 'tanh', seed: rng.int(2 ** 31) });
    score = (x) => mlpScores(model, x.map((v) => v * Math.sqrt(d)));
  } else {
    const centroids = Array.from({ length: classes }, () => gaussian(rng, d));
    // For unit inputs the nearest centroid is the one with the largest <c, x> - |c|^2 / 2; the
    // |c|^2 term is a per-class constant, which the per-class centring below removes anyway.
    score = (x) => Float64Array.from(centroids, (c) => dot(c, x));
  }
  const scores = centred.map(score);
  const classMean = new Float64Array(classes);
  for (const s of scores) for (let k = 0; k < classes; k++) classMean[k] = (classMean[k] as number) + (s[k] as number) / n;
  return Int32Array.from(scores, (s) => {
    let best = 0;
    for (let k = 1; k < classes; k++) if ((s[k] as number) - (classMean[k] as number) > (s[best] as number) - (classMean[best] as number)) best = k;
    return best;
  });
}

/**
 * A seeded synthetic data set with pairwise input cosine `rho`:
 *   x_n = norm * (sqrt(rho) c + sqrt(1 - rho) e_n),  |c| = |e_n| = 1,  e_n orthogonal to c,
 * so cos(x_n, x_m) = rho + (1 - rho) <e_n, e_m>. With n + 1 <= d (any rho), or n = d and
 * rho = 0, the e_n are orthonormal (Gram–Schmidt of seeded Gaussians) and every cosine is exactly
 * rho. Otherwise the cosines are rho on average, scattered by about (1 - rho) / sqrt(d - 1).
 * The random draws do not depend on rho, so a seed gives the same labels at every rho. Features
 * are not standardized (that would change the cosines). Deterministic for a given seed.
 */
export function syntheticDataset(options: SyntheticOptions): SyntheticDataset {
  const o = validateSyntheticOptions(options);
  const rng = createRng(o.seed);
  const { rows, individual, exact } = unitInputs(rng, o.n, o.d, o.rho);
  const labels = teacherLabels(rng, individual, o.d, o.classes, o.teacher);
  const x = new Float64Array(o.n * o.d);
  rows.forEach((row, i) => {
    for (let j = 0; j < o.d; j++) x[i * o.d + j] = o.norm * (row[j] as number);
  });
  const targets = new Float64Array(o.n * o.classes);
  labels.forEach((label, i) => {
    targets[i * o.classes + label] = 1;
  });
  return {
    n: o.n,
    d: o.d,
    classes: o.classes,
    x,
    targets,
    labels,
    name: `synthetic-n${o.n}-d${o.d}-c${o.classes}-rho${o.rho}-seed${o.seed}`,
    rho: o.rho,
    exactCorrelation: exact,
  };
}

/** Cosine similarities of all pairs of distinct samples: mean, min and max. */
export function pairwiseCosines(data: Dataset): { mean: number; min: number; max: number } {
  const { n, d, x } = data;
  const norms = Array.from({ length: n }, (_, i) => Math.sqrt(dot(x.subarray(i * d, (i + 1) * d), x.subarray(i * d, (i + 1) * d))));
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const c = dot(x.subarray(i * d, (i + 1) * d), x.subarray(j * d, (j + 1) * d)) / ((norms[i] as number) * (norms[j] as number));
      sum += c;
      min = Math.min(min, c);
      max = Math.max(max, c);
    }
  const pairs = (n * (n - 1)) / 2;
  return { mean: pairs > 0 ? sum / pairs : Number.NaN, min, max };
}
