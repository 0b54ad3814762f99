/**
 * The native kernel splits a Hessian-vector product's samples over its own threads (HESSBOUND_THREADS,
 * read once per process). The samples come in a fixed set of chunks, each summed on its own and
 * the chunks added in a fixed order, whichever thread ran them: the threaded product equals the
 * single-threaded one (asked: to 1e-13 relative; by design: to the bit) and is bit-identical from
 * run to run. Each thread count runs in a child process, since the variable is read once.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers/cli.js';

// Nets covering the kernel's paths: one hidden layer with tanh (sigma' from the activation values),
// two hidden layers with sigmoid and no biases, a width that is not a multiple of any vector width
// with gelu (cached sigma') and sum reduction, and 40 classes (the output layer through GEMMs).
const CHILD = `
import { hvp, loadDataset, randomModel, syntheticDataset } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
import { seededDirections } from ${JSON.stringify(pathToFileURL(join(ROOT, 'test/helpers/directions.ts')).href)};
const digits = loadDataset('digits');
const wine = loadDataset('wine');
const synth = syntheticDataset({ n: 300, d: 12, classes: 40, rho: 0.2, seed: 3 });
const cases = [
  [randomModel({ inputs: digits.d, hidden: [64], classes: digits.classes, activation: 'tanh', seed: 1 }), digits, 'mean'],
  [randomModel({ inputs: digits.d, hidden: [40, 24], classes: digits.classes, activation: 'sigmoid', seed: 2, bias: false }), digits, 'mean'],
  [randomModel({ inputs: wine.d, hidden: [13], classes: wine.classes, activation: 'gelu', seed: 3 }), wine, 'sum'],
  [randomModel({ inputs: synth.d, hidden: [20], classes: synth.classes, activation: 'softplus', seed: 4 }), synth, 'mean'],
];
const out = [];
for (const [model, data, reduction] of cases) {
  const v = seededDirections(model);
  const r = await hvp(model, data, v, { backend: 'native', reduction });
  out.push(Buffer.from(r.buffer, r.byteOffset, r.byteLength).toString('base64'));
}
console.log(JSON.stringify(out));
`;

function products(env: NodeJS.ProcessEnv): Float64Array[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return (JSON.parse(lines[lines.length - 1]!) as string[]).map((b64) => {
    const bytes = Buffer.from(b64, 'base64');
    return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  });
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

describe('threaded Hessian-vector products (native)', () => {
  let one: Float64Array[];
  beforeAll(() => {
    one = products({ HESSBOUND_THREADS: '1' });
  }, 120_000);

  it.each([2, 3])('%i threads equal 1 thread and are deterministic', (threads) => {
    const a = products({ HESSBOUND_THREADS: String(threads) });
    const b = products({ HESSBOUND_THREADS: String(threads) });
    expect(a.length).toBe(one.length);
    a.forEach((hv, i) => {
      expect(hv.length).toBe(one[i]!.length);
      expect(hv.every(Number.isFinite)).toBe(true);
      expect(relMax(hv, one[i]!), `case ${i}`).toBeLessThan(1e-13);
      expect(bitIdentical(hv, one[i]!), `case ${i}: ${threads} threads against 1`).toBe(true);
      expect(bitIdentical(hv, b[i]!), `case ${i}: two runs with ${threads} threads`).toBe(true);
    });
  }, 120_000);

  it('stays on the calling thread when OPENBLAS_NUM_THREADS=1 (as the sweep pool sets it)', () => {
    const auto = products({ HESSBOUND_THREADS: '', OPENBLAS_NUM_THREADS: '1' });
    const single = products({ HESSBOUND_THREADS: '1', OPENBLAS_NUM_THREADS: '1' });
    auto.forEach((hv, i) => expect(bitIdentical(hv, single[i]!), `case ${i}`).toBe(true));
  }, 120_000);

  it('Lanczos through the CLI: the same lambda_max and lambda_min with 1 and 2 threads, run after run', () => {
    const args = ['analyze', '--dataset', 'digits', '--hidden', '64', '--activation', 'tanh', '--seed', '0', '--method', 'lanczos', '--k', '1', '--no-bound', '--json', '--quiet'];
    const run = (threads: string) => {
      const r = runCli(args, { HESSBOUND_THREADS: threads, HESSBOUND_BACKEND: 'native' });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { lambdaMax: number; lambdaMin: number; lanczos: { products: number } };
    };
    const a = run('1');
    const b = run('2');
    const c = run('2');
    for (const key of ['lambdaMax', 'lambdaMin'] as const) {
      expect(Math.abs(b[key] - a[key]) / Math.abs(a[key]), key).toBeLessThan(1e-13);
      expect(Object.is(b[key], a[key]), key).toBe(true);
      expect(Object.is(b[key], c[key]), key).toBe(true);
    }
    expect(b.lanczos.products).toBe(a.lanczos.products);
    expect(b.lanczos.products).toBe(c.lanczos.products);
  }, 120_000);
});
