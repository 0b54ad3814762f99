/**
 * The kernel's "traces" command (src/bound.ts): the closed-form tr(H) and tr(H^2) of one-hidden-layer
 * networks equal the dense ones, dual and primal agree, the decomposition adds up and matches the
 * dense blocks and an independent Gauss–Newton matrix, the WS bounds hold against exact eigenvalues,
 * and deeper networks get dense traces or Hutch++ estimates inside their interval.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/select.js';
import type { KernelBackend, ProblemSpec } from '../src/backend/types.js';
import { closedFormTraces, type ClosedFormTraces, type TraceMethod } from '../src/bound.js';
import { toDataset } from '../src/data.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { toProblemSpec } from '../src/problem.js';
import { createRng, type Rng } from '../src/rng.js';
import { ACTIVATIONS, type Activation } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';
import { tinyProblem, type TinyNet } from './helpers/tiny-problem.js';
import { loadFixtures, relErr } from './helpers/fixtures.js';

const TOL = 1e-10;

interface DenseAnalysis {
  trace: number;
  traceOfSquare: number;
  lambdaMax: number;
  lambdaMin: number;
}

function randomNet(rng: Rng, overrides: Partial<TinyNet> = {}): TinyNet {
  return {
    activation: ACTIVATIONS[rng.int(ACTIVATIONS.length)] as Activation,
    N: 1 + rng.int(9),
    d: 1 + rng.int(4),
    h: 1 + rng.int(5),
    c: 2 + rng.int(3),
    bias1: rng.next() < 0.5,
    bias2: rng.next() < 0.5,
    soft: rng.next() < 0.5,
    sum: rng.next() < 0.5,
    scale: 0.5 + 3 * rng.next(),
    ...overrides,
  };
}

function expectClose(actual: number, expected: number, what: string, tol = TOL, floor = 1e-300): void {
  expect(relErr(actual, expected, floor), `${what}: ${actual} vs ${expected}`).toBeLessThan(tol);
}

/** The decomposition's parts add up to the totals. */
function expectDecompositionAddsUp(r: ClosedFormTraces): void {
  const t = r.decomposition!;
  const scale = Math.max(Math.abs(r.traceOfSquare), 1e-300);
  const near = (a: number, b: number, what: string) => expect(Math.abs(a - b) / scale, what).toBeLessThan(1e-12);
  near(t.blocks.output.trace + t.blocks.hidden.trace, r.trace, 'block traces');
  near(t.blocks.output.traceOfSquare + t.blocks.hidden.traceOfSquare + t.blocks.cross.traceOfSquare, r.traceOfSquare, 'block squares');
  near(t.gaussNewton.trace + t.residual.trace, r.trace, 'GN + residual trace');
  near(t.gaussNewton.traceOfSquare + t.residual.traceOfSquare + t.mixed, r.traceOfSquare, 'GN + residual + mixed');
  near(t.residual.sigmaSecond.traceOfSquare + t.residual.gradientCross.traceOfSquare, t.residual.traceOfSquare, 'residual parts');
  near(t.residual.sigmaSecond.trace, t.residual.trace, 'residual trace is the sigma-second trace');
  expect(t.residual.gradientCross.trace).toBe(0);
}

// ------------------------------------------------------------------------------------------------
// Independent references in TypeScript, for the decomposition

function frob2(m: Float64Array): number {
  let s = 0;
  for (const v of m) s += v * v;
  return s;
}

/** Sub-block rows [r0, r1) x columns [c0, c1) of a row-major P x P matrix. */
function block(h: Float64Array, P: number, r0: number, r1: number, c0: number, c1: number): Float64Array {
  const out = new Float64Array((r1 - r0) * (c1 - c0));
  for (let i = r0; i < r1; i++) for (let j = c0; j < c1; j++) out[(i - r0) * (c1 - c0) + (j - c0)] = h[i * P + j]!;
  return out;
}

function traceOf(h: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += h[i * n + i]!;
  return s;
}

/** sigma and sigma' for the activations with elementary formulas. */
function activation(name: Activation, u: number): [number, number] {
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  switch (name) {
    case 'tanh': {
      const t = Math.tanh(u);
      return [t, 1 - t * t];
    }
    case 'sigmoid':
      return [sig(u), sig(u) * (1 - sig(u))];
    case 'softplus':
      return [Math.log1p(Math.exp(u)), sig(u)];
    case 'silu':
      return [u * sig(u), sig(u) * (1 + u * (1 - sig(u)))];
    case 'identity':
      return [u, 1];
    case 'relu':
      return [Math.max(u, 0), u > 0 ? 1 : 0];
    default:
      throw new Error(`no reference for ${name}`);
  }
}

/** The Gauss–Newton matrix G = w sum_n J_n^T A_n J_n (P x P) of a one-hidden-layer problem. */
function gaussNewton(spec: ProblemSpec): Float64Array {
  const [d, h, c] = [spec.sizes[0]!, spec.sizes[1]!, spec.sizes[2]!];
  const [b1, b2] = [spec.hasBias[0] === 1, spec.hasBias[1] === 1];
  const P1 = h * d + (b1 ? h : 0);
  const P = spec.params.length;
  const W1 = spec.params.subarray(0, h * d);
  const B1 = b1 ? spec.params.subarray(h * d, P1) : null;
  const W2 = spec.params.subarray(P1, P1 + c * h);
  const B2 = b2 ? spec.params.subarray(P1 + c * h, P) : null;
  const name = ACTIVATIONS[spec.activation] as Activation;
  const w = spec.reduction === 0 ? 1 / spec.samples : 1;
  const G = new Float64Array(P * P);
  for (let n = 0; n < spec.samples; n++) {
    const x = spec.x.subarray(n * d, (n + 1) * d);
    const z = new Float64Array(h);
    const s = new Float64Array(h);
    for (let j = 0; j < h; j++) {
      let u = B1 ? B1[j]! : 0;
      for (let b = 0; b < d; b++) u += W1[j * d + b]! * x[b]!;
      [z[j], s[j]] = activation(name, u);
    }
    const v = Array.from({ length: c }, (_, k) => (B2 ? B2[k]! : 0) + z.reduce((acc, zj, j) => acc + W2[k * h + j]! * zj, 0));
    const vmax = Math.max(...v);
    const e = v.map((vk) => Math.exp(vk - vmax));
    const p = e.map((ek) => ek / e.reduce((a, b) => a + b, 0));
    // J_n: c x P, dv_k / dtheta.
    const J = new Float64Array(c * P);
    for (let k = 0; k < c; k++) {
      for (let j = 0; j < h; j++) {
        const g = W2[k * h + j]! * s[j]!;
        for (let b = 0; b < d; b++) J[k * P + j * d + b] = g * x[b]!;
        if (b1) J[k * P + h * d + j] = g;
        J[k * P + P1 + k * h + j] = z[j]!;
      }
      if (b2) J[k * P + P1 + c * h + k] = 1;
    }
    // A J (c x P), then G += w J^T (A J).
    const AJ = new Float64Array(c * P);
    for (let k = 0; k < c; k++)
      for (let l = 0; l < c; l++) {
        const a = (k === l ? p[k]! : 0) - p[k]! * p[l]!;
        if (a !== 0) for (let i = 0; i < P; i++) AJ[k * P + i] += a * J[l * P + i]!;
      }
    for (let k = 0; k < c; k++)
      for (let i = 0; i < P; i++) {
        const jki = w * J[k * P + i]!;
        if (jki !== 0) for (let i2 = 0; i2 < P; i2++) G[i * P + i2] += jki * AJ[k * P + i2]!;
      }
  }
  return G;
}

/** One sample of a problem, with reduction 'sum' (so its Hessian is the unscaled H_n). */
function sampleOf(spec: ProblemSpec, n: number): ProblemSpec {
  const d = spec.sizes[0]!;
  const c = spec.sizes[spec.sizes.length - 1]!;
  return { ...spec, x: spec.x.slice(n * d, (n + 1) * d), targets: spec.targets.slice(n * c, (n + 1) * c), samples: 1, reduction: 1 };
}

// ------------------------------------------------------------------------------------------------

describe.each(BACKENDS)('closed-form traces on the %s backend', (backendName) => {
  let backend: KernelBackend;
  beforeAll(async () => {
    backend = await getBackend(backendName);
  });

  const dense = async (spec: ProblemSpec): Promise<DenseAnalysis> =>
    JSON.parse(await backend.run('analyze', spec, { method: 0 })) as DenseAnalysis;
  const traces = (spec: ProblemSpec, method: TraceMethod = 'auto', extra = {}) => closedFormTraces(backend, spec, { method, ...extra });

  it('equal the dense traces on every one-hidden-layer fixture (dual, primal and auto)', async () => {
    const fixtures = loadFixtures().filter((f) => f.hiddenLayers === 1);
    expect(fixtures.length).toBeGreaterThanOrEqual(5);
    for (const f of fixtures) {
      const spec = toProblemSpec(f.model, f.data, f.reduction);
      const reference = await dense(spec);
      for (const method of ['dual', 'primal', 'auto'] as const) {
        const r = await traces(spec, method);
        expect(r.closedForm, f.name).toBe(true);
        expect(r.estimated).toBe(false);
        expect(method === 'auto' ? ['dual', 'primal'] : [method]).toContain(r.method);
        expectClose(r.trace, reference.trace, `${f.name} ${method} trace`);
        expectClose(r.traceOfSquare, reference.traceOfSquare, `${f.name} ${method} traceOfSquare`);
        expectClose(r.trace, f.expected.trace, `${f.name} ${method} trace vs autodiff`, 1e-9);
        expectClose(r.traceOfSquare, f.expected.traceOfSquare, `${f.name} ${method} traceOfSquare vs autodiff`, 1e-9);
        expectClose(r.bound.upper, f.expected.bound.upper, `${f.name} upper`, 1e-9);
        expectClose(r.loss, f.expected.loss, `${f.name} loss`, 1e-12);
        expectClose(r.frobenius, Math.sqrt(r.traceOfSquare), 'frobenius', 1e-15);
        expect(r.parameters).toBe(f.expected.parameters);
        expectDecompositionAddsUp(r);
      }
    }
  });

  it('equal the dense traces on random nets: every activation, biases on either layer, one-hot and soft, mean and sum', async () => {
    const rng = createRng(2024);
    let cases = 0;
    for (const act of ACTIVATIONS)
      for (const bias1 of [false, true])
        for (const bias2 of [false, true])
          for (const soft of [false, true])
            for (const sum of [false, true]) {
              const spec = tinyProblem(rng, randomNet(rng, { activation: act, bias1, bias2, soft, sum, N: 2 + rng.int(8) }));
              const reference = await dense(spec);
              const dual = await traces(spec, 'dual');
              const primal = await traces(spec, 'primal');
              const what = `${act} bias ${bias1}/${bias2} soft ${soft} sum ${sum}`;
              for (const r of [dual, primal]) {
                expectClose(r.trace, reference.trace, `${what} ${r.method} trace`, TOL, 1e-12);
                expectClose(r.traceOfSquare, reference.traceOfSquare, `${what} ${r.method} traceOfSquare`);
                expectDecompositionAddsUp(r);
              }
              expectClose(dual.traceOfSquare, primal.traceOfSquare, `${what} dual vs primal`);
              cases++;
            }
    expect(cases).toBe(ACTIVATIONS.length * 16);
    // And the library's own random models (Glorot, zero biases or none) on a slice of iris.
    const iris = loadDataset('iris');
    const rows = Array.from({ length: 40 }, (_, i) => 3 * i);  // every third sample: all three classes
    const slice = toDataset(
      { data: Float64Array.from(rows.flatMap((n) => Array.from(iris.x.subarray(4 * n, 4 * n + 4)))), rows: 40, cols: 4 },
      rows.map((n) => iris.labels![n]!),
      { classes: 3 },
    );
    for (const activation of ACTIVATIONS)
      for (const bias of [true, false]) {
        const model = randomModel({ inputs: 4, hidden: [5], classes: 3, activation, seed: 3, bias });
        const spec = toProblemSpec(model, slice, bias ? 'mean' : 'sum');
        const reference = await dense(spec);
        for (const method of ['dual', 'primal'] as const) {
          const r = await traces(spec, method);
          expectClose(r.trace, reference.trace, `randomModel ${activation} ${method} trace`);
          expectClose(r.traceOfSquare, reference.traceOfSquare, `randomModel ${activation} ${method} traceOfSquare`);
        }
      }
  });

  it('dual and primal agree on real data, also with tiny scratch memory (many tiles and panels)', async () => {
    const iris = loadDataset('iris');
    for (const [hidden, activation] of [[7, 'tanh'], [24, 'gelu']] as const) {
      const model = randomModel({ inputs: 4, hidden: [hidden], classes: 3, activation, seed: hidden });
      const spec = toProblemSpec(model, iris);
      const reference = await dense(spec);
      const runs = [
        await traces(spec, 'dual'),
        await traces(spec, 'primal'),
        await traces(spec, 'dual', { workBytes: 20_000 }),
        await traces(spec, 'primal', { workBytes: 20_000 }),
      ];
      for (const r of runs) {
        expectClose(r.trace, reference.trace, `iris h${hidden} ${r.method} trace`);
        expectClose(r.traceOfSquare, reference.traceOfSquare, `iris h${hidden} ${r.method} traceOfSquare`);
        for (const key of ['mixed'] as const) expectClose(r.decomposition![key], runs[0]!.decomposition![key], `${key}`, 1e-9, 1e-12);
        expectClose(r.decomposition!.gaussNewton.traceOfSquare, runs[0]!.decomposition!.gaussNewton.traceOfSquare, 'GN');
        expectClose(r.orthogonality.traceOfSquareIfOrthogonal!, runs[0]!.orthogonality.traceOfSquareIfOrthogonal!, 'orth');
      }
    }
  });

  it('stay exact where the softmax saturates (loss 1e-10 .. 1e-15), against a 60-digit reference', async () => {
    // Iris samples a random tanh net classifies with a margin, labelled by its own prediction, then the
    // output weights scaled up: every p is within 1e-8 .. 1e-12 of one-hot. Subtracting 1 - p or
    // W2_k - W2^T p there loses most digits (the dense assemblies do); the closed form does not.
    // References: mpmath at 60 digits, from the same Kronecker formulas.
    const iris = loadDataset('iris');
    const H = 8;
    const base = randomModel({ inputs: 4, hidden: [H], classes: 3, activation: 'tanh', seed: 5 });
    const [W1, b1, W2, b2] = [base.layers[0]!.weight, base.layers[0]!.bias!, base.layers[1]!.weight, base.layers[1]!.bias!];
    const keep: number[] = [];
    const labels: number[] = [];
    for (let n = 0; n < iris.n; n++) {
      const z = Array.from({ length: H }, (_, j) => Math.tanh(b1[j]! + [0, 1, 2, 3].reduce((a, b) => a + W1[j * 4 + b]! * iris.x[n * 4 + b]!, 0)));
      const v = [0, 1, 2].map((k) => b2[k]! + z.reduce((a, zj, j) => a + W2[k * H + j]! * zj, 0));
      const sorted = [...v].sort((a, b) => b - a);
      if (sorted[0]! - sorted[1]! > 0.5) {
        keep.push(n);
        labels.push(v.indexOf(sorted[0]!));
      }
    }
    expect(keep.length).toBe(70);
    const x = Float64Array.from(keep.flatMap((n) => Array.from(iris.x.subarray(n * 4, n * 4 + 4))));
    const data = toDataset({ data: x, rows: keep.length, cols: 4 }, labels, { classes: 3 });
    const references = [
      { scale: 40, trace: 3.5459312454442129248e-6, traceOfSquare: 4.8773206664182921774e-12 },
      { scale: 60, trace: 1.9640467678523781048e-10, traceOfSquare: 1.5362008048294331678e-20 },
    ];
    for (const ref of references) {
      const model = randomModel({ inputs: 4, hidden: [H], classes: 3, activation: 'tanh', seed: 5 });
      (model.layers[1]!.weight as Float64Array).forEach((v, i, a) => (a[i] = v * ref.scale));
      const spec = toProblemSpec(model, data);
      for (const method of ['dual', 'primal'] as const) {
        const r = await traces(spec, method);
        expect(r.loss).toBeLessThan(1e-9);
        expectClose(r.trace, ref.trace, `scale ${ref.scale} ${method} trace`, 1e-12);
        expectClose(r.traceOfSquare, ref.traceOfSquare, `scale ${ref.scale} ${method} traceOfSquare`, 1e-12);
        expectDecompositionAddsUp(r);
      }
    }
  });

  it('block decomposition matches the blocks of the dense Hessian', async () => {
    const rng = createRng(77);
    for (let i = 0; i < 12; i++) {
      const net = randomNet(rng, { N: 3 + rng.int(6) });
      const spec = tinyProblem(rng, net);
      const P = spec.params.length;
      const P1 = net.h * net.d + (net.bias1 ? net.h : 0);
      const H = await backend.hessian(spec, 0, 1e9);
      const r = await traces(spec, i % 2 === 0 ? 'dual' : 'primal');
      const t = r.decomposition!;
      const h11 = block(H, P, 0, P1, 0, P1);
      const h22 = block(H, P, P1, P, P1, P);
      const h21 = block(H, P, P1, P, 0, P1);
      const floor = 1e-12 * frob2(H);
      expectClose(t.blocks.hidden.trace, traceOf(h11, P1), 'hidden trace', TOL, 1e-12);
      expectClose(t.blocks.output.trace, traceOf(h22, P - P1), 'output trace', TOL, 1e-12);
      expectClose(t.blocks.hidden.traceOfSquare, frob2(h11), 'hidden square', TOL, floor);
      expectClose(t.blocks.output.traceOfSquare, frob2(h22), 'output square', TOL, floor);
      expectClose(t.blocks.cross.traceOfSquare, 2 * frob2(h21), 'cross square', TOL, floor);
    }
  });

  it('Gauss–Newton and residual parts match an independent G = w sum J^T A J', async () => {
    const rng = createRng(5);
    const elementary: Activation[] = ['tanh', 'sigmoid', 'softplus', 'silu', 'identity'];
    for (let i = 0; i < 15; i++) {
      const net = randomNet(rng, { activation: elementary[i % elementary.length]!, N: 2 + rng.int(6) });
      const spec = tinyProblem(rng, net);
      const P = spec.params.length;
      const P1 = net.h * net.d + (net.bias1 ? net.h : 0);
      const H = await backend.hessian(spec, 0, 1e9);
      const G = gaussNewton(spec);
      const R = H.map((v, k) => v - G[k]!);
      let mixed = 0;
      for (let k = 0; k < P * P; k++) mixed += 2 * G[k]! * R[k]!;
      const r = await traces(spec, i % 2 === 0 ? 'dual' : 'primal');
      const t = r.decomposition!;
      const floor = 1e-12 * frob2(H);
      const what = `${net.activation} case ${i}`;
      expectClose(t.gaussNewton.trace, traceOf(G, P), `${what} GN trace`, 1e-9, 1e-12);
      expectClose(t.residual.trace, traceOf(R, P), `${what} residual trace`, 1e-9, Math.abs(t.gaussNewton.trace));
      expectClose(t.gaussNewton.traceOfSquare, frob2(G), `${what} GN square`, 1e-9, floor);
      expectClose(t.residual.traceOfSquare, frob2(R), `${what} residual square`, 1e-9, floor);
      expectClose(t.mixed, mixed, `${what} mixed`, 1e-9, floor);
      expectClose(t.residual.sigmaSecond.traceOfSquare, frob2(block(R, P, 0, P1, 0, P1)), `${what} sigma''`, 1e-9, floor);
      expectClose(t.residual.gradientCross.traceOfSquare, 2 * frob2(block(R, P, P1, P, 0, P1)), `${what} gradient cross`, 1e-9, floor);
      expect(frob2(block(R, P, P1, P, P1, P))).toBeLessThan(1e-24 * Math.max(1, frob2(H)));  // output block is all GN
      if (net.activation === 'identity') expect(t.residual.sigmaSecond.traceOfSquare).toBe(0);
    }
  });

  it('orthogonality: input cosines, and tr(H^2) as if orthogonal = ||H22||^2 + w^2 sum_n (||H11_n||^2 + 2 ||H21_n||^2)', async () => {
    const rng = createRng(11);
    for (let i = 0; i < 6; i++) {
      const net = randomNet(rng, { N: 2 + rng.int(6) });
      const spec = tinyProblem(rng, net);
      const P = spec.params.length;
      const P1 = net.h * net.d + (net.bias1 ? net.h : 0);
      const r = await traces(spec);
      // Cosines between raw inputs.
      let sum = 0;
      let max = 0;
      for (let n = 0; n < net.N; n++)
        for (let m = n + 1; m < net.N; m++) {
          const xn = spec.x.subarray(n * net.d, (n + 1) * net.d);
          const xm = spec.x.subarray(m * net.d, (m + 1) * net.d);
          const dotv = xn.reduce((a, v, k) => a + v * xm[k]!, 0);
          const cos = Math.abs(dotv) / Math.sqrt(frob2(xn) * frob2(xm));
          sum += cos;
          max = Math.max(max, cos);
        }
      const pairs = (net.N * (net.N - 1)) / 2;
      expect(r.orthogonality.pairs).toBe(pairs);
      expectClose(r.orthogonality.meanAbsCosine!, sum / pairs, 'mean cosine', 1e-12);
      expectClose(r.orthogonality.maxAbsCosine!, max, 'max cosine', 1e-12);
      // The what-if from per-sample Hessians.
      const w = net.sum ? 1 : 1 / net.N;
      let selfTerms = 0;
      for (let n = 0; n < net.N; n++) {
        const Hn = await backend.hessian(sampleOf(spec, n), 0, 1e9);
        selfTerms += frob2(block(Hn, P, 0, P1, 0, P1)) + 2 * frob2(block(Hn, P, P1, P, 0, P1));
      }
      const expected = r.decomposition!.blocks.output.traceOfSquare + w * w * selfTerms;
      expectClose(r.orthogonality.traceOfSquareIfOrthogonal!, expected, 'traceOfSquareIfOrthogonal', 1e-10);
      const ws = backend.wsBounds(r.trace, expected, P);
      expectClose(r.orthogonality.orthogonalCounterfactual!.upper, ws.upper, 'orthogonalCounterfactual', 1e-10);
    }
  });

  it('orthogonal inputs (no input bias): the what-if equals the actual and the cosines are 0', async () => {
    const d = 6;
    const N = 4;
    const x = new Float64Array(N * d);
    for (let n = 0; n < N; n++) x[n * d + n] = 1 + n;  // scaled standard basis vectors
    const data = toDataset({ data: x, rows: N, cols: d }, [0, 1, 2, 1], { classes: 3 });
    const model = randomModel({ inputs: d, hidden: [5], classes: 3, activation: 'tanh', seed: 9, bias: false });
    const r = await traces(toProblemSpec(model, data));
    expect(r.orthogonality.meanAbsCosine).toBe(0);
    expect(r.orthogonality.maxAbsCosine).toBe(0);
    expectClose(r.orthogonality.traceOfSquareIfOrthogonal!, r.traceOfSquare, 'what-if', 1e-13);
    const one = await traces(toProblemSpec(model, toDataset({ data: x.slice(0, d), rows: 1, cols: d }, [0], { classes: 3 })));
    expect(one.orthogonality.meanAbsCosine).toBeNull();
    expect(one.orthogonality.pairs).toBe(0);
  });

  it('WS bounds hold against the exact eigenvalues on hundreds of random cases', async () => {
    const rng = createRng(31337);
    let tightest = Infinity;
    for (let i = 0; i < 300; i++) {
      const spec = tinyProblem(rng, randomNet(rng));
      const exact = await dense(spec);
      const r = await traces(spec);
      const b = r.bound;
      const slack = 1e-9 * Math.max(1, Math.abs(exact.lambdaMax), Math.abs(exact.lambdaMin));
      expect(b.upper, `case ${i}`).toBeGreaterThanOrEqual(exact.lambdaMax - slack);
      expect(b.lowerOfMax, `case ${i}`).toBeLessThanOrEqual(exact.lambdaMax + slack);
      expect(b.lowerOfMin, `case ${i}`).toBeLessThanOrEqual(exact.lambdaMin + slack);
      expect(b.upperOfMin, `case ${i}`).toBeGreaterThanOrEqual(exact.lambdaMin - slack);
      expect(b.spread, `case ${i}`).toBeGreaterThanOrEqual(exact.lambdaMax - exact.lambdaMin - slack);
      expect(r.frobenius, `case ${i}`).toBeGreaterThanOrEqual(b.upper - slack);
      tightest = Math.min(tightest, b.upper - exact.lambdaMax);
    }
    expect(tightest).toBeGreaterThan(-1e-9);
  });

  it('deeper nets: exact dense traces, saying plainly that they are not the closed form', async () => {
    for (const f of loadFixtures().filter((fx) => fx.hiddenLayers > 1)) {
      const r = await traces(toProblemSpec(f.model, f.data, f.reduction));
      expect(r.method).toBe('dense');
      expect(r.closedForm).toBe(false);
      expect(r.estimated).toBe(false);
      expect(r.decomposition).toBeNull();
      expect(r.interval).toBeNull();
      expect(r.orthogonality.traceOfSquareIfOrthogonal).toBeNull();
      expectClose(r.trace, f.expected.trace, `${f.name} trace`, 1e-9);
      expectClose(r.traceOfSquare, f.expected.traceOfSquare, `${f.name} traceOfSquare`, 1e-9);
      expectClose(r.bound.upper, f.expected.bound.upper, `${f.name} upper`, 1e-9);
    }
    const deep = loadFixtures().find((fx) => fx.hiddenLayers > 1)!;
    await expect(traces(toProblemSpec(deep.model, deep.data), 'dual')).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });

  it('deeper nets too large for dense: Hutch++ estimates inside their interval, reproducible by seed', async () => {
    const rng = createRng(7);
    const N = 64;
    const d = 16;
    const x = Float64Array.from({ length: N * d }, () => rng.normal());
    const data = toDataset({ data: x, rows: N, cols: d }, Array.from({ length: N }, (_, i) => i % 4), { classes: 4 });
    const model = randomModel({ inputs: d, hidden: [32, 32], classes: 4, activation: 'tanh', seed: 3 });
    const spec = toProblemSpec(model, data);
    expect(spec.params.length).toBe(1732);
    const exact = await traces(spec, 'dense');
    expect(exact.estimated).toBe(false);
    const options = { maxDenseBytes: 1_000_000, probes: 150, seed: 42 };
    const r = await closedFormTraces(backend, spec, options);
    expect(r.method).toBe('hutch++');
    expect(r.closedForm).toBe(false);
    expect(r.estimated).toBe(true);
    expect(r.interval!.confidence).toBe(0.95);
    expect(r.hutchpp!.products).toBe(150);
    const [tLo, tHi] = r.interval!.trace;
    const [sLo, sHi] = r.interval!.traceOfSquare;
    expect(tLo).toBeLessThanOrEqual(exact.trace);
    expect(tHi).toBeGreaterThanOrEqual(exact.trace);
    expect(sLo).toBeLessThanOrEqual(exact.traceOfSquare);
    expect(sHi).toBeGreaterThanOrEqual(exact.traceOfSquare);
    expect(tLo).toBeLessThanOrEqual(r.trace);
    expect(r.trace).toBeLessThanOrEqual(tHi);
    expect(Math.abs(r.traceOfSquare / exact.traceOfSquare - 1)).toBeLessThan(0.05);
    const again = await closedFormTraces(backend, spec, options);
    expect(again.trace).toBe(r.trace);
    expect(again.interval).toEqual(r.interval);
    const other = await closedFormTraces(backend, spec, { ...options, seed: 43 });
    expect(other.trace).not.toBe(r.trace);
  });

  it('Hutch++ is exact when its sketch spans the whole space', async () => {
    const f = loadFixtures().find((fx) => fx.name === 'synth-silu-h4x3x3-nobias')!;
    const spec = toProblemSpec(f.model, f.data, f.reduction);
    const r = await closedFormTraces(backend, spec, { method: 'hutch++', probes: 3 * spec.params.length + 3 });
    // A numerically singular H gives a smaller sketch; the deflated remainder is then ~0 anyway.
    if (r.hutchpp!.sketch === spec.params.length) expect(r.estimated).toBe(false);
    expectClose(r.trace, f.expected.trace, 'trace', 1e-9);
    expectClose(r.traceOfSquare, f.expected.traceOfSquare, 'traceOfSquare', 1e-9);
  });

  it('reports progress up to 1, and skips the orthogonality summary when asked', async () => {
    const iris = loadDataset('iris');
    const spec = toProblemSpec(randomModel({ inputs: 4, hidden: [9], classes: 3, activation: 'silu', seed: 2 }), iris);
    for (const method of ['dual', 'primal'] as const) {
      const seen: number[] = [];
      const r = await closedFormTraces(backend, spec, { method, workBytes: 50_000, onProgress: (f) => seen.push(f) });
      expect(seen.length, method).toBeGreaterThan(2);
      expect(seen.at(-1)).toBe(1);
      expect(seen.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= seen[i - 1]!))).toBe(true);
      const skipped = await closedFormTraces(backend, spec, { method, workBytes: 50_000, orthogonality: false });
      expect(skipped.orthogonality).toEqual({ meanAbsCosine: null, maxAbsCosine: null, pairs: null, traceOfSquareIfOrthogonal: null, orthogonalCounterfactual: null });
      expect(skipped.traceOfSquare).toBe(r.traceOfSquare);
    }
  });

  it('rejects bad options with BAD_OPTION', async () => {
    const f = loadFixtures().find((fx) => fx.hiddenLayers === 1)!;
    const spec = toProblemSpec(f.model, f.data, f.reduction);
    await expect(closedFormTraces(backend, spec, { method: 'fast' as TraceMethod })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(closedFormTraces(backend, spec, { probes: 3 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(closedFormTraces(backend, spec, { confidence: 1 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(backend.run('traces', spec, { method: 9 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});
