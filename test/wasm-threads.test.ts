/**
 * The threaded WebAssembly build (backend 'wasm-threads', hessbound-wasm-mt) splits Hessian-vector
 * products and training's evaluations over the same fixed sample chunks as the native kernel, on
 * real threads (pthread Web Workers). Its results must not depend on the thread count: 1, 2 and 3
 * threads give the same bits, and the same bits as the single-threaded module ('wasm'). Each thread
 * count runs in its own child process (HESSBOUND_THREADS), and the child reports how many threads a
 * call actually ran on, so the threaded runs are shown to be threaded.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const CHILD = `
import { analyze, getBackend, hvp, loadDataset, modelToJson, randomModel, train } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
import { seededDirections } from ${JSON.stringify(pathToFileURL(join(ROOT, 'test/helpers/directions.ts')).href)};
const backend = process.env.CHILD_BACKEND;
const digits = loadDataset('digits');
const wine = loadDataset('wine');
const bits = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const out = { hvp: [], lambdaMax: [], model: '' };
// Hessian-vector products: tanh, two sigmoid layers without biases, gelu with sum reduction.
const cases = [
  [randomModel({ inputs: digits.d, hidden: [64], classes: digits.classes, activation: 'tanh', seed: 1 }), digits, 'mean'],
  [randomModel({ inputs: digits.d, hidden: [40, 24], classes: digits.classes, activation: 'sigmoid', seed: 2, bias: false }), digits, 'mean'],
  [randomModel({ inputs: wine.d, hidden: [13], classes: wine.classes, activation: 'gelu', seed: 3 }), wine, 'sum'],
];
for (const [model, data, reduction] of cases) {
  const v = seededDirections(model);
  out.hvp.push(bits(await hvp(model, data, v, { backend, reduction })));
}
// lambda_max by Lanczos (hundreds of products in one kernel call) on digits, width 128.
const wide = randomModel({ inputs: digits.d, hidden: [128], classes: digits.classes, activation: 'tanh', seed: 4 });
const r = await analyze(wide, digits, { method: 'lanczos', which: 'largest', k: 1, tolerance: 1e-10, bound: false, backend });
out.lambdaMax.push(bits(new Float64Array([r.lambdaMax])));
// Training: full-batch steps on digits, width 32 (the evaluations over sample chunks).
const start = randomModel({ inputs: digits.d, hidden: [32], classes: digits.classes, activation: 'tanh', seed: 5 });
const trained = await train(start, digits, { maxSteps: 60, adamSteps: 30, backend });
out.model = JSON.stringify(modelToJson(trained.model));
const b = await getBackend(backend);
out.threadsUsed = b.threadsUsed ? await b.threadsUsed() : 1;
out.name = b.name;
console.log(JSON.stringify(out));
`;

interface ChildResult {
  hvp: string[];
  lambdaMax: string[];
  model: string;
  threadsUsed: number;
  name: string;
}

function runChild(backend: string, threads: string): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env: { ...process.env, CHILD_BACKEND: backend, HESSBOUND_THREADS: threads },
    encoding: 'utf8',
    timeout: 240_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as ChildResult;
}

describe('threaded WebAssembly build (wasm-threads)', () => {
  let single: ChildResult;
  let one: ChildResult;
  beforeAll(() => {
    single = runChild('wasm', '1');
    one = runChild('wasm-threads', '1');
  }, 480_000);

  it('on 1 thread gives the single-threaded module\'s bits', () => {
    expect(one.name).toBe('wasm-threads');
    expect(one.threadsUsed).toBe(1);
    expect(single.name).toBe('wasm');
    expect(one.hvp).toEqual(single.hvp);
    expect(one.lambdaMax).toEqual(single.lambdaMax);
    expect(one.model).toBe(single.model);
  });

  it.each([2, 3])('on %i threads runs them and gives the same bits (products, Lanczos lambda_max, training)', (threads) => {
    const many = runChild('wasm-threads', String(threads));
    expect(many.threadsUsed).toBe(threads);
    expect(many.hvp).toEqual(one.hvp);
    expect(many.lambdaMax).toEqual(one.lambdaMax);
    expect(many.model).toBe(one.model);
  }, 240_000);
});
