/**
 * Layer 0 of a Hessian-vector product reads X by its nonzeros when X is mostly zeros
 * (native/kernel/curvature/sparse_inputs.cpp; HESSBOUND_SPARSE_INPUTS=auto|dense|sparse). Same
 * math as the dense GEMMs, so on every backend: products and lambda_max agree with the dense path
 * to 1e-12 relative; `auto` takes the sparse path on sparse data and the dense one on dense data
 * (bit for bit); the sparse path is bit-identical for 1 and 2 threads and run to run. The
 * variable is read once per process (the WebAssembly module hears it at load), so each setting
 * runs in a child process.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './helpers/backends.js';
import { ROOT } from './helpers/cli.js';

// Cases over the kernel's paths: one hidden layer with tanh (fused output layer), a width that is
// no multiple of any vector width with gelu and sum reduction (the kernels' remainder columns), two
// hidden layers with sigmoid and no biases (layer 0 through the generic backward pass), and 40
// classes (the output layer through GEMMs). The sparse set: ~25% nonzero, one row and the first
// column all zero; the dense set (wine) has no zeros.
const CHILD = `
import { analyze, hvp, loadDataset, randomModel, syntheticDataset } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
import { seededDirections } from ${JSON.stringify(pathToFileURL(join(ROOT, 'test/helpers/directions.ts')).href)};
const backend = process.env.CASE_BACKEND;
function sparsify(data) {
  const x = new Float64Array(data.x.length);
  for (let i = 0; i < x.length; i++) x[i] = (i * 37) % 101 < 50 && data.x[i] > 0 ? data.x[i] : 0;
  for (let n = 0; n < data.n; n++) x[n * data.d] = 0;
  x.fill(0, 7 * data.d, 8 * data.d);
  return { ...data, x };
}
const a = sparsify(syntheticDataset({ n: 157, d: 96, classes: 10, rho: 0.3, seed: 5 }));
const b = sparsify(syntheticDataset({ n: 90, d: 40, classes: 40, rho: 0.2, seed: 6 }));
const wine = loadDataset('wine');
let nonzero = 0;
for (const v of a.x) nonzero += v !== 0;
const cases = [
  [randomModel({ inputs: a.d, hidden: [64], classes: a.classes, activation: 'tanh', seed: 1 }), a, 'mean'],
  [randomModel({ inputs: a.d, hidden: [37], classes: a.classes, activation: 'gelu', seed: 2 }), a, 'sum'],
  [randomModel({ inputs: a.d, hidden: [40, 24], classes: a.classes, activation: 'sigmoid', seed: 3, bias: false }), a, 'mean'],
  [randomModel({ inputs: b.d, hidden: [20], classes: b.classes, activation: 'softplus', seed: 4 }), b, 'mean'],
  [randomModel({ inputs: wine.d, hidden: [13], classes: wine.classes, activation: 'tanh', seed: 5 }), wine, 'mean'],
];
const products = [];
const lambdas = [];
const inputs = [];
for (const [model, data, reduction] of cases) {
  const v = seededDirections(model);
  const r = await hvp(model, data, v, { backend, reduction });
  products.push(Buffer.from(r.buffer, r.byteOffset, r.byteLength).toString('base64'));
  const an = await analyze(model, data, { backend, reduction, method: 'lanczos', which: 'largest', k: 1, tolerance: 1e-12, bound: false });
  lambdas.push(an.lambdaMax);
  inputs.push(an.lanczos.inputs);
}
console.log(JSON.stringify({ density: nonzero / a.x.length, products, lambdas, inputs }));
`;

interface ChildResult {
  density: number;
  products: Float64Array[];
  lambdas: number[];
  inputs: string[];
}

function run(backend: string, env: NodeJS.ProcessEnv): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env: { ...process.env, ...env, CASE_BACKEND: backend },
    encoding: 'utf8',
    timeout: 180_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  const parsed = JSON.parse(lines[lines.length - 1]!) as { density: number; products: string[]; lambdas: number[]; inputs: string[] };
  return {
    density: parsed.density,
    lambdas: parsed.lambdas,
    inputs: parsed.inputs,
    products: parsed.products.map((b64) => {
      const bytes = Buffer.from(b64, 'base64');
      return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
    }),
  };
}

/** max |a - b| / max |b|. */
function relMax(a: Float64Array, b: Float64Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

function bitIdentical(a: Float64Array, b: Float64Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

const SPARSE_CASES = [0, 1, 2, 3];
const DENSE_CASE = 4;

describe.each(BACKENDS)('sparse inputs in layer 0 (%s)', (backend) => {
  it('agree with the dense path to 1e-12; auto picks by density; bit-identical for 1 and 2 threads', () => {
    const dense = run(backend, { HESSBOUND_SPARSE_INPUTS: 'dense', HESSBOUND_THREADS: '1' });
    const sparse = run(backend, { HESSBOUND_SPARSE_INPUTS: 'sparse', HESSBOUND_THREADS: '1' });
    const auto = run(backend, { HESSBOUND_SPARSE_INPUTS: 'auto', HESSBOUND_THREADS: '1' });
    expect(dense.density).toBeGreaterThan(0.1);
    expect(dense.density).toBeLessThan(0.35);
    dense.products.forEach((hv, i) => {
      expect(hv.every(Number.isFinite), `case ${i}`).toBe(true);
      expect(relMax(sparse.products[i]!, hv), `case ${i}: sparse against dense`).toBeLessThan(1e-12);
      expect(Math.abs(sparse.lambdas[i]! - dense.lambdas[i]!) / Math.abs(dense.lambdas[i]!), `case ${i}: lambda_max`).toBeLessThan(1e-12);
    });
    // The path that ran, as analyze() reports it (in WebAssembly, without FMA, both paths sum the
    // same nonzero terms in the same order, so the products may well be bit-identical there).
    expect(dense.inputs).toEqual(['dense', 'dense', 'dense', 'dense', 'dense']);
    expect(sparse.inputs).toEqual(['sparse', 'sparse', 'sparse', 'sparse', 'sparse']);
    expect(auto.inputs).toEqual(['sparse', 'sparse', 'sparse', 'sparse', 'dense']);
    for (const i of SPARSE_CASES) expect(bitIdentical(auto.products[i]!, sparse.products[i]!), `case ${i}: auto is sparse`).toBe(true);
    expect(bitIdentical(auto.products[DENSE_CASE]!, dense.products[DENSE_CASE]!), 'wine: auto is dense').toBe(true);

    if (backend === 'wasm') return; // one thread only
    const two = run(backend, { HESSBOUND_SPARSE_INPUTS: 'sparse', HESSBOUND_THREADS: '2' });
    const again = run(backend, { HESSBOUND_SPARSE_INPUTS: 'sparse', HESSBOUND_THREADS: '2' });
    sparse.products.forEach((hv, i) => {
      expect(bitIdentical(two.products[i]!, hv), `case ${i}: 2 threads against 1`).toBe(true);
      expect(bitIdentical(again.products[i]!, hv), `case ${i}: run to run`).toBe(true);
      expect(Object.is(two.lambdas[i], sparse.lambdas[i]), `case ${i}: lambda_max, 2 threads against 1`).toBe(true);
    });
  }, 600_000);

  it('an unknown HESSBOUND_SPARSE_INPUTS is BAD_OPTION, with the words it takes', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: ROOT,
      env: { ...process.env, HESSBOUND_SPARSE_INPUTS: 'csr', CASE_BACKEND: backend },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/BAD_OPTION|HESSBOUND_SPARSE_INPUTS='csr' is not an input format/);
    expect(r.stderr).toMatch(/auto, dense, sparse/);
  }, 60_000);
});
