/**
 * How close WebAssembly can get to single-threaded native at all (issue 15): a floor for each
 * GEMM-bound task, measured in one run. The floor is the time WebAssembly needs for the task's
 * matrix products alone, at the best rate its SIMD128 GEMM reaches on this machine (every other
 * part of the task taken as free), divided by native's time for the whole task:
 *
 * - λmax by Lanczos, digits width 1024: per Hessian-vector product, its multiply-adds (the two
 *   layer-0 products R(u_0) = X V_0^T and R(delta_0)^T X, N x d x H each, and the output layer's
 *   six N x c x H), against native's whole product;
 * - a training step, digits widths 64 and 256: the five products of one loss + gradient evaluation,
 *   against native's whole Adam step ((201-step call - 1-step call) / 200: the call's fixed work cancels).
 *
 * The SIMD128 rates are the kernel's own gemm() compiled with em++ -O3 -msimd128
 * (bench/gemm-peak/gemm_shapes.cpp: the task's shapes, as whole-N products, and a square 512
 * product); a round's floor uses the best of that round's rates, so it flatters WebAssembly, and is
 * compared with native measured in the same round (the machine is shared: ratios within a round). A floor above 1.5x means
 * the 1.5x target cannot be met by any WebAssembly code on this machine; a floor above 2
 * for the product on one thread means 2 WebAssembly threads cannot beat one native thread.
 *
 *   HESSBOUND_THREADS=1 OPENBLAS_NUM_THREADS=1 node --import tsx bench/wasm-floor.ts [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { hvp, loadDataset, randomModel, type BackendName, type Dataset, type Model } from '../src/index.js';
import { adamStepMs } from './lib/train-step.js';
import { REPO_DIR } from './lib/peer.js';
import { median } from './lib/stats.js';

if (process.env['HESSBOUND_THREADS'] !== '1' || process.env['OPENBLAS_NUM_THREADS'] !== '1')
  throw new Error('run with HESSBOUND_THREADS=1 OPENBLAS_NUM_THREADS=1: the floor is against single-threaded native');
const roundsAt = process.argv.indexOf('--rounds');
const rounds = roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : 3;

/** A product C = op(A) op(B) as the kernel calls gemm(): m x k times k x n. */
interface Shape {
  what: string;
  ta: boolean;
  tb: boolean;
  m: number;
  n: number;
  k: number;
}
const flops = (s: Shape) => 2 * s.m * s.n * s.k;

const data = loadDataset('digits');
const N = data.n, d = data.d, c = data.classes;

// The product's multiply-adds: the two layer-0 GEMMs, and the output layer's six (the kernel runs
// those as fused loops over the rows, hvp.cpp; as GEMMs they are the same count).
function lanczosShapes(H: number): Shape[] {
  return [
    { what: 'R(u_0) = X V_0^T', ta: false, tb: true, m: N, n: H, k: d },
    { what: '(Hv)_W0 = R(delta_0)^T X', ta: true, tb: false, m: H, n: d, k: N },
    { what: 'R(u_o) = a V_o^T + R(a) W_o^T (x2)', ta: false, tb: true, m: N, n: c, k: 2 * H },
    { what: 'R(delta_h) from delta_o V_o + R(delta_o) W_o (x2)', ta: false, tb: false, m: N, n: H, k: 2 * c },
    { what: '(Hv)_Wo = R(delta_o)^T a + delta_o^T R(a) (x2)', ta: true, tb: false, m: c, n: H, k: 2 * N },
  ];
}
function trainShapes(H: number): Shape[] {
  return [
    { what: 'u_0 = X W_0^T', ta: false, tb: true, m: N, n: H, k: d },
    { what: 'logits = a_0 W_1^T', ta: false, tb: true, m: N, n: c, k: H },
    { what: 'back = delta_1 W_1', ta: false, tb: false, m: N, n: H, k: c },
    { what: 'grad W_0 = delta_0^T X', ta: true, tb: false, m: H, n: d, k: N },
    { what: 'grad W_1 = delta_1^T a_0', ta: true, tb: false, m: c, n: H, k: N },
  ];
}
const square: Shape = { what: 'square 512', ta: false, tb: false, m: 512, n: 512, k: 512 };

// The SIMD128 GEMM, built once.
const dir = mkdtempSync(join(tmpdir(), 'hb-wasm-floor-'));
const kernel = join(REPO_DIR, 'native', 'kernel');
const env = { ...process.env, NODE_PATH: [process.env['NODE_PATH'], '/usr/share/nodejs'].filter(Boolean).join(':') };
execFileSync('em++', ['-O3', '-msimd128', '-std=c++17', '-I/usr/include/eigen3', '-DEIGEN_MPL2_ONLY', '-DEIGEN_NO_DEBUG', `-I${kernel}`,
  join(REPO_DIR, 'bench', 'gemm-peak', 'gemm_shapes.cpp'), join(kernel, 'linalg/blas.cpp'), join(kernel, 'linalg/gemm_vec2.cpp'),
  '-sALLOW_MEMORY_GROWTH=1', '-sENVIRONMENT=node', '-sSINGLE_FILE=1', '-o', join(dir, 'shapes.js')], { env, stdio: 'inherit' });
const allShapes = [square, ...lanczosShapes(1024), ...trainShapes(64), ...trainShapes(256)];
function wasmRates(): number[] {
  const args = allShapes.map((s) => `${+s.ta},${+s.tb},${s.m},${s.n},${s.k}`);
  return JSON.parse(execFileSync(process.execPath, [join(dir, 'shapes.js'), ...args], { env, encoding: 'utf8' })) as number[];
}

/** ms per Hessian-vector product: (17 products - 1 product) / 16, so the forward pass of a call cancels. */
async function productMs(model: Model, set: Dataset, backend: BackendName): Promise<number> {
  const P = model.layers.reduce((s, l) => s + l.weight.length + (l.bias?.length ?? 0), 0);
  const many = Float64Array.from({ length: 17 * P }, (_, i) => Math.sin(i * 0.7 + 1));
  const one = many.slice(0, P);
  const time = async (directions: Float64Array) => {
    const t = performance.now();
    await hvp(model, set, directions, { backend });
    return performance.now() - t;
  };
  // The fastest of 3 calls each: one slow call must not make the difference small or negative.
  let t1 = Infinity;
  let t17 = Infinity;
  for (let i = 0; i < 3; i++) {
    t1 = Math.min(t1, await time(one));
    t17 = Math.min(t17, await time(many));
  }
  return (t17 - t1) / 16;
}

const wide = randomModel({ inputs: d, hidden: [1024], classes: c, activation: 'tanh', seed: 1 });
const trainModels = [64, 256].map((H) => randomModel({ inputs: d, hidden: [H], classes: c, activation: 'tanh', seed: 1 }));
const samples: Record<string, number[]> = {};
const push = (key: string, v: number) => (samples[key] ??= []).push(v);
const rateSamples: number[][] = [];
const loadAtStart = loadavg().map((l) => l.toFixed(2)).join(' ');
for (let round = 0; round <= rounds; round++) {
  const rates = wasmRates();
  const product = { native: await productMs(wide, data, 'native'), wasm: await productMs(wide, data, 'wasm') };
  const steps = [];
  for (const m of trainModels) steps.push({ native: (await adamStepMs(m, data, 'native', 200)).step, wasm: (await adamStepMs(m, data, 'wasm', 200)).step });
  if (round === 0) continue; // warm-up
  rateSamples.push(rates);
  push('product native', product.native);
  push('product wasm', product.wasm);
  steps.forEach((s, i) => {
    push(`step ${i} native`, s.native);
    push(`step ${i} wasm`, s.wasm);
  });
}

// Per shape, the median over the rounds of each round's best repetition (the table); the floors use
// each round's own best rate over all shapes, against native measured in the same round.
const rate = allShapes.map((_, i) => median(rateSamples.map((r) => r[i] as number)));
const rateOf = (s: Shape) => rate[allShapes.indexOf(s)] as number;
const roundBest = rateSamples.map((r) => Math.max(...r));
const typical = (key: string) => median(samples[key] as number[]);

console.log(`Run ${new Date().toISOString()}, \`HESSBOUND_THREADS=1 OPENBLAS_NUM_THREADS=1 node --import tsx bench/wasm-floor.ts --rounds ${rounds}\`; load average at the start ${loadAtStart}. ${rounds} rounds after a warm-up round; digits (N = ${N}, d = ${d}, c = ${c}), tanh.\n`);
console.log('SIMD128 GEMM (the kernel\'s gemm() in WebAssembly), GFLOP/s: median over the rounds of the best repetition:\n');
console.log('| product | shape (m x n x k) | GFLOP/s |');
console.log('| --- | --- | ---: |');
allShapes.forEach((s) => console.log(`| ${s.what} | ${s.m} x ${s.n} x ${s.k} | ${rateOf(s).toFixed(1)} |`));
console.log(`\nEach round's best SIMD128 rate (over all shapes): ${roundBest.map((r) => r.toFixed(1)).join(', ')} GFLOP/s; a round's floors use it for every product.\n`);
console.log('Times: medians over the rounds. "floor / native": each round\'s floor against native in the same round, median [lowest, highest] over the rounds.\n');
console.log('| task | its products | GFLOP | WebAssembly, products alone at the best rate (floor) | WebAssembly, measured | native, measured (1 thread) | **floor / native** | measured wasm / native |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
const row = (task: string, shapes: Shape[], key: string) => {
  const gflop = shapes.reduce((s, x) => s + flops(x), 0) / 1e9;
  const floors = roundBest.map((r) => (gflop / r) * 1e3);
  const natives = samples[`${key} native`] as number[];
  const ratios = floors.map((f, i) => f / (natives[i] as number));
  const [wasm, native] = [typical(`${key} wasm`), typical(`${key} native`)];
  console.log(`| ${task} | ${shapes.map((s) => s.what).join('; ')} | ${gflop.toFixed(3)} | ${median(floors).toFixed(2)} ms | ${wasm.toFixed(2)} ms | ${native.toFixed(2)} ms | **${median(ratios).toFixed(2)}x** [${Math.min(...ratios).toFixed(2)}, ${Math.max(...ratios).toFixed(2)}] | ${(wasm / native).toFixed(2)}x |`);
};
row('Hessian-vector product, width 1024 (Lanczos)', lanczosShapes(1024), 'product');
[64, 256].forEach((H, i) => row(`Adam step, width ${H}`, trainShapes(H), `step ${i}`));
