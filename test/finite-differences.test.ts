/**
 * Hessians and Hessian-vector products against central finite differences of the analytic gradient,
 * on random nets of every activation, depths 1-3, with and without biases, mean and sum.
 */
import { describe, expect, it } from 'vitest';
import { hessian, hvp, lossAndGradient } from '../src/curvature.js';
import { toDataset } from '../src/data.js';
import { flattenParams, randomModel, unflattenParams } from '../src/model.js';
import { createRng } from '../src/rng.js';
import { ACTIVATIONS, type Dataset, type Model, type Reduction } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';

function randomData(n: number, d: number, classes: number, seed: number): Dataset {
  const rng = createRng(seed);
  const x = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
  const y = Array.from({ length: n }, () => rng.int(classes));
  return toDataset(x, y, { classes });
}

/** Random model whose biases are non-zero, so bias curvature is exercised. */
function randomNet(d: number, hidden: number[], classes: number, activation: (typeof ACTIVATIONS)[number], seed: number, bias: boolean): Model {
  const m = randomModel({ inputs: d, hidden, classes, activation, seed, bias });
  const rng = createRng(seed + 1000);
  const p = flattenParams(m).map((v) => v + 0.3 * rng.normal());
  return unflattenParams(m, p);
}

/** Central difference of the gradient along v with step h: (g(p + h v) - g(p - h v)) / 2h. */
async function centralDifference(model: Model, data: Dataset, v: Float64Array, h: number, reduction: Reduction, backend: 'native' | 'wasm'): Promise<Float64Array> {
  const p = flattenParams(model);
  const plus = unflattenParams(model, p.map((x, i) => x + h * v[i]!));
  const minus = unflattenParams(model, p.map((x, i) => x - h * v[i]!));
  const gp = (await lossAndGradient(plus, data, { reduction, backend })).gradient;
  const gm = (await lossAndGradient(minus, data, { reduction, backend })).gradient;
  return gp.map((x, i) => (x - gm[i]!) / (2 * h));
}

/** H v by Richardson-extrapolated central differences: O(h^4) truncation, so ~1e-11 relative. */
async function fdHvp(model: Model, data: Dataset, v: Float64Array, reduction: Reduction, backend: 'native' | 'wasm'): Promise<Float64Array> {
  const h = 1e-3;
  const coarse = await centralDifference(model, data, v, h, reduction, backend);
  const fine = await centralDifference(model, data, v, h / 2, reduction, backend);
  return fine.map((x, i) => (4 * x - coarse[i]!) / 3);
}

function maxAbs(a: Float64Array): number {
  return a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
}

const cases = ACTIVATIONS.flatMap((activation, i) => [
  { activation, hidden: [5], bias: true, reduction: 'mean' as const, seed: 10 + i },
  { activation, hidden: [4, 3], bias: i % 2 === 0, reduction: (i % 2 === 0 ? 'sum' : 'mean') as Reduction, seed: 20 + i },
  { activation, hidden: [3, 3, 2], bias: true, reduction: 'mean' as const, seed: 30 + i },
]);

describe.each(BACKENDS)('finite differences on the %s backend', (backend) => {
  it.each(cases)('$activation hidden $hidden bias $bias $reduction', async ({ activation, hidden, bias, reduction, seed }) => {
    const data = randomData(7, 4, 3, seed);
    const model = randomNet(4, hidden, 3, activation, seed, bias);
    const rng = createRng(seed + 7);
    const P = flattenParams(model).length;
    const v = Float64Array.from({ length: P }, () => rng.normal());

    const exact = await hvp(model, data, v, { reduction, backend });
    const fd = await fdHvp(model, data, v, reduction, backend);
        const scale = Math.max(maxAbs(exact), 1e-12);
    const fdError = maxAbs(exact.map((x, i) => x - fd[i]!)) / scale;
    if (process.env.HESSBOUND_SHOW_FD) console.log(activation, hidden, fdError);
    expect(fdError).toBeLessThan(1e-9);

    // The dense Hessian times v equals the HVP to rounding.
    const { matrix, n } = await hessian(model, data, { reduction, backend });
    expect(n).toBe(P);
    const hv = new Float64Array(P);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) hv[i]! += matrix[i * P + j]! * v[j]!;
    expect(maxAbs(hv.map((x, i) => x - exact[i]!)) / scale).toBeLessThan(1e-12);
    // And it is symmetric.
    let asym = 0;
    for (let i = 0; i < P; i++) for (let j = 0; j < i; j++) asym = Math.max(asym, Math.abs(matrix[i * P + j]! - matrix[j * P + i]!));
    expect(asym).toBeLessThan(1e-14 * Math.max(1, maxAbs(matrix)));
  });

  it('the gradient matches finite differences of the loss', async () => {
    const data = randomData(6, 3, 4, 99);
    const model = randomNet(3, [5], 4, 'gelu', 99, true);
    const p = flattenParams(model);
    const { gradient } = await lossAndGradient(model, data, { backend });
    const h = 1e-6;
    for (let j = 0; j < p.length; j += 3) {
      const lp = (await lossAndGradient(unflattenParams(model, p.map((x, i) => (i === j ? x + h : x))), data, { backend })).loss;
      const lm = (await lossAndGradient(unflattenParams(model, p.map((x, i) => (i === j ? x - h : x))), data, { backend })).loss;
      expect(Math.abs((lp - lm) / (2 * h) - gradient[j]!)).toBeLessThan(1e-8);
    }
  });
});
