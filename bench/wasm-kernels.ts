/**
 * WebAssembly per kernel (issue 15): WebAssembly / single-threaded native, per kernel, at two sizes each, and the
 * WebAssembly build before the change against the current one.
 *
 *   - dense: `analyze(method: 'dense')` on iris, width 64 and 256: the kernel's phases `hessian`
 *     (assembly) and `eigen` (all eigenvalues);
 *   - Lanczos: `analyze(method: 'lanczos', which: 'largest', k: 1, tolerance 1e-10, bound: false)`
 *     on digits, width 256 and 1024: forward + Lanczos phases;
 *   - closed form: `closedFormTraces(method: 'auto', orthogonality: false)` on digits, width 32 and 128;
 *   - training: `train(maxSteps: 30, adamSteps: 30, gradTol: 0)` (30 Adam steps, each a loss and
 *     gradient) on digits, width 64 and 256.
 *
 * Configurations, each a child process (OpenBLAS reads its thread count when the addon loads):
 * native with OPENBLAS_NUM_THREADS=1 and HESSBOUND_THREADS=1 (the baseline), the current wasm
 * module, and with --before DIR the wasm module in DIR (HESSBOUND_WASM_DIR; a build of the previous
 * commit). Children run in turn, `rounds` times; each call is timed with Benchmark.js after a
 * warm-up; a ratio is median against median within a round, reported as the median over rounds.
 *
 * With --threads, the threaded build (backend 'wasm-threads', hessbound-wasm-mt) on 1 and on 2
 * threads (HESSBOUND_THREADS) too: its speedup from 1 to 2 threads, and its 2 threads against
 * single-threaded native.
 *
 *   [HESSBOUND_BENCH_ONLY=lanczos] node --import tsx bench/wasm-kernels.ts [--before DIR] [--threads] [--rounds N] [--quick] [--json FILE]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { closedFormTraces } from '../src/bound.js';
import { analyze, getBackend, loadDataset, randomModel, train, type BackendName } from '../src/index.js';
import { toProblemSpec } from '../src/problem.js';
import { REPO_DIR } from './lib/peer.js';
import { fmtRatio, fmtSeconds, median, relDiff } from './lib/stats.js';
import { timeAsync } from './lib/timing.js';

type Kind = 'dense' | 'lanczos' | 'closed-form' | 'train';
interface Task {
  id: string;
  kind: Kind;
  dataset: 'iris' | 'digits';
  width: number;
}

const TASKS: Task[] = [
  { id: 'dense iris-64', kind: 'dense', dataset: 'iris', width: 64 },
  { id: 'dense iris-256', kind: 'dense', dataset: 'iris', width: 256 },
  { id: 'lanczos digits-256', kind: 'lanczos', dataset: 'digits', width: 256 },
  { id: 'lanczos digits-1024', kind: 'lanczos', dataset: 'digits', width: 1024 },
  { id: 'closed form digits-32', kind: 'closed-form', dataset: 'digits', width: 32 },
  { id: 'closed form digits-128', kind: 'closed-form', dataset: 'digits', width: 128 },
  { id: 'train digits-64', kind: 'train', dataset: 'digits', width: 64 },
  { id: 'train digits-256', kind: 'train', dataset: 'digits', width: 256 },
];

type Phase = 'hessian' | 'eigen' | 'hessian+eigen' | 'kernel' | 'call';
const PHASES: Record<Kind, Phase[]> = { dense: ['hessian', 'eigen', 'hessian+eigen'], lanczos: ['kernel'], 'closed-form': ['call'], train: ['call'] };
const PHASE_LABEL: Record<Phase, string> = {
  hessian: 'Hessian build',
  eigen: 'eigensolve (all eigenvalues)',
  'hessian+eigen': 'Hessian + spectrum',
  kernel: 'forward + Lanczos',
  call: 'whole call',
};

type Config = 'native-1' | 'wasm-before' | 'wasm' | 'wasm-mt-1' | 'wasm-mt-2';
const LABEL: Record<Config, string> = {
  'native-1': 'native, 1 thread',
  'wasm-before': 'wasm before',
  wasm: 'wasm',
  'wasm-mt-1': 'wasm-threads, 1 thread',
  'wasm-mt-2': 'wasm-threads, 2 threads',
};

interface ChildTask {
  id: string;
  parameters: number;
  phases: Partial<Record<Phase, number[]>>;
  /** lambda_max, tr(H) or the final loss: compared across configurations. */
  value: number;
}
interface ChildResult {
  config: Config;
  tasks: ChildTask[];
}

/** HESSBOUND_BENCH_ONLY: substrings (comma-separated) of the task ids to run (all when unset). */
const only = process.env['HESSBOUND_BENCH_ONLY'];

async function child(config: Config, samples: number, quick: boolean): Promise<ChildResult> {
  const backendName: BackendName = config === 'native-1' ? 'native' : config.startsWith('wasm-mt') ? 'wasm-threads' : 'wasm';
  const backend = await getBackend(backendName);
  const tasks: ChildTask[] = [];
  for (const task of TASKS) {
    if ((quick && task.width > 256) || (only && !only.split(',').some((o) => task.id.includes(o)))) continue;
    const data = loadDataset(task.dataset);
    const model = randomModel({ inputs: data.d, hidden: [task.width], classes: data.classes, activation: 'tanh', seed: 0 });
    const phases: Partial<Record<Phase, number[]>> = {};
    const push = (p: Phase, v: number) => (phases[p] ??= []).push(v);
    let value = Number.NaN;
    let parameters = 0;
    let call: () => Promise<void>;
    if (task.kind === 'dense' || task.kind === 'lanczos') {
      const options =
        task.kind === 'dense'
          ? { method: 'dense' as const, k: 1, backend: backendName }
          : { method: 'lanczos' as const, which: 'largest' as const, k: 1, tolerance: 1e-10, bound: false, backend: backendName };
      call = async () => {
        const r = await analyze(model, data, options);
        const s = r.seconds;
        if (task.kind === 'dense') {
          push('hessian', s['hessian'] ?? Number.NaN);
          push('eigen', s['eigen'] ?? Number.NaN);
          push('hessian+eigen', (s['hessian'] ?? Number.NaN) + (s['eigen'] ?? Number.NaN));
        } else push('kernel', (s['forward'] ?? 0) + (s['lanczos'] ?? Number.NaN));
        value = r.lambdaMax ?? Number.NaN;
        parameters = r.parameters;
      };
    } else if (task.kind === 'closed-form') {
      const spec = toProblemSpec(model, data);
      call = async () => {
        const t0 = performance.now();
        const r = await closedFormTraces(backend, spec, { method: 'auto', orthogonality: false });
        push('call', (performance.now() - t0) / 1000);
        value = r.trace;
        parameters = r.parameters;
      };
    } else {
      call = async () => {
        const t0 = performance.now();
        const r = await train(model, data, { maxSteps: 30, adamSteps: 30, gradTol: 0, weightDecay: 0, backend: backendName });
        push('call', (performance.now() - t0) / 1000);
        value = r.loss;
        parameters = data.d * task.width + task.width + task.width * data.classes + data.classes;
      };
    }
    await call(); // warm-up
    for (const p of Object.keys(phases) as Phase[]) phases[p] = [];
    await timeAsync(`${task.id} (${config})`, call, { minSamples: samples, maxTime: 0.5 });
    tasks.push({ id: task.id, parameters, phases, value });
  }
  return { config, tasks };
}

function runChild(config: Config, samples: number, quick: boolean, before: string | undefined): ChildResult {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', HESSBOUND_THREADS: config === 'wasm-mt-2' ? '2' : '1' };
  if (config === 'wasm-before') env['HESSBOUND_WASM_DIR'] = before as string;
  else delete env['HESSBOUND_WASM_DIR'];
  const file = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, '--child', config, String(samples), quick ? 'quick' : 'full'], {
    cwd: REPO_DIR,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${config}: child failed (status ${String(r.status)}):\n${r.stderr.toString().slice(-2000)}`);
  const lines = r.stdout.toString().trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as ChildResult;
}

async function main(args: string[]): Promise<void> {
  let before: string | undefined;
  let rounds = 2;
  let quick = false;
  let json: string | undefined;
  let threads = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--before') before = args[++i];
    else if (args[i] === '--rounds') rounds = Number(args[++i]);
    else if (args[i] === '--quick') quick = true;
    else if (args[i] === '--json') json = args[++i];
    else if (args[i] === '--threads') threads = true;
  }
  if (quick) rounds = 1;
  const samples = quick ? 2 : 3;
  const configs: Config[] = before ? ['native-1', 'wasm-before', 'wasm'] : ['native-1', 'wasm'];
  if (threads) configs.push('wasm-mt-1', 'wasm-mt-2');
  const started = new Date().toISOString();
  const all: ChildResult[][] = [];
  for (let r = 0; r < rounds; r++) all.push(configs.map((c) => runChild(c, samples, quick, before)));
  const lines: string[] = [];
  lines.push(`Run ${started} (${rounds} round(s), >= ${samples} samples a call after a warm-up${quick ? ', QUICK' : ''}).`, '');
  const head = ['task', 'P', 'phase', ...configs.map((c) => LABEL[c])];
  if (before) head.push('wasm before / native');
  head.push('wasm / native', 'wasm |rel diff| of value');
  if (threads) head.push('wasm-threads speedup, 1 → 2 threads', 'wasm-threads 2 / native', 'wasm-threads |rel diff| of value');
  lines.push(`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`);
  const out: unknown[] = [];
  for (const task of TASKS) {
    const got = (round: ChildResult[], c: Config) => round.find((x) => x.config === c)?.tasks.find((t) => t.id === task.id);
    if (!got(all[0]!, 'wasm')) continue;
    for (const phase of PHASES[task.kind]) {
      const med = (c: Config) => all.map((round) => median(got(round, c)?.phases[phase] ?? []));
      const ratio = (c: Config) => median(all.map((round, i) => (med(c)[i] as number) / (med('native-1')[i] as number)));
      const row = [task.id, String(got(all[0]!, 'wasm')!.parameters), PHASE_LABEL[phase], ...configs.map((c) => fmtSeconds(median(med(c))))];
      if (before) row.push(fmtRatio(ratio('wasm-before')));
      row.push(`**${fmtRatio(ratio('wasm'))}**`, relDiff(got(all[0]!, 'wasm')!.value, got(all[0]!, 'native-1')!.value).toExponential(1));
      const speedup = threads ? median(all.map((_, i) => (med('wasm-mt-1')[i] as number) / (med('wasm-mt-2')[i] as number))) : Number.NaN;
      if (threads)
        row.push(`${fmtRatio(speedup)}`, `**${fmtRatio(ratio('wasm-mt-2'))}**`, relDiff(got(all[0]!, 'wasm-mt-2')!.value, got(all[0]!, 'wasm')!.value).toExponential(1));
      lines.push(`| ${row.join(' | ')} |`);
      out.push({ task: task.id, phase, seconds: Object.fromEntries(configs.map((c) => [c, median(med(c))])), wasmOverNative: ratio('wasm'), wasmBeforeOverNative: before ? ratio('wasm-before') : null,
        ...(threads ? { threadedSpeedup: speedup, wasmThreads2OverNative: ratio('wasm-mt-2') } : {}) });
    }
  }
  console.log(lines.join('\n'));
  if (json) writeFileSync(json, JSON.stringify({ started, rounds, rows: out, children: all }, null, 1));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--child') {
    const result = await child(process.argv[3] as Config, Number(process.argv[4] ?? 3), process.argv[5] === 'quick');
    process.stdout.write(`\n${JSON.stringify(result)}\n`);
  } else await main(process.argv.slice(2));
}
