/**
 * The kernel's "wsGradient" command (src/analysis/bound-gradient.ts): the exact gradients of tr(H),
 * tr(H^2) and the WS numbers match central finite differences (Richardson-extrapolated) of the
 * closed-form traces, evaluated by both the dual and the primal form, on random one-hidden-layer
 * nets of every activation, with and without biases, one-hot and soft targets, mean and sum; at a
 * saturated softmax too; and native and WebAssembly agree. Deeper nets fail with BAD_MODEL.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { wsBoundGradient, wsGradientOnSpec } from '../src/analysis/bound-gradient.js';
import { getBackend } from '../src/backend/select.js';
import type { KernelBackend, ProblemSpec } from '../src/backend/types.js';
import { closedFormTraces } from '../src/bound.js';
import { toDataset } from '../src/data.js';
import { randomModel } from '../src/model.js';
import { createRng } from '../src/rng.js';
import { ACTIVATIONS, type BackendName } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';
import { tinyProblem, type TinyNet } from './helpers/tiny-problem.js';


type Values = { trace: number; traceOfSquare: number; upper: number; spread: number; lowerOfMin: number; frobenius: number };

async function values(backend: KernelBackend, spec: ProblemSpec, params: Float64Array, method: 'dual' | 'primal'): Promise<Values> {
  const r = await closedFormTraces(backend, { ...spec, params }, { method, orthogonality: false });
  return { trace: r.trace, traceOfSquare: r.traceOfSquare, upper: r.bound.upper, spread: r.bound.spread, lowerOfMin: r.bound.lowerOfMin, frobenius: r.frobenius };
}

/** Central differences at steps h and h/2, Richardson-combined: error O(h^4). */
async function finiteDifferences(backend: KernelBackend, spec: ProblemSpec, method: 'dual' | 'primal', step: number): Promise<Record<keyof Values, number[]>> {
  const keys: Array<keyof Values> = ['trace', 'traceOfSquare', 'upper', 'spread', 'lowerOfMin', 'frobenius'];
  const out = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<keyof Values, number[]>;
  const central = async (i: number, h: number): Promise<Record<keyof Values, number>> => {
    const plus = Float64Array.from(spec.params);
    const minus = Float64Array.from(spec.params);
    plus[i]! += h;
    minus[i]! -= h;
    const [a, b] = await Promise.all([values(backend, spec, plus, method), values(backend, spec, minus, method)]);
    return Object.fromEntries(keys.map((k) => [k, (a[k] - b[k]) / (2 * h)])) as Record<keyof Values, number>;
  };
  for (let i = 0; i < spec.params.length; i++) {
    const scale = Math.max(1, Math.abs(spec.params[i]!));
    const coarse = await central(i, step * scale);
    const fine = await central(i, (step / 2) * scale);
    for (const k of keys) out[k].push((4 * fine[k] - coarse[k]) / 3);
  }
  return out;
}

/** max |a - b| / max |b|: the gradient's error relative to its size. */
function relativeError(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  let err = 0;
  let size = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    size = Math.max(size, Math.abs(b[i]!));
  }
  return err / Math.max(size, 1e-300);
}

// Every activation under four bias / target / reduction combinations; dual and primal alternate.
const CONFIGS: Array<Pick<TinyNet, 'bias1' | 'bias2' | 'soft' | 'sum'>> = [
  { bias1: true, bias2: true, soft: false, sum: false },
  { bias1: false, bias2: false, soft: true, sum: true },
  { bias1: true, bias2: false, soft: true, sum: false },
  { bias1: false, bias2: true, soft: false, sum: true },
];

describe.each(BACKENDS)('wsGradient (%s)', (name: BackendName) => {
  let backend: KernelBackend;
  beforeAll(async () => {
    backend = await getBackend(name);
  });

  describe.each([...ACTIVATIONS])('%s', (activation) => {
    it.each(CONFIGS.map((c, i) => [i, c] as const))('config %i matches central finite differences of the closed form', async (i, config) => {
      const rng = createRng(1000 + 17 * ACTIVATIONS.indexOf(activation) + i);
      const net: TinyNet = { activation, N: 7, d: 3, h: 4, c: 3, scale: 1.5, ...config };
      const spec = tinyProblem(rng, net);
      const method = i % 2 === 0 ? 'dual' : 'primal';
      const fd = await finiteDifferences(backend, spec, method, 1e-3);
      // Both adjoints (of the pair and of the block evaluation) against the differences, and each other.
      const both = { dual: await wsGradientOnSpec(backend, spec, { method: 'dual' }), primal: await wsGradientOnSpec(backend, spec, { method: 'primal' }) };
      for (const form of ['dual', 'primal'] as const) {
        const g = both[form];
        expect(g.method).toBe(form);
        expect(g.adjoint).toBe(form);
        expect(g.defined).toBe(true);
        const tol = 1e-7;
        expect(relativeError(g.gradient.trace, fd.trace), `${form} trace`).toBeLessThan(tol);
        expect(relativeError(g.gradient.traceOfSquare, fd.traceOfSquare), `${form} traceOfSquare`).toBeLessThan(tol);
        expect(relativeError(g.gradient.upper!, fd.upper), `${form} upper`).toBeLessThan(tol);
        expect(relativeError(g.gradient.spread!, fd.spread), `${form} spread`).toBeLessThan(tol);
        expect(relativeError(g.gradient.lowerOfMin!, fd.lowerOfMin), `${form} lowerOfMin`).toBeLessThan(tol);
        expect(relativeError(g.gradient.frobenius!, fd.frobenius), `${form} frobenius`).toBeLessThan(tol);
        // The reported values are the traces command's.
        const v = await values(backend, spec, spec.params, form);
        expect(g.trace).toBe(v.trace);
        expect(g.traceOfSquare).toBe(v.traceOfSquare);
      }
      for (const key of ['trace', 'traceOfSquare', 'upper', 'lowerOfMax', 'lowerOfMin', 'upperOfMin', 'spread', 'frobenius'] as const)
        expect(relativeError(both.primal.gradient[key]!, both.dual.gradient[key]!), `primal vs dual ${key}`).toBeLessThan(1e-10);
    });
  });

  it('is exact where the softmax saturates (loss < 1e-5)', async () => {
    const rng = createRng(77);
    const net: TinyNet = { activation: 'tanh', N: 6, d: 2, h: 3, c: 3, bias1: true, bias2: true, soft: false, sum: false, scale: 1 };
    const spec = tinyProblem(rng, net);
    // Targets = the argmax of a large-margin net: p is one-hot to ~1e-6.
    const params = Float64Array.from(spec.params, (v, i) => (i >= 2 * 3 + 3 ? 40 * v : v));
    const probe = { ...spec, params };
    // Relabel to the predicted class so that p is one-hot to within the loss.
    const targets = new Float64Array(spec.targets.length);
    predictedClasses(probe).forEach((k, n) => (targets[n * 3 + k] = 1));
    const saturated = { ...probe, targets };
    const fd = await finiteDifferences(backend, saturated, 'dual', 1e-3);
    for (const method of ['dual', 'primal'] as const) {
      const g = await wsGradientOnSpec(backend, saturated, { method });
      expect(g.loss).toBeLessThan(1e-5);
      expect(relativeError(g.gradient.trace, fd.trace), method).toBeLessThan(1e-7);
      expect(relativeError(g.gradient.traceOfSquare, fd.traceOfSquare), method).toBeLessThan(1e-7);
      expect(relativeError(g.gradient.upper!, fd.upper), method).toBeLessThan(1e-7);
    }
  });

  it('primal form: the same gradient when its panels are small (many blocks) as in one panel', async () => {
    const spec = tinyProblem(createRng(41), { activation: 'gelu', N: 11, d: 5, h: 6, c: 4, scale: 1.5, ...CONFIGS[0]! });
    const whole = await wsGradientOnSpec(backend, spec, { method: 'primal' });
    const dual = await wsGradientOnSpec(backend, spec, { method: 'dual' });
    for (const workBytes of [1500, 6000]) {
      const panels = await wsGradientOnSpec(backend, spec, { method: 'primal', workBytes });
      expect(panels.adjoint).toBe('primal');
      expect(relativeError(panels.gradient.traceOfSquare, whole.gradient.traceOfSquare), `${workBytes}`).toBeLessThan(1e-12);
      expect(relativeError(panels.gradient.traceOfSquare, dual.gradient.traceOfSquare), `${workBytes}`).toBeLessThan(1e-10);
    }
  });

  it('auto picks the form by the traces\' cost model: primal for many samples and a narrow net, dual for few samples and a wide one', async () => {
    const many = tinyProblem(createRng(42), { activation: 'tanh', N: 300, d: 2, h: 2, c: 2, scale: 1, ...CONFIGS[0]! });
    const wide = tinyProblem(createRng(43), { activation: 'tanh', N: 3, d: 30, h: 40, c: 3, scale: 1, ...CONFIGS[0]! });
    const a = await wsGradientOnSpec(backend, many);
    const b = await wsGradientOnSpec(backend, wide);
    expect([a.method, a.adjoint]).toEqual(['primal', 'primal']);
    expect([b.method, b.adjoint]).toEqual(['dual', 'dual']);
  });

  it('fails with BAD_MODEL and a hint for two hidden layers', async () => {
    const model = randomModel({ inputs: 2, hidden: [3, 3], classes: 2, activation: 'tanh', seed: 1 });
    const data = toDataset([[0, 1], [1, 0], [1, 1]], [0, 1, 1]);
    await expect(wsBoundGradient(model, data, { backend: name })).rejects.toMatchObject({ code: 'BAD_MODEL', hint: expect.stringContaining('one hidden layer') });
    // The kernel refuses too, without the API's check.
    const spec = tinyProblem(createRng(3), { activation: 'tanh', N: 3, d: 2, h: 3, c: 2, bias1: true, bias2: true, soft: false, sum: false, scale: 1 });
    const deep: ProblemSpec = { ...spec, sizes: Int32Array.from([2, 3, 3, 2]), hasBias: Uint8Array.from([1, 1, 1]), params: new Float64Array(6 + 3 + 9 + 3 + 6 + 2) };
    await expect(wsGradientOnSpec(backend, deep)).rejects.toMatchObject({ code: 'BAD_MODEL' });
  });
});

/** argmax of the logits per sample (tanh net), recomputed in TypeScript. */
function predictedClasses(spec: ProblemSpec): number[] {
  const [d, h, c] = Array.from(spec.sizes) as [number, number, number];
  const p = spec.params;
  const b1 = spec.hasBias[0] ? h * d : -1;
  const w2 = h * d + (spec.hasBias[0] ? h : 0);
  const b2 = w2 + c * h;
  const out: number[] = [];
  for (let n = 0; n < spec.samples; n++) {
    const z: number[] = [];
    for (let j = 0; j < h; j++) {
      let u = b1 >= 0 ? p[b1 + j]! : 0;
      for (let i = 0; i < d; i++) u += p[j * d + i]! * spec.x[n * d + i]!;
      z.push(Math.tanh(u));
    }
    let best = 0;
    let bestValue = -Infinity;
    for (let k = 0; k < c; k++) {
      let v = spec.hasBias[1] ? p[b2 + k]! : 0;
      for (let j = 0; j < h; j++) v += p[w2 + k * h + j]! * z[j]!;
      if (v > bestValue) (bestValue = v), (best = k);
    }
    out.push(best);
  }
  return out;
}

describe('wsGradient: native and WebAssembly agree', () => {
  it('to 1e-10 on random nets of every activation', async () => {
    const native = await getBackend('native');
    const wasm = await getBackend('wasm');
    for (const [i, activation] of ACTIVATIONS.entries()) {
      const spec = tinyProblem(createRng(500 + i), { activation, N: 9, d: 4, h: 5, c: 3, scale: 2, ...CONFIGS[i % 4]! });
      const a = await wsGradientOnSpec(native, spec);
      const b = await wsGradientOnSpec(wasm, spec);
      for (const key of ['trace', 'traceOfSquare', 'upper', 'lowerOfMax', 'lowerOfMin', 'upperOfMin', 'spread', 'frobenius'] as const)
        expect(relativeError(b.gradient[key]!, a.gradient[key]!), `${activation} ${key}`).toBeLessThan(1e-10);
    }
  });
});
