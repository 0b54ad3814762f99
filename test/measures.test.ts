/**
 * Generalization measures (src/analysis/measures) against independent computations: closed forms
 * on quadratics, brute force over box vertices, the small-rho limit from the exact Hessian, the
 * reproduced Monte Carlo draws, per-sample gradients from the kernel and norms written out here.
 */
import { describe, expect, it } from 'vitest';
import { evaluateModel } from '../src/analysis/evaluate.js';
import {
  adaptiveSharpness, averageAdaptiveSharpness, distanceFromInit, epsSharpness, fisherRaoNorm, frobeniusProduct,
  marginPercentile, modelObjective, pacBayesFlatness, pathNorm, spectralProduct, type Objective,
} from '../src/analysis/measures/index.js';
import { eigenvalues, hessian, lossAndGradient } from '../src/curvature.js';
import { flattenParams, randomModel, unflattenParams } from '../src/model.js';
import { createRng } from '../src/rng.js';
import { train } from '../src/train.js';
import type { Model } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';

/** L(theta) = 1/2 (theta - c)^T A (theta - c), A = B^T B + diag(d) (PSD), P x P row-major. */
function quadratic(P: number, seed: number, coupling: number): { objective: Objective; A: Float64Array; c: Float64Array; value: (t: Float64Array) => number } {
  const rng = createRng(seed);
  const B = Float64Array.from({ length: P * P }, () => coupling * rng.normal());
  const A = new Float64Array(P * P);
  for (let i = 0; i < P; i++)
    for (let j = 0; j < P; j++) {
      let s = i === j ? 0.5 + rng.next() * 2 : 0;
      for (let k = 0; k < P; k++) s += (B[k * P + i] as number) * (B[k * P + j] as number);
      A[i * P + j] = s;
    }
  for (let i = 0; i < P; i++) for (let j = 0; j < i; j++) A[i * P + j] = A[j * P + i] as number;
  const c = Float64Array.from({ length: P }, () => rng.normal());
  const value = (t: Float64Array) => {
    let s = 0;
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) s += 0.5 * ((t[i] as number) - (c[i] as number)) * (A[i * P + j] as number) * ((t[j] as number) - (c[j] as number));
    return s;
  };
  const objective: Objective = {
    parameters: P,
    async lossAndGradient(t) {
      const gradient = new Float64Array(P);
      for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) gradient[i] += (A[i * P + j] as number) * ((t[j] as number) - (c[j] as number));
      return { loss: value(t), gradient };
    },
  };
  return { objective, A, c, value };
}

/** Max of f over the 2^P vertices of the box |u_i| <= r_i. */
function bestVertex(r: Float64Array, f: (u: Float64Array) => number): number {
  let best = -Infinity;
  for (let mask = 0; mask < 2 ** r.length; mask++) best = Math.max(best, f(r.map((ri, i) => ((mask >> i) & 1 ? ri : -ri))));
  return best;
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** Random inputs with soft targets no net fits exactly: the cross-entropy has a finite minimiser. */
function softData(n: number, d: number, c: number, seed: number) {
  const rng = createRng(seed);
  const x = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
  const targets = Array.from({ length: n }, () => {
    const w = Array.from({ length: c }, () => 0.2 + rng.next());
    const s = w.reduce((a, b) => a + b, 0);
    return w.map((v) => v / s);
  });
  return { x, targets };
}

describe('sharpness on quadratics (closed forms and brute force; no kernel)', () => {
  it('eps-sharpness: the box maximum of a convex quadratic is at a vertex, found by brute force', async () => {
    for (const seed of [1, 2, 3]) {
      const q = quadratic(7, seed, 0.3);
      const theta = Float64Array.from(q.c, (v, i) => v + 0.3 * Math.cos(i + seed));
      const eps = 0.05;
      const r = theta.map((t) => eps * (Math.abs(t) + 1));
      const exact = bestVertex(r, (u) => q.value(theta.map((t, i) => t + (u[i] as number)))) - q.value(theta);
      // Ascent finds a local maximum: never above the global one, and the global one with restarts.
      const once = await epsSharpness(q.objective, theta, eps, { restarts: 0 });
      expect(once.increase).toBeLessThanOrEqual(exact * (1 + 1e-14));
      const got = await epsSharpness(q.objective, theta, eps, { restarts: 40, steps: 10 });
      expect(rel(got.increase, exact)).toBeLessThan(1e-12);
      expect(rel(got.sharpness, exact / (1 + q.value(theta)))).toBeLessThan(1e-12);
      got.delta.forEach((d, i) => expect(Math.abs(d)).toBeLessThanOrEqual((r[i] as number) * (1 + 1e-15)));
    }
  });

  it('adaptive worst case at a minimum: p = 2 gives rho^2/2 lambda_max(D A D), p = inf the vertex maximum', async () => {
    const P = 7;
    const q = quadratic(P, 5, 0.4);
    const theta = q.c; // the minimiser: the gradient vanishes, only the quadratic form is left
    const D = theta.map(Math.abs);
    const M = q.A.map((a, k) => a * (D[Math.floor(k / P)] as number) * (D[k % P] as number));
    const top = (await eigenvalues({ data: M, rows: P, cols: P }, { which: 'largest', k: 1, backend: 'wasm' })).values[0] as number;
    const rho = 0.1;
    const two = await adaptiveSharpness(q.objective, theta, rho, 2, { steps: 400, restarts: 1 });
    expect(rel(two.increase, (rho * rho * top) / 2)).toBeLessThan(1e-9);
    const quadForm = (u: Float64Array) => {
      let s = 0;
      for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) s += 0.5 * (u[i] as number) * (M[i * P + j] as number) * (u[j] as number);
      return s;
    };
    const inf = await adaptiveSharpness(q.objective, theta, rho, 'inf', { steps: 10, restarts: 40 });
    expect(rel(inf.increase, bestVertex(new Float64Array(P).fill(rho), quadForm))).toBeLessThan(1e-12);
  });

  it('average case: the same seeded draws reproduced here, and the expectation rho^2/2 tr(D A D) within 4 standard errors', async () => {
    const P = 6;
    const q = quadratic(P, 9, 0.5);
    const theta = Float64Array.from(q.c, (v, i) => v + 0.1 * Math.sin(i));
    const rho = 0.2;
    const got = await averageAdaptiveSharpness(q.objective, theta, rho, { samples: 400, seed: 11 });
    const rng = createRng(11);
    let sum = 0;
    for (let j = 0; j < 400; j++) sum += q.value(theta.map((t) => t + rho * Math.abs(t) * rng.normal())) - q.value(theta);
    expect(rel(got.increase, sum / 400)).toBeLessThan(1e-12);
    let expected = 0;
    for (let i = 0; i < P; i++) expected += 0.5 * rho * rho * (theta[i] as number) ** 2 * (q.A[i * P + i] as number);
    expect(Math.abs(got.increase - expected)).toBeLessThan(4 * got.standardError);
    expect(got.standardError).toBeGreaterThan(0);
  });

  it('PAC-Bayes flatness: 1/sigma^2 in closed form for the same draws (plain and magnitude-aware)', async () => {
    const P = 8;
    const q = quadratic(P, 4, 0); // diagonal A: the magnitude-aware increase is linear in sigma^2 too
    const theta = q.c;
    const deviation = 0.05;
    const draws = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 16 }, () => theta.map(() => rng.normal()));
    };
    const Aii = (i: number) => q.A[i * P + i] as number;
    // plain: mean increase = sigma^2/2 S, S = mean_j z_j^T A z_j
    const S = draws(3).reduce((s, z) => s + z.reduce((t, zi, i) => t + Aii(i) * zi * zi, 0), 0) / 16;
    const plain = await pacBayesFlatness(q.objective, theta, 'plain', { deviation, seed: 3, tolerance: 1e-10 });
    expect(rel(plain.flatness as number, S / (2 * deviation))).toBeLessThan(1e-8);
    // magnitude: mean increase = 1/2 sum_i A_ii mean(z_i^2) (sigma^2 theta_i^2 + floor^2)
    const floor = 1e-3;
    const m = draws(4);
    const s1 = m.reduce((s, z) => s + z.reduce((t, zi, i) => t + Aii(i) * zi * zi * (theta[i] as number) ** 2, 0), 0) / 16;
    const s0 = m.reduce((s, z) => s + z.reduce((t, zi, i) => t + Aii(i) * zi * zi, 0), 0) / 16;
    const mag = await pacBayesFlatness(q.objective, theta, 'magnitude', { deviation, seed: 4, floor, tolerance: 1e-10 });
    expect(rel(mag.flatness as number, s1 / (2 * deviation - floor * floor * s0))).toBeLessThan(1e-8);
    // a floor that alone exceeds the deviation: undefined, said so
    const none = await pacBayesFlatness(q.objective, theta, 'magnitude', { deviation: 1e-9, floor: 1 });
    expect(none.flatness).toBeNull();
    expect(none.note).toMatch(/floor/);
  });

  it('bad radii, norms and counts are BAD_OPTION errors', async () => {
    const q = quadratic(3, 1, 0.1);
    await expect(epsSharpness(q.objective, q.c, 0)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(adaptiveSharpness(q.objective, q.c, Number.NaN, 2)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(adaptiveSharpness(q.objective, q.c, 0.1, 1 as unknown as 2)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(averageAdaptiveSharpness(q.objective, q.c, 0.1, { samples: 1 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(pacBayesFlatness(q.objective, q.c, 'plain', { deviation: -1 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});

describe.each(BACKENDS)('measures of a trained MLP, %s backend', (backend) => {
  const data = softData(60, 3, 3, 7);
  let trained: Model | undefined;
  const trainedModel = async () => {
    if (!trained) {
      const init = randomModel({ inputs: 3, hidden: [3], classes: 3, activation: 'tanh', seed: 2 });
      const r = await train(init, data, { backend, gradTol: 1e-11, maxSteps: 20000, weightDecay: 0 });
      expect(r.gradNorm).toBeLessThan(1e-9);
      trained = r.model;
    }
    return trained;
  };

  it('adaptive sharpness tends to rho^2/2 lambda_max(diag|theta| H diag|theta|) at a critical point (exact Hessian)', async () => {
    const model = await trainedModel();
    const theta = flattenParams(model);
    const P = theta.length;
    const { matrix } = await hessian(model, data, { backend });
    const M = matrix.map((h, k) => h * Math.abs(theta[Math.floor(k / P)] as number) * Math.abs(theta[k % P] as number));
    const top = (await eigenvalues({ data: M, rows: P, cols: P }, { which: 'largest', k: 1, backend })).values[0] as number;
    expect(top).toBeGreaterThan(0);
    const { objective } = await modelObjective(model, data, { backend });
    const errors: number[] = [];
    for (const rho of [1e-4, 1e-5, 1e-6]) {
      const got = await adaptiveSharpness(objective, theta, rho, 2, { steps: 300, stepFraction: 4 });
      errors.push(rel(got.increase, (rho * rho * top) / 2));
    }
    // The remainder is O(rho^3), so the relative error falls about tenfold with rho until the
    // increase (~rho^2, 1e-12 of the loss at 1e-6) meets the loss's rounding, where it rises again;
    // which radius is closest depends on the trained model (its third-order term), so the test asks
    // that the limit is reached at a small radius and approached from the largest one.
    const [e4, e5, e6] = errors as [number, number, number];
    const closest = Math.min(e5, e6);
    expect(closest).toBeLessThan(1e-3);
    expect(closest < e4 / 5 || e4 < 1e-4).toBe(true);
  });

  it('average sharpness tends to rho^2/2 sum theta_i^2 H_ii, eps-sharpness reproduces its point', async () => {
    const model = await trainedModel();
    const theta = flattenParams(model);
    const P = theta.length;
    const { matrix } = await hessian(model, data, { backend });
    const { objective } = await modelObjective(model, data, { backend });
    // Odd orders vanish in the mean, so the remainder is O(rho^4): relative O(rho^2).
    const rho = 1e-4;
    let expected = 0;
    for (let i = 0; i < P; i++) expected += 0.5 * rho * rho * (theta[i] as number) ** 2 * (matrix[i * P + i] as number);
    const avg = await averageAdaptiveSharpness(objective, theta, rho, { samples: 200, seed: 1 });
    expect(Math.abs(avg.increase - expected)).toBeLessThan(4 * avg.standardError + 1e-3 * expected);

    const eps = 1e-3;
    const sharp = await epsSharpness(objective, theta, eps);
    const base = evaluateModel(model, data).loss;
    const moved = evaluateModel(unflattenParams(model, theta.map((t, i) => t + (sharp.delta[i] as number))), data).loss;
    expect(Math.abs(sharp.increase - (moved - base))).toBeLessThan(1e-12);
    sharp.delta.forEach((d, i) => expect(Math.abs(d)).toBeLessThanOrEqual(eps * (Math.abs(theta[i] as number) + 1) * (1 + 1e-12)));
    expect(sharp.increase).toBeGreaterThan(0);
  });

  it('PAC-Bayes flatness: the loss increase at sigma meets the deviation and just above it does not (draws reproduced)', async () => {
    const model = await trainedModel();
    const theta = flattenParams(model);
    const { objective } = await modelObjective(model, data, { backend });
    const deviation = 0.01;
    const got = await pacBayesFlatness(objective, theta, 'plain', { deviation, samples: 8, seed: 5, tolerance: 1e-7 });
    const rng = createRng(5);
    const draws = Array.from({ length: 8 }, () => theta.map(() => rng.normal()));
    const base = evaluateModel(model, data).loss;
    const increase = (sigma: number) => draws.reduce((s, z) => s + evaluateModel(unflattenParams(model, theta.map((t, i) => t + sigma * (z[i] as number))), data).loss - base, 0) / 8;
    const sigma = got.sigma as number;
    expect(got.flatness).toBeCloseTo(1 / sigma ** 2, 6);
    expect(increase(sigma)).toBeLessThanOrEqual(deviation + 1e-12);
    expect(increase(sigma * (1 + 1e-6))).toBeGreaterThan(deviation);
  });

  it('Fisher–Rao norm equals the mean of <theta, per-sample gradient>^2 from the kernel', async () => {
    const model = await trainedModel();
    const theta = flattenParams(model);
    let total = 0;
    for (let s = 0; s < data.x.length; s++) {
      const { gradient } = await lossAndGradient(model, { x: [data.x[s] as number[]], targets: [data.targets[s] as number[]] }, { backend });
      const dot = gradient.reduce((acc, g, i) => acc + g * (theta[i] as number), 0);
      total += dot * dot;
    }
    expect(rel(fisherRaoNorm(model, data), total / data.x.length)).toBeLessThan(1e-9);
  });

  it('spectral norm product against power iteration written here', async () => {
    const model = randomModel({ inputs: 5, hidden: [4, 6], classes: 3, activation: 'relu', seed: 3 });
    let product = 1;
    for (const { out, in: nIn, weight } of model.layers) {
      let v = new Float64Array(nIn).fill(1);
      let sigma = 0;
      for (let it = 0; it < 2000; it++) {
        const wv = Array.from({ length: out }, (_, j) => v.reduce((s, vi, i) => s + (weight[j * nIn + i] as number) * vi, 0));
        const wtwv = v.map((_, i) => wv.reduce((s, x, j) => s + (weight[j * nIn + i] as number) * x, 0));
        const n = Math.sqrt(wtwv.reduce((s, x) => s + x * x, 0));
        sigma = Math.sqrt(n / Math.sqrt(v.reduce((s, x) => s + x * x, 0)));
        v = wtwv.map((x) => x / n);
      }
      product *= sigma;
    }
    expect(rel(await spectralProduct(model, { backend }), product)).toBeLessThan(1e-9);
  });
});

describe('norms and margins written out independently', () => {
  const model: Model = {
    activation: 'tanh',
    layers: [
      { out: 2, in: 2, weight: Float64Array.from([1, -2, 0.5, 3]), bias: Float64Array.from([0.1, -1]) },
      { out: 2, in: 2, weight: Float64Array.from([2, 1, -1, 0.5]), bias: null },
    ],
  };

  it('Frobenius product, path-norm by enumerating every path, distance from init', () => {
    expect(rel(frobeniusProduct(model), Math.sqrt(1 + 4 + 0.25 + 9) * Math.sqrt(4 + 1 + 1 + 0.25))).toBeLessThan(1e-15);
    // paths input i -> hidden j -> output k: W1[j][i]^2 W2[k][j]^2; bias paths b1[j]^2 W2[k][j]^2
    const W1 = [[1, -2], [0.5, 3]];
    const W2 = [[2, 1], [-1, 0.5]];
    const b1 = [0.1, -1];
    let sum = 0;
    for (let k = 0; k < 2; k++)
      for (let j = 0; j < 2; j++) {
        for (let i = 0; i < 2; i++) sum += W1[j]![i]! ** 2 * W2[k]![j]! ** 2;
        sum += b1[j]! ** 2 * W2[k]![j]! ** 2;
      }
    expect(rel(pathNorm(model), Math.sqrt(sum))).toBeLessThan(1e-15);
    const moved = unflattenParams(model, flattenParams(model).map((v, i) => v + (i % 2 ? 0.5 : -1)));
    // 10 parameters: five move by 0.5 and five by -1
    expect(rel(distanceFromInit(moved, model), Math.sqrt(5 * 0.25 + 5))).toBeLessThan(1e-15);
    expect(() => distanceFromInit(moved, randomModel({ inputs: 2, hidden: [3], classes: 2, activation: 'tanh', seed: 0 }))).toThrow(/layers/);
  });

  it('10th-percentile margin by hand (numpy linear interpolation)', () => {
    const x = [[0, 0], [1, 0], [0, 1], [1, 1], [-1, 2]];
    const y = [0, 1, 0, 1, 1];
    const margins = x.map((row, s) => {
      const h = [0, 1].map((j) => Math.tanh(model.layers[0]!.bias![j]! + row[0]! * model.layers[0]!.weight[j * 2]! + row[1]! * model.layers[0]!.weight[j * 2 + 1]!));
      const z = [0, 1].map((k) => h[0]! * model.layers[1]!.weight[k * 2]! + h[1]! * model.layers[1]!.weight[k * 2 + 1]!);
      return z[y[s]!]! - z[1 - y[s]!]!;
    }).sort((a, b) => a - b);
    // position 0.1 * 4 = 0.4 between the two smallest
    expect(rel(marginPercentile(model, { x, y }), margins[0]! + 0.4 * (margins[1]! - margins[0]!))).toBeLessThan(1e-14);
    expect(marginPercentile(model, { x, y }, 100)).toBeCloseTo(margins[4]!, 14);
    expect(() => marginPercentile(model, { x, y }, 101)).toThrow(/percentile/);
  });
});
