/**
 * The relaxed-SIMD WebAssembly build (hessbound-wasm-relaxed, hessbound-wasm-mt-relaxed): the same
 * kernel with f64x2.relaxed_madd (FMA) in its products. Node 20 runs it only with
 * --experimental-wasm-relaxed-simd, so every run here is a child process with or without that flag.
 *
 * - With the flag the loader picks it by itself, and the module reports itself as relaxed (no silent
 *   fallback: HESSBOUND_WASM_MODULE=relaxed fails rather than loading the SIMD128 build).
 * - Its results (Hessian-vector products, the dense Hessian, all its eigenvalues through the
 *   unblocked and the blocked tridiagonalization, a Lanczos lambda_max, loss and gradient) agree
 *   with the SIMD128 build's to 1e-12 relative (a model trained for 60 steps to 1e-11), and are not
 *   the same bits: the fused multiply-adds ran.
 * - Within the relaxed build results are bit-identical from run to run, and between the
 *   single-threaded module and the threaded one on 1 and 2 threads.
 * - Without the flag Node gets the SIMD128 build and says why; forcing relaxed there is a BACKEND
 *   error with a hint; an unknown HESSBOUND_WASM_MODULE is BAD_OPTION.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const FLAG = '--experimental-wasm-relaxed-simd';

const CHILD = `
import { analyze, eigenvalues, getBackend, hessian, hvp, loadDataset, lossAndGradient, modelToJson, randomModel, train } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
import { seededDirections } from ${JSON.stringify(pathToFileURL(join(ROOT, 'test/helpers/directions.ts')).href)};
const backend = process.env.CHILD_BACKEND;
const b = await getBackend(backend);
const digits = loadDataset('digits');
const wine = loadDataset('wine');
const iris = loadDataset('iris');
const bits = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const out = { simd: b.wasmSimd, name: b.name, hvp: [], gradient: [], hessian: [], eigenvalues: [], lambdaMax: '', model: '', loss: 0 };
const cases = [
  [randomModel({ inputs: digits.d, hidden: [64], classes: digits.classes, activation: 'tanh', seed: 1 }), digits, 'mean'],
  [randomModel({ inputs: digits.d, hidden: [40, 24], classes: digits.classes, activation: 'sigmoid', seed: 2, bias: false }), digits, 'mean'],
  [randomModel({ inputs: wine.d, hidden: [13], classes: wine.classes, activation: 'gelu', seed: 3 }), wine, 'sum'],
];
for (const [model, data, reduction] of cases) {
  const v = seededDirections(model);
  out.hvp.push(bits(await hvp(model, data, v, { backend, reduction })));
  const g = await lossAndGradient(model, data, { backend, reduction });
  out.gradient.push(bits(Float64Array.from([g.loss, ...g.gradient])));
}
// Dense Hessians and all their eigenvalues: P = 131 (unblocked reduction) and P = 1027 (blocked).
for (const width of [16, 128]) {
  const model = randomModel({ inputs: iris.d, hidden: [width], classes: iris.classes, activation: 'tanh', seed: 6 });
  const h = await hessian(model, iris, { backend });
  out.hessian.push(bits(h.matrix));
  out.eigenvalues.push(bits((await eigenvalues({ rows: h.n, cols: h.n, data: h.matrix }, { backend })).values));
}
const wide = randomModel({ inputs: digits.d, hidden: [128], classes: digits.classes, activation: 'tanh', seed: 4 });
const r = await analyze(wide, digits, { method: 'lanczos', which: 'largest', k: 1, tolerance: 1e-10, bound: false, backend });
out.lambdaMax = bits(new Float64Array([r.lambdaMax]));
const start = randomModel({ inputs: digits.d, hidden: [32], classes: digits.classes, activation: 'tanh', seed: 5 });
const trained = await train(start, digits, { maxSteps: 60, adamSteps: 30, backend });
out.model = JSON.stringify(modelToJson(trained.model));
out.loss = trained.loss;
out.threadsUsed = b.threadsUsed ? await b.threadsUsed() : 1;
console.log(JSON.stringify(out));
`;

interface ChildResult {
  simd: { simd: string; why?: string };
  name: string;
  hvp: string[];
  gradient: string[];
  hessian: string[];
  eigenvalues: string[];
  lambdaMax: string;
  model: string;
  loss: number;
  threadsUsed: number;
}

function spawnChild(flags: string[], env: Record<string, string>, script: string) {
  const base = { ...process.env };
  delete base['HESSBOUND_WASM_MODULE'];
  return spawnSync(process.execPath, [...flags, '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 256 << 20, // the P = 1027 Hessian as base64 is 11 MB
  });
}

function runChild(backend: string, module: string, threads = '1'): ChildResult {
  const r = spawnChild([FLAG], { CHILD_BACKEND: backend, HESSBOUND_WASM_MODULE: module, HESSBOUND_THREADS: threads }, CHILD);
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as ChildResult;
}

const floats = (b64: string) => {
  const buf = Buffer.from(b64, 'base64');
  return new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
};

/** max |a - b| / max |b|: the error relative to the vector's scale. */
function normwise(a: Float64Array, b: Float64Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

function modelParams(json: string): Float64Array {
  const m = JSON.parse(json) as { layers: { weight: number[][]; bias?: number[] }[] };
  return Float64Array.from(m.layers.flatMap((l) => [...l.weight.flat(), ...(l.bias ?? [])]));
}

describe('relaxed-SIMD WebAssembly build', () => {
  let simd128: ChildResult;
  let relaxed: ChildResult;
  beforeAll(() => {
    for (const f of ['hessbound-wasm-relaxed.wasm', 'hessbound-wasm-relaxed.js', 'hessbound-wasm-mt-relaxed.wasm', 'hessbound-wasm-mt-relaxed.worker.js'])
      if (!existsSync(join(ROOT, 'wasm', 'dist', f))) throw new Error(`wasm/dist/${f} is missing: install clang-16 and run npm run build:wasm`);
    simd128 = runChild('wasm', 'simd128');
    relaxed = runChild('wasm', 'auto');
  }, 600_000);

  it('is chosen by itself where the engine validates relaxed SIMD, and says so', () => {
    expect(relaxed.simd.simd).toBe('relaxed');
    expect(relaxed.simd.why).toMatch(/validates relaxed SIMD/);
    expect(simd128.simd).toEqual({ simd: 'simd128', why: 'forced by HESSBOUND_WASM_MODULE=simd128' });
  });

  it('agrees with the SIMD128 build to 1e-12 relative, in other bits (the FMAs ran)', () => {
    const pairs: [string, Float64Array, Float64Array][] = [
      ...relaxed.hvp.map((h, i) => [`hvp ${i}`, floats(h), floats(simd128.hvp[i]!)] as [string, Float64Array, Float64Array]),
      ...relaxed.gradient.map((h, i) => [`loss and gradient ${i}`, floats(h), floats(simd128.gradient[i]!)] as [string, Float64Array, Float64Array]),
      ...relaxed.hessian.map((h, i) => [`hessian ${i}`, floats(h), floats(simd128.hessian[i]!)] as [string, Float64Array, Float64Array]),
      ...relaxed.eigenvalues.map((h, i) => [`eigenvalues ${i}`, floats(h), floats(simd128.eigenvalues[i]!)] as [string, Float64Array, Float64Array]),
      ['lambdaMax', floats(relaxed.lambdaMax), floats(simd128.lambdaMax)],
    ];
    let differing = 0;
    for (const [what, a, b] of pairs) {
      expect(normwise(a, b), what).toBeLessThan(1e-12);
      if (a.some((x, i) => x !== b[i])) differing++;
    }
    // 60 optimizer steps, each from the last one's parameters, carry the rounding differences of
    // every step forward: measured 1.4e-12 normwise after 60 steps, so 1e-11 for the trained model.
    const trained = [modelParams(relaxed.model), modelParams(simd128.model)] as const;
    expect(normwise(...trained)).toBeLessThan(1e-11);
    if (trained[0].some((x, i) => x !== trained[1][i])) differing++;
    expect(Math.abs(relaxed.loss - simd128.loss) / simd128.loss).toBeLessThan(1e-11);
    // Products, Hessians and eigenvalues all run through the FMA loops: every one should differ.
    expect(relaxed.hvp.filter((h, i) => h !== simd128.hvp[i]).length).toBe(relaxed.hvp.length);
    expect(relaxed.hessian.filter((h, i) => h !== simd128.hessian[i]).length).toBe(relaxed.hessian.length);
    expect(differing).toBeGreaterThanOrEqual(relaxed.hvp.length + relaxed.hessian.length);
    console.log(`relaxed vs SIMD128: ${differing} of ${pairs.length + 1} results differ in some bit`);
  });

  it('gives the same bits again, and on the threaded build with 1 and 2 threads', () => {
    const again = runChild('wasm', 'relaxed');
    expect(again.simd.simd).toBe('relaxed');
    for (const threads of ['1', '2']) {
      const mt = runChild('wasm-threads', 'relaxed', threads);
      expect(mt.name).toBe('wasm-threads');
      expect(mt.simd.simd).toBe('relaxed');
      expect(mt.threadsUsed).toBe(Number(threads));
      for (const other of [again, mt]) {
        expect(other.hvp).toEqual(relaxed.hvp);
        expect(other.gradient).toEqual(relaxed.gradient);
        expect(other.lambdaMax).toEqual(relaxed.lambdaMax);
        expect(other.model).toBe(relaxed.model);
      }
      expect(mt.hessian).toEqual(relaxed.hessian);
      expect(mt.eigenvalues).toEqual(relaxed.eigenvalues);
    }
    expect(again.hessian).toEqual(relaxed.hessian);
    expect(again.eigenvalues).toEqual(relaxed.eigenvalues);
  }, 900_000);
});

describe('relaxed-SIMD build where the engine lacks it (Node 20 without the flag)', () => {
  const PROBE = `
import { getBackend } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
try {
  const b = await getBackend(process.env.CHILD_BACKEND);
  console.log(JSON.stringify({ simd: b.wasmSimd }));
} catch (e) {
  console.log(JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint } }));
}
process.exit(0);
`;
  const probe = (env: Record<string, string>, flags: string[] = []) => {
    const r = spawnChild(flags, env, PROBE);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { simd?: { simd: string; why?: string }; error?: { code: string; message: string; hint: string } };
  };

  it.each(['wasm', 'wasm-threads'])('%s: Node picks the SIMD128 build and says why', (backend) => {
    const r = probe({ CHILD_BACKEND: backend });
    expect(r.simd?.simd).toBe('simd128');
    expect(r.simd?.why).toMatch(/no relaxed SIMD.*--experimental-wasm-relaxed-simd/);
  });

  it('HESSBOUND_WASM_MODULE=relaxed fails with BACKEND and says how to get it', () => {
    const r = probe({ CHILD_BACKEND: 'wasm', HESSBOUND_WASM_MODULE: 'relaxed' });
    expect(r.error?.code).toBe('BACKEND');
    expect(r.error?.message).toMatch(/no relaxed SIMD/);
    expect(r.error?.hint).toMatch(/--experimental-wasm-relaxed-simd/);
    expect(r.error?.hint).toMatch(/HESSBOUND_WASM_MODULE=simd128/);
  });

  it('hessbound info names the module and why, with and without the flag', () => {
    const info = (flags: string[]) => {
      const base = { ...process.env, HESSBOUND_BACKEND: 'wasm' };
      delete base['HESSBOUND_WASM_MODULE'];
      const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'info'], { cwd: ROOT, env: base, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(info([FLAG])).toMatch(/wasm: available \(eigen, relaxed SIMD module \(FMA\), .*\n  module: the engine validates relaxed SIMD/);
    expect(info([])).toMatch(/wasm: available \(eigen, SIMD128 module, .*\n  module: this engine's WebAssembly has no relaxed SIMD .*--experimental-wasm-relaxed-simd/);
  });

  it('an unknown HESSBOUND_WASM_MODULE is BAD_OPTION', () => {
    const r = probe({ CHILD_BACKEND: 'wasm', HESSBOUND_WASM_MODULE: 'fma' }, [FLAG]);
    expect(r.error?.code).toBe('BAD_OPTION');
    expect(r.error?.message).toMatch(/'simd128', 'relaxed' or 'auto', not 'fma'/);
  });
});
