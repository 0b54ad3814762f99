/**
 * The relaxed-SIMD WebAssembly build (FMA: f64x2.relaxed_madd) against the SIMD128 build and
 * single-threaded native, same run (issue 26 item 4): Lanczos lambda_max on digits, width 256
 * (P = 19 210, N = 1797) and the dense Hessian + all eigenvalues on iris, width 256 (P = 2051).
 *
 * Three child processes per round, in turn: native (OPENBLAS_NUM_THREADS=1, HESSBOUND_THREADS=1),
 * the SIMD128 module and the relaxed one (both single-threaded 'wasm', HESSBOUND_WASM_MODULE forcing
 * each, both under node --experimental-wasm-relaxed-simd so the engine is the same). Each call is
 * timed with Benchmark.js after a warm-up; ratios are taken within a round, then their median and
 * range over the rounds is reported.
 *
 * The floor: each round also measures the kernel's gemm() (bench/gemm-peak/gemm_shapes.cpp) built
 * both ways, on the multiply-adds of one digits-256 Hessian-vector product (the shapes of
 * bench/wasm-floor.ts). The product's flops at the relaxed build's best rate of that round, against
 * native's time per product in the same round (its Lanczos kernel phases / products, so native's
 * share of forward pass and Lanczos work counts for native), is how close any code built on these
 * GEMMs could get.
 *
 *   node --import tsx bench/wasm-relaxed.ts [--rounds N] [--samples N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { analyze, getBackend, loadDataset, randomModel, type AnalyzeResult, type BackendName } from '../src/index.js';
import { cpuDescription } from './lib/simd.js';
import { REPO_DIR } from './lib/peer.js';
import { fmtRatio, fmtSeconds, relDiff, summarize, type Summary } from './lib/stats.js';
import { timeAsync } from './lib/timing.js';

const FLAG = '--experimental-wasm-relaxed-simd';
type Config = 'native' | 'simd128' | 'relaxed';
const CONFIGS: Config[] = ['native', 'simd128', 'relaxed'];

interface Task {
  id: string;
  kind: 'dense' | 'lanczos';
  dataset: 'iris' | 'digits';
  width: number;
}
const TASKS: Task[] = [
  { id: 'Lanczos digits-256', kind: 'lanczos', dataset: 'digits', width: 256 },
  { id: 'dense iris-256', kind: 'dense', dataset: 'iris', width: 256 },
];
type Phase = 'kernel' | 'hessian' | 'eigen' | 'call';
const PHASES: Record<Task['kind'], Phase[]> = { lanczos: ['kernel', 'call'], dense: ['hessian', 'eigen', 'call'] };
const PHASE_LABEL: Record<Phase, string> = {
  kernel: 'forward + Lanczos (kernel phases)',
  hessian: 'Hessian build',
  eigen: 'all eigenvalues',
  call: 'whole analyze() call',
};

interface ChildResult {
  config: Config;
  /** What ran: native's SIMD path, or the module the wasm backend reports. */
  path: string;
  tasks: { id: string; parameters: number; phases: Partial<Record<Phase, number[]>>; lambdaMax: number; products: number | null }[];
}

async function child(config: Config, samples: number): Promise<ChildResult> {
  const backendName: BackendName = config === 'native' ? 'native' : 'wasm';
  const backend = await getBackend(backendName);
  const path = config === 'native' ? `native, SIMD path ${backend.addonInfo?.simd ?? '?'}, OpenBLAS ${backend.addonInfo?.blasKernels ?? '?'}` : `wasm, ${backend.wasmSimd?.simd ?? '?'} module`;
  if (config !== 'native' && backend.wasmSimd?.simd !== config) throw new Error(`asked for the ${config} module, got ${backend.wasmSimd?.simd}`);
  const tasks: ChildResult['tasks'] = [];
  for (const task of TASKS) {
    const data = loadDataset(task.dataset);
    const model = randomModel({ inputs: data.d, hidden: [task.width], classes: data.classes, activation: 'tanh', seed: 0 });
    const options = task.kind === 'dense'
      ? { method: 'dense' as const, k: 1, backend: backendName }
      : { method: 'lanczos' as const, which: 'largest' as const, k: 1, tolerance: 1e-10, bound: false, backend: backendName };
    let last: AnalyzeResult = await analyze(model, data, options); // warm-up
    const phases: Partial<Record<Phase, number[]>> = {};
    const push = (p: Phase, v: number) => (phases[p] ??= []).push(v);
    const timed = await timeAsync(`${task.id} (${config})`, async () => {
      last = await analyze(model, data, options);
      const s = last.seconds;
      if (task.kind === 'dense') {
        push('hessian', s['hessian'] ?? Number.NaN);
        push('eigen', s['eigen'] ?? Number.NaN);
      } else push('kernel', (s['forward'] ?? 0) + (s['lanczos'] ?? Number.NaN));
    }, { minSamples: samples, maxTime: 0.5 });
    phases.call = timed.samples;
    tasks.push({ id: task.id, parameters: last.parameters, phases, lambdaMax: last.lambdaMax ?? Number.NaN, products: last.lanczos?.products ?? null });
  }
  return { config, path, tasks };
}

function runChild(config: Config, samples: number): ChildResult {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', HESSBOUND_THREADS: '1' };
  if (config === 'native') delete env['HESSBOUND_WASM_MODULE'];
  else env['HESSBOUND_WASM_MODULE'] = config;
  const r = spawnSync(process.execPath, [FLAG, '--import', 'tsx', fileURLToPath(import.meta.url), '--child', config, String(samples)], {
    cwd: REPO_DIR, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${config}: child failed (status ${String(r.status)}):\n${r.stderr.toString().slice(-2000)}`);
  const lines = r.stdout.toString().trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as ChildResult;
}

/** A product C = op(A) op(B) as the kernel calls gemm(): m x k times k x n. */
interface Shape { what: string; ta: boolean; tb: boolean; m: number; n: number; k: number }

/** One digits Hessian-vector product's multiply-adds at width H (bench/wasm-floor.ts). */
function productShapes(H: number): Shape[] {
  const N = 1797, d = 64, c = 10;
  return [
    { what: 'R(u_0) = X V_0^T', ta: false, tb: true, m: N, n: H, k: d },
    { what: '(Hv)_W0 = R(delta_0)^T X', ta: true, tb: false, m: H, n: d, k: N },
    { what: 'R(u_o) = a V_o^T + R(a) W_o^T (x2)', ta: false, tb: true, m: N, n: c, k: 2 * H },
    { what: 'R(delta_h) from delta_o V_o + R(delta_o) W_o (x2)', ta: false, tb: false, m: N, n: H, k: 2 * c },
    { what: '(Hv)_Wo = R(delta_o)^T a + delta_o^T R(a) (x2)', ta: true, tb: false, m: c, n: H, k: 2 * N },
  ];
}
const SQUARE: Shape = { what: 'square 512', ta: false, tb: false, m: 512, n: 512, k: 512 };
const flops = (x: Shape) => 2 * x.m * x.n * x.k;

/** gemm_shapes.cpp built as the SIMD128 and the relaxed module are (wasm/wasm.cmake). */
function buildShapePrograms(): Record<'simd128' | 'relaxed', string> {
  const dir = mkdtempSync(join(tmpdir(), 'hb-wasm-relaxed-'));
  const kernel = join(REPO_DIR, 'native', 'kernel');
  const env = { ...process.env, NODE_PATH: [process.env['NODE_PATH'], '/usr/share/nodejs'].filter(Boolean).join(':') };
  const sources = [join(REPO_DIR, 'bench', 'gemm-peak', 'gemm_shapes.cpp'), join(kernel, 'linalg/blas.cpp'), join(kernel, 'linalg/gemm_vec2.cpp')];
  const common = ['-std=c++17', '-I/usr/include/eigen3', '-DEIGEN_MPL2_ONLY', '-DEIGEN_NO_DEBUG', `-I${kernel}`];
  const link = ['-sALLOW_MEMORY_GROWTH=1', '-sENVIRONMENT=node', '-sSINGLE_FILE=1'];
  execFileSync('em++', ['-O3', '-msimd128', ...common, ...sources, ...link, '-o', join(dir, 'simd128.js')], { env, stdio: 'inherit' });
  const relaxedEnv = { ...env, EM_CLANG_ADD_VERSION: '16', EMCC_READ_METADATA: 'python' };
  // The driver (main) by emcc's own clang-14: clang-16 names main() as emcc 3.1.6's startup code
  // does not expect, and the program would not run. It has no products of its own.
  const objects = sources.map((src, i) => {
    const o = join(dir, `relaxed-${i}.o`);
    if (i === 0) execFileSync('em++', ['-O3', '-msimd128', ...common, '-c', src, '-o', o], { env, stdio: 'inherit' });
    else execFileSync('em++', ['-O3', '-msimd128', '-mrelaxed-simd', ...common, '-c', src, '-o', o], { env: relaxedEnv, stdio: 'inherit' });
    return o;
  });
  execFileSync('em++', ['-O1', '-sASSERTIONS=0', '-sWASM_BIGINT=1', '-msimd128', '-mrelaxed-simd', ...objects, ...link, '-o', join(dir, 'relaxed.js')], { env: relaxedEnv, stdio: 'inherit' });
  return { simd128: join(dir, 'simd128.js'), relaxed: join(dir, 'relaxed.js') };
}

function gemmRates(program: string, shapes: Shape[]): number[] {
  const args = shapes.map((x) => `${+x.ta},${+x.tb},${x.m},${x.n},${x.k}`);
  return JSON.parse(execFileSync(process.execPath, [FLAG, program, ...args], { encoding: 'utf8' })) as number[];
}

async function main(): Promise<void> {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const rounds = arg('--rounds', 3);
  const samples = arg('--samples', 3);
  const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`# WebAssembly with relaxed SIMD (FMA) against SIMD128 and native (committed output of bench/wasm-relaxed.ts)\n`);
  console.log(`Run ${new Date().toISOString()}, \`node --import tsx bench/wasm-relaxed.ts --rounds ${rounds} --samples ${samples}\` on node ${process.version}.`);
  console.log(`CPU: ${cpuDescription()}. Load average at the start: ${load0} (a shared 2-core machine: other engineers' jobs run beside this one, so single samples scatter; the ratios are taken within a round).\n`);
  const programs = buildShapePrograms();
  const shapes = [SQUARE, ...productShapes(256)];
  const rates: Record<'simd128' | 'relaxed', number[][]> = { simd128: [], relaxed: [] };
  const children: ChildResult[][] = [];
  for (let r = 0; r < rounds; r++) {
    const round: ChildResult[] = [];
    for (const config of CONFIGS) round.push(runChild(config, samples));
    rates.simd128.push(gemmRates(programs.simd128, shapes));
    rates.relaxed.push(gemmRates(programs.relaxed, shapes));
    children.push(round);
    console.error(`round ${r + 1} of ${rounds} done`);
  }
  const get = (round: ChildResult[], config: Config) => round.find((c) => c.config === config) as ChildResult;
  console.log(`What ran: ${CONFIGS.map((c) => `${c}: ${get(children[0]!, c).path}`).join('; ')}. Every process on one thread (OPENBLAS_NUM_THREADS=1, HESSBOUND_THREADS=1, the single-threaded module), all under \`node ${FLAG}\`.\n`);
  const fmt = (x: Summary) => (x.n > 1 ? `${fmtSeconds(x.median)} (${fmtSeconds(x.min)}–${fmtSeconds(x.max)})` : fmtSeconds(x.median));
  const fmtR = (x: Summary | null) => (x ? (x.n > 1 ? `${fmtRatio(x.median)} (${fmtRatio(x.min)}–${fmtRatio(x.max)})` : fmtRatio(x.median)) : 'n/a');
  console.log('| task | P | phase | native, 1 thread | SIMD128 | relaxed SIMD | SIMD128 / native | **relaxed / native** | relaxed / SIMD128 |');
  console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const task of TASKS)
    for (const phase of PHASES[task.kind]) {
      const medians: Record<Config, number[]> = { native: [], simd128: [], relaxed: [] };
      const pooled: Record<Config, number[]> = { native: [], simd128: [], relaxed: [] };
      for (const round of children)
        for (const config of CONFIGS) {
          const values = get(round, config).tasks.find((t) => t.id === task.id)?.phases[phase] ?? [];
          pooled[config].push(...values);
          medians[config].push(summarize(values).median);
        }
      const ratio = (a: Config, b: Config) => {
        const v = medians[a].map((x, i) => x / medians[b][i]!).filter(Number.isFinite);
        return v.length ? summarize(v) : null;
      };
      const P = get(children[0]!, 'native').tasks.find((t) => t.id === task.id)?.parameters ?? 0;
      console.log(`| ${task.id} | ${P} | ${PHASE_LABEL[phase]} | ${fmt(summarize(pooled.native))} | ${fmt(summarize(pooled.simd128))} | ${fmt(summarize(pooled.relaxed))} | ${fmtR(ratio('simd128', 'native'))} | **${fmtR(ratio('relaxed', 'native'))}** | ${fmtR(ratio('relaxed', 'simd128'))} |`);
    }
  console.log('\nTimes: median (lowest–highest) over all samples of all rounds; ratios: median (lowest–highest) over the rounds of the per-round medians.\n');
  for (const task of TASKS) {
    const at = (c: Config) => get(children[0]!, c).tasks.find((t) => t.id === task.id)!;
    console.log(`- ${task.id}: lambda_max relaxed vs SIMD128 ${relDiff(at('relaxed').lambdaMax, at('simd128').lambdaMax).toExponential(1)}, relaxed vs native ${relDiff(at('relaxed').lambdaMax, at('native').lambdaMax).toExponential(1)}` +
      (at('native').products !== null ? `; Hessian-vector products native ${at('native').products}, SIMD128 ${at('simd128').products}, relaxed ${at('relaxed').products}` : ''));
  }

  // The floor of one digits-256 Hessian-vector product.
  const median = (v: number[]) => summarize(v).median;
  console.log('\n## The floor: the GEMM rates of the two builds\n');
  console.log('The kernel\'s gemm() built as each module is (GFLOP/s, median over the rounds of each round\'s best repetition), on a square product and on the multiply-adds of one digits-256 Hessian-vector product (the kernel runs the output layer\'s as fused loops, hvp.cpp; as GEMMs they are the same count):\n');
  console.log('| product | shape (m x n x k) | SIMD128 | relaxed SIMD | relaxed / SIMD128 rate |');
  console.log('| --- | --- | ---: | ---: | ---: |');
  shapes.forEach((x, i) => {
    const a = median(rates.simd128.map((r) => r[i]!)), b = median(rates.relaxed.map((r) => r[i]!));
    console.log(`| ${x.what} | ${x.m} x ${x.n} x ${x.k} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}x |`);
  });
  const productFlops = productShapes(256).reduce((t, x) => t + flops(x), 0);
  const floors = children.map((round, r) => {
    const lanczos = (c: Config) => get(round, c).tasks.find((t) => t.id.startsWith('Lanczos'))!;
    const perProduct = (c: Config) => median(lanczos(c).phases.kernel ?? []) / (lanczos(c).products ?? Number.NaN);
    const best = Math.max(...rates.relaxed[r]!);
    return { floor: productFlops / (best * 1e9), native: perProduct('native'), relaxed: perProduct('relaxed'), simd128: perProduct('simd128'), best };
  });
  const fl = summarize(floors.map((f) => f.floor / f.native));
  console.log(`\nOne digits-256 product: ${(productFlops / 1e9).toFixed(3)} GFLOP. At each round's best relaxed rate (${floors.map((f) => f.best.toFixed(1)).join(', ')} GFLOP/s) that is ${floors.map((f) => `${(f.floor * 1e3).toFixed(1)} ms`).join(', ')}; native took ${floors.map((f) => `${(f.native * 1e3).toFixed(1)} ms`).join(', ')} a product (its Lanczos kernel time / products), the relaxed build ${floors.map((f) => `${(f.relaxed * 1e3).toFixed(1)} ms`).join(', ')}, SIMD128 ${floors.map((f) => `${(f.simd128 * 1e3).toFixed(1)} ms`).join(', ')}.`);
  console.log(`**Floor / native: ${fmtR(fl)}** (median, lowest–highest over the rounds): the relaxed build's multiply-adds alone, at its best GEMM rate, against native's whole product.`);
  console.log(`\nLoad average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}.`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--child') {
    const result = await child(process.argv[3] as Config, Number(process.argv[4] ?? 3));
    process.stdout.write(`\n${JSON.stringify(result)}\n`);
  } else await main();
}
