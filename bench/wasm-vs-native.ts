/**
 * Bench D (issue 4): WebAssembly (Eigen, one thread, SIMD128) against native (OpenBLAS/LAPACK) on
 * the same kernel calls, at two sizes each:
 *
 *   - dense Hessian (Kronecker assembly) and the eigensolver (all eigenvalues): `analyze(method:
 *     'dense')` on iris, width 64 (P = 515) and width 256 (P = 2051, Bench A's problem); the
 *     kernel's own phase times `hessian` and `eigen`, and the whole call;
 *   - Lanczos (largest end, k = 1, tolerance 1e-10, no closed-form traces): wine, width 256
 *     (N = 178, P = 4355) and digits, width 256 (N = 1797, P = 19 210); forward + Lanczos phases.
 *
 * Native is measured twice: with OPENBLAS_NUM_THREADS=1 (the fair baseline: WebAssembly has one
 * thread) and with OpenBLAS's default (the variable unset: one thread per core). OpenBLAS reads the
 * variable once, when the addon loads, so each configuration runs in its own child process (this
 * file, with --child). The three children run in turn, `rounds` times (native 1 thread, native
 * default, wasm, then again), and every ratio is taken within a round, then its median and range
 * over rounds is reported. Inside a child each call is timed with Benchmark.js after a warm-up.
 *
 *   npm run bench -- wasm [--quick] [--samples N]
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { analyze, getBackend, loadDataset, randomModel, type AnalyzeResult, type BackendName } from '../src/index.js';
import { buildStamps, printBuildStamps, type BuildStamps } from './lib/builds.js';
import { wasmUnavailable } from './lib/machine.js';
import type { BenchOptions } from './lib/options.js';
import { REPO_DIR } from './lib/peer.js';
import { fmtRatio, fmtSci, fmtSeconds, relDiff, summarize, type Summary } from './lib/stats.js';
import { timeAsync } from './lib/timing.js';

type Kind = 'dense' | 'lanczos';
interface Task {
  id: string;
  kind: Kind;
  dataset: 'iris' | 'wine' | 'digits';
  width: number;
}

export const TASKS: Task[] = [
  { id: 'dense iris-64', kind: 'dense', dataset: 'iris', width: 64 },
  { id: 'dense iris-256', kind: 'dense', dataset: 'iris', width: 256 },
  { id: 'lanczos wine-256', kind: 'lanczos', dataset: 'wine', width: 256 },
  { id: 'lanczos digits-256', kind: 'lanczos', dataset: 'digits', width: 256 },
];

/** The measured phases: dense -> hessian, eigen, call; lanczos -> kernel (forward + lanczos), call. */
type Phase = 'hessian' | 'eigen' | 'kernel' | 'call';
const PHASES: Record<Kind, Phase[]> = { dense: ['hessian', 'eigen', 'call'], lanczos: ['kernel', 'call'] };
const PHASE_LABEL: Record<Phase, string> = {
  hessian: 'Hessian build',
  eigen: 'eigensolve (all eigenvalues)',
  kernel: 'Lanczos (forward + Lanczos phases)',
  call: 'whole analyze() call',
};

interface ChildTask {
  id: string;
  parameters: number;
  samples: number;
  phases: Partial<Record<Phase, number[]>>;
  lambdaMax: number;
  products: number | null;
}

interface ChildResult {
  config: Config;
  backend: BackendName;
  linalg: string;
  /** Time of the first getBackend() (loading the addon, or compiling and instantiating the module). */
  loadSeconds: number;
  openblasThreads: string;
  tasks: ChildTask[];
}

type Config = 'native-1' | 'native-default' | 'wasm';
const CONFIGS: Config[] = ['native-1', 'native-default', 'wasm'];
const CONFIG_LABEL: Record<Config, string> = {
  'native-1': 'native, 1 BLAS thread',
  'native-default': 'native, OpenBLAS default threads',
  wasm: 'wasm',
};

export interface WasmPhaseRow {
  task: string;
  parameters: number;
  phase: Phase;
  /** Seconds, all samples of all rounds pooled, per configuration. */
  seconds: Partial<Record<Config, Summary>>;
  /** wasm / native-1 and wasm / native-default, per round (medians), then median and range over rounds. */
  wasmOverNative1: Summary | null;
  wasmOverNativeDefault: Summary | null;
  meetsTarget: boolean | null;
}

export interface WasmBenchResult {
  rounds: number;
  target: number;
  load: Partial<Record<Config, Summary>>;
  rows: WasmPhaseRow[];
  accuracy: { task: string; lambdaMaxRelDiff: number; productsNative: number | null; productsWasm: number | null }[];
  children: ChildResult[][];
  builds?: { before: BuildStamps; after: BuildStamps };
  unavailable?: string;
}

const TARGET = 2.5;

// ---------------------------------------------------------------- child: measure one configuration

async function child(config: Config, samples: number): Promise<ChildResult> {
  const backendName: BackendName = config === 'wasm' ? 'wasm' : 'native';
  const t0 = performance.now();
  const backend = await getBackend(backendName);
  const loadSeconds = (performance.now() - t0) / 1000;
  const tasks: ChildTask[] = [];
  for (const task of TASKS) {
    const data = loadDataset(task.dataset);
    const model = randomModel({ inputs: data.d, hidden: [task.width], classes: data.classes, activation: 'tanh', seed: 0 });
    const options =
      task.kind === 'dense'
        ? { method: 'dense' as const, k: 1, backend: backendName }
        : { method: 'lanczos' as const, which: 'largest' as const, k: 1, tolerance: 1e-10, bound: false, backend: backendName };
    let last: AnalyzeResult = await analyze(model, data, options); // warm-up
    const phases: Partial<Record<Phase, number[]>> = {};
    const push = (p: Phase, v: number) => (phases[p] ??= []).push(v);
    const timed = await timeAsync(
      `${task.id} (${config})`,
      async () => {
        last = await analyze(model, data, options);
        const s = last.seconds;
        if (task.kind === 'dense') {
          push('hessian', s['hessian'] ?? Number.NaN);
          push('eigen', s['eigen'] ?? Number.NaN);
        } else push('kernel', (s['forward'] ?? 0) + (s['lanczos'] ?? Number.NaN));
      },
      { minSamples: samples, maxTime: 0.5 },
    );
    phases.call = timed.samples;
    tasks.push({ id: task.id, parameters: last.parameters, samples: data.n, phases, lambdaMax: last.lambdaMax ?? Number.NaN, products: last.lanczos?.products ?? null });
  }
  return { config, backend: backend.name, linalg: backend.linalg, loadSeconds, openblasThreads: process.env['OPENBLAS_NUM_THREADS'] ?? 'unset', tasks };
}

function runChild(config: Config, samples: number): ChildResult {
  const env = { ...process.env };
  if (config === 'native-1') env['OPENBLAS_NUM_THREADS'] = '1';
  else if (config === 'native-default') delete env['OPENBLAS_NUM_THREADS'];
  const file = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, '--child', config, String(samples)], {
    cwd: REPO_DIR,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  if (r.error) throw new Error(`${config}: cannot start the child: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${config}: child failed (status ${String(r.status)}):\n${r.stderr.toString().slice(-2000)}`);
  const lines = r.stdout.toString().trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as ChildResult;
}

// ---------------------------------------------------------------- parent

export async function runWasmVsNative(opt: BenchOptions): Promise<WasmBenchResult> {
  console.log('\n== Bench D: WebAssembly vs native (dense Hessian, eigensolve, Lanczos) ==');
  const why = wasmUnavailable();
  if (why) {
    console.log(`wasm: ${why} - NO figures`);
    return { rounds: 0, target: TARGET, load: {}, rows: [], accuracy: [], children: [], unavailable: why };
  }
  const rounds = opt.quick ? 1 : 3;
  const samples = opt.quick ? 2 : Math.max(3, Math.ceil(opt.samples / 2));
  console.log(
    `tasks: ${TASKS.map((t) => t.id).join(', ')} (tanh, seed-0 Glorot initialisation, standardized data, all samples); ` +
      `${rounds} round(s) of three child processes (${CONFIGS.map((c) => CONFIG_LABEL[c]).join(' / ')}), ` +
      `each call timed with Benchmark.js (>= ${samples} samples) after a warm-up` + (opt.quick ? ' (QUICK: a smoke test, not figures to quote)' : ''),
  );
  const before = buildStamps();
  printBuildStamps(before, true);
  const children: ChildResult[][] = [];
  for (let r = 0; r < rounds; r++) {
    const round: ChildResult[] = [];
    for (const config of CONFIGS) {
      const t0 = performance.now();
      round.push(runChild(config, samples));
      console.log(`  round ${r + 1}: ${CONFIG_LABEL[config]} done in ${fmtSeconds((performance.now() - t0) / 1000)}`);
    }
    children.push(round);
  }
  const after = buildStamps();
  if (after.addon !== before.addon || after.wasm !== before.wasm)
    console.log(`WARNING: a build changed during the bench (addon ${before.addon} -> ${after.addon}, wasm ${before.wasm} -> ${after.wasm}): figures mix builds`);

  const get = (round: ChildResult[], config: Config) => round.find((c) => c.config === config) as ChildResult;
  const load: WasmBenchResult['load'] = {};
  for (const config of CONFIGS) load[config] = summarize(children.map((round) => get(round, config).loadSeconds));

  const rows: WasmPhaseRow[] = [];
  for (const task of TASKS) {
    for (const phase of PHASES[task.kind]) {
      const seconds: WasmPhaseRow['seconds'] = {};
      const medians: Partial<Record<Config, number[]>> = {};
      for (const config of CONFIGS) {
        const all: number[] = [];
        for (const round of children) {
          const values = get(round, config).tasks.find((t) => t.id === task.id)?.phases[phase] ?? [];
          all.push(...values);
          (medians[config] ??= []).push(summarize(values).median);
        }
        seconds[config] = summarize(all);
      }
      const ratio = (base: Config) => {
        const w = medians.wasm ?? [];
        const b = medians[base] ?? [];
        const v = w.map((x, i) => x / (b[i] as number)).filter(Number.isFinite);
        return v.length ? summarize(v) : null;
      };
      const w1 = ratio('native-1');
      rows.push({
        task: task.id,
        parameters: children[0]?.[0]?.tasks.find((t) => t.id === task.id)?.parameters ?? 0,
        phase,
        seconds,
        wasmOverNative1: w1,
        wasmOverNativeDefault: ratio('native-default'),
        meetsTarget: w1 ? w1.median <= TARGET : null,
      });
    }
  }

  const accuracy = TASKS.map((task) => {
    const n = get(children[0]!, 'native-1').tasks.find((t) => t.id === task.id)!;
    const w = get(children[0]!, 'wasm').tasks.find((t) => t.id === task.id)!;
    return { task: task.id, lambdaMaxRelDiff: relDiff(w.lambdaMax, n.lambdaMax), productsNative: n.products, productsWasm: w.products };
  });

  const s = (x: Summary | undefined) => (x ? (x.n > 1 ? `${fmtSeconds(x.median)} (${fmtSeconds(x.min)}-${fmtSeconds(x.max)})` : fmtSeconds(x.median)) : 'n/a');
  const r = (x: Summary | null) => (x ? (x.n > 1 ? `${fmtRatio(x.median)} (${fmtRatio(x.min)}-${fmtRatio(x.max)})` : fmtRatio(x.median)) : 'n/a');
  console.log(`backend load (first getBackend): ${CONFIGS.map((c) => `${CONFIG_LABEL[c]} ${s(load[c])}`).join('; ')}`);
  console.log('task                  P      phase                               native 1 thread        native default         wasm                   wasm/native-1      wasm/native-default  <= 2.5x of 1 thread');
  for (const row of rows)
    console.log(
      [
        row.task.padEnd(20), String(row.parameters).padStart(6), PHASE_LABEL[row.phase].padEnd(35),
        s(row.seconds['native-1']).padEnd(22), s(row.seconds['native-default']).padEnd(22), s(row.seconds.wasm).padEnd(22),
        r(row.wasmOverNative1).padEnd(18), r(row.wasmOverNativeDefault).padEnd(20), row.meetsTarget === null ? 'n/a' : row.meetsTarget ? 'met' : 'MISSED',
      ].join(' '),
    );
  for (const a of accuracy)
    console.log(
      `  ${a.task}: lambda_max |wasm - native| / native ${fmtSci(a.lambdaMaxRelDiff)}` +
        (a.productsNative !== null ? `; Hessian-vector products native ${a.productsNative}, wasm ${a.productsWasm}` : ''),
    );
  const met = rows.filter((x) => x.meetsTarget).length;
  console.log(`target (wasm within ${TARGET}x of single-threaded native): met in ${met} of ${rows.length} rows`);
  return { rounds, target: TARGET, load, rows, accuracy, children, builds: { before, after } };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--child') {
  const config = process.argv[3] as Config;
  const samples = Number(process.argv[4] ?? 3);
  const result = await child(config, samples);
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
}
