/**
 * The native addon and the WebAssembly module run the same kernel source: on every fixture their
 * results agree to 1e-10 relative (OpenBLAS/LAPACK vs Eigen only change rounding).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/select.js';
import type { KernelBackend } from '../src/backend/types.js';
import { toProblemSpec } from '../src/problem.js';
import { loadFixtures, relErr } from './helpers/fixtures.js';

const TOL = 1e-10;
const fixtures = loadFixtures();
let native: KernelBackend;
let wasm: KernelBackend;

beforeAll(async () => {
  native = await getBackend('native');
  wasm = await getBackend('wasm');
});

type Json = Record<string, unknown>;

/**
 * Every number in a and b agrees to TOL relative to `floor(key)` at least, every other value is
 * equal; `seconds` (wall time) and Lanczos residuals (round-off sized, ~1e-15) are skipped.
 */
function expectAgree(a: unknown, b: unknown, path: string, floor: (path: string) => number): void {
  if (typeof b === 'number') {
    expect(typeof a, path).toBe('number');
    expect(relErr(a as number, b, floor(path)), `${path}: wasm ${String(a)} vs native ${b}`).toBeLessThan(TOL);
  } else if (Array.isArray(b)) {
    expect(Array.isArray(a), path).toBe(true);
    expect((a as unknown[]).length, `${path}.length`).toBe(b.length);
    b.forEach((v, i) => expectAgree((a as unknown[])[i], v, `${path}[${i}]`, floor));
  } else if (b !== null && typeof b === 'object') {
    expect(Object.keys(a as Json).sort(), path).toEqual(Object.keys(b).sort());
    for (const [key, v] of Object.entries(b as Json)) {
      if (key === 'seconds' || key.endsWith('Residuals')) continue;
      expectAgree((a as Json)[key], v, `${path}.${key}`, floor);
    }
  } else {
    expect(a, path).toEqual(b);
  }
}

describe.each(fixtures)('native and wasm agree on $name', (f) => {
  const spec = () => toProblemSpec(f.model, f.data, f.reduction);
  // Eigenvalues near zero are compared relative to the spectral radius, like the fixture tests.
  const radius = Math.max(Math.abs(f.expected.lambdaMax), Math.abs(f.expected.lambdaMin));
  const floor = (path: string) => (/igenvalues|lambdaM/.test(path) ? radius : 1e-300);
  const assemblies = f.hiddenLayers === 1 ? [1, 2] : [2];

  it.each(assemblies)("run('analyze') dense, assembly %i", async (assembly) => {
    const options = { method: 0, assembly, k: 5 };
    const [a, b] = await Promise.all([wasm.run('analyze', spec(), options), native.run('analyze', spec(), options)]);
    expectAgree(JSON.parse(a), JSON.parse(b), 'analyze', floor);
  });

  it("run('analyze') Lanczos", async () => {
    const options = { method: 1, k: 3, which: 2, tolerance: 1e-10, maxIterations: 300, seed: 7 };
    const a = JSON.parse(await wasm.run('analyze', spec(), options)) as Json;
    const b = JSON.parse(await native.run('analyze', spec(), options)) as Json;
    // The Krylov dimension may differ by a step where convergence is decided by round-off.
    const lanczosA = a.lanczos as Json;
    const lanczosB = b.lanczos as Json;
    expect(lanczosA.converged).toBe(true);
    expect(Math.abs((lanczosA.iterations as number) - (lanczosB.iterations as number))).toBeLessThanOrEqual(2);
    delete a.lanczos;
    delete b.lanczos;
    expectAgree(a, b, 'analyze', floor);
  });

  it('hessian, hvp, lossGrad, eigh and wsBounds', async () => {
    const s = spec();
    const P = f.expected.parameters;
    const [ha, hb] = await Promise.all([wasm.hessian(s, 0, 1e9), native.hessian(s, 0, 1e9)]);
    const hScale = Math.max(...hb.map(Math.abs));
    expectAgree(Array.from(ha), Array.from(hb), 'hessian', () => hScale);

    const dirs = Float64Array.from({ length: 2 * P }, (_, i) => Math.sin(i + 1));
    const [va, vb] = await Promise.all([wasm.hvp(s, dirs, 2), native.hvp(s, dirs, 2)]);
    const vScale = Math.max(...vb.map(Math.abs));
    expectAgree(Array.from(va), Array.from(vb), 'hvp', () => vScale);

    const la = wasm.lossGrad(s);
    const lb = native.lossGrad(s);
    const gScale = Math.max(...lb.gradient.map(Math.abs));
    expectAgree(la.loss, lb.loss, 'loss', () => 1e-300);
    expectAgree(Array.from(la.gradient), Array.from(lb.gradient), 'gradient', () => gScale);

    const [ea, eb] = await Promise.all([wasm.eigh(hb, P, P - 3, P - 1, false), native.eigh(hb, P, P - 3, P - 1, false)]);
    expectAgree(Array.from(ea.values), Array.from(eb.values), 'eigh', () => radius);

    const t = f.expected;
    expectAgree(wasm.wsBounds(t.trace, t.traceOfSquare, P), native.wsBounds(t.trace, t.traceOfSquare, P), 'ws', () => 1e-300);
  });
});

describe('native and wasm fail alike', () => {
  const f = fixtures[0]!;
  const cases: [string, (b: KernelBackend) => Promise<unknown>][] = [
    ['unknown command', (b) => b.run('no-such-command', toProblemSpec(f.model, f.data), {})],
    ['k = 0', (b) => b.run('analyze', toProblemSpec(f.model, f.data), { k: 0 })],
    ['non-integer option', (b) => b.run('analyze', toProblemSpec(f.model, f.data), { k: 1.5 })],
    ['non-finite option', (b) => b.run('analyze', toProblemSpec(f.model, f.data), { tolerance: Number.NaN })],
    ['dense over the caller limit', (b) => b.run('analyze', toProblemSpec(f.model, f.data), { method: 0, maxDenseBytes: 64 })],
    ['params of the wrong length', (b) => b.run('analyze', { ...toProblemSpec(f.model, f.data), params: new Float64Array(3) }, {})],
    ['matrix of the wrong size', (b) => b.eigh(new Float64Array(5), 2, 0, 1, false)],
    ['eigenvalue range outside', (b) => b.eigh(new Float64Array(4), 2, 1, 2, false)],
  ];
  it.each(cases)('%s: same error code', async (_, call) => {
    const codes = await Promise.all(
      // (the native addon throws argument errors synchronously, the module rejects: both count)
      [wasm, native].map((b) => Promise.resolve().then(() => call(b)).then(() => 'no error', (e: { code?: string }) => e.code)),
    );
    expect(codes[0]).not.toBe('no error');
    expect(codes[0]).toBe(codes[1]);
  });
});
