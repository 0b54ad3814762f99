/**
 * Training speed on each SIMD path this CPU runs (issue 26 item 1): digits (N = 1797, standardized),
 * 64-w-10 tanh at hessbound's seeded Glorot start, float64, full-batch Adam, ONE thread, against
 * PyTorch in the same run:
 *
 * - hessbound: `hessbound train` with K Adam steps, weight decay 0 (PyTorch's objective) and
 *   HESSBOUND_SIMD=avx512 | avx2 | generic (a child process each; the kernel's own loop time, which
 *   the CLI reports as `seconds`, and the process's processor time meanwhile, `cpuSeconds`);
 * - PyTorch: bench/peers/torch_train_peer.py adam, the same K steps, its in-process loop time and
 *   processor time, its OpenBLAS choosing its own kernels (OPENBLAS_CORETYPE removed from its
 *   environment).
 *
 * Rounds alternate the sides; each round's ratio is PyTorch's time over hessbound's in that round,
 * by the wall clock and by processor time (on a machine shared with other jobs the wall clock
 * counts the waits for a core; processor time counts the work, though not the slowdown from a job
 * on the sibling hyperthread or in the shared caches).
 *
 * --emulate-avx2 adds the same comparison with OPENBLAS_CORETYPE=Haswell for BOTH sides (PyTorch's
 * OpenBLAS and the addon's static copy run their AVX2 kernels) and hessbound on HESSBOUND_SIMD=avx2:
 * what an AVX2-only CPU runs, emulated on this one (its clock, caches and memory; not a measurement
 * on such a CPU).
 * Then the floor of a BLAS-only step: the five GEMMs of one evaluation (forward X W^T and A V^T,
 * backward D^T A, D V and E^T X) timed one by one at one thread (numpy on the system OpenBLAS, the
 * library the addon links), which every path that calls BLAS for them pays at least, and PyTorch
 * too; the ratio PyTorch / that floor is the most a BLAS path could reach.
 *
 * --before ADDON adds, for the best path of each configuration, the same run with that build of the
 * addon (HESSBOUND_ADDON): a before/after ratio measured in the same run.
 *
 *   node --import tsx bench/cpu-paths.ts [--widths 256] [--steps 300] [--rounds 3] [--emulate-avx2]
 *     [--before OLD/hessbound.node] [--md bench/cpu-paths-results.md]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { cliCommand } from './lib/cli.js';
import { BENCH_DIR, PYTHON } from './lib/peer.js';
import { makeProblem, type Problem } from './lib/problems.js';
import { cpuDescription, openblasCore, runnableSimdPaths } from './lib/simd.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    widths: { type: 'string', default: '256' },
    steps: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    paths: { type: 'string' },
    'emulate-avx2': { type: 'boolean', default: false },
    before: { type: 'string' },
    md: { type: 'string' },
  },
});
const WIDTHS = values.widths.split(',').map(Number);
const STEPS = Number(values.steps), ROUNDS = Number(values.rounds);
const PATHS = values.paths ? values.paths.split(',') : runnableSimdPaths();
const PEER = join(BENCH_DIR, 'peers', 'torch_train_peer.py');
const CLI = cliCommand().argv;

const lines: string[] = [];
const say = (s = ''): void => {
  console.log(s);
  lines.push(s);
};

const oneThread = { OPENBLAS_NUM_THREADS: '1', HESSBOUND_THREADS: '1', OMP_NUM_THREADS: '1', TORCH_THREADS: '1' };
/** The environment of a child: one thread; OPENBLAS_CORETYPE and HESSBOUND_SIMD only as given in extra. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...oneThread };
  delete e['OPENBLAS_CORETYPE'];
  delete e['HESSBOUND_SIMD'];
  return { ...e, ...extra };
}
function runJson<T>(argv: string[], e: NodeJS.ProcessEnv): T {
  const [file, ...args] = argv;
  const r = spawnSync(file as string, args, { env: e, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${String(r.status)}\n${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as T;
}

interface Timed {
  seconds: number;
  cpuSeconds: number; // absent from addons built before it existed (--before)
  loss: number;
}
interface HbTrain extends Timed {
  steps: { evaluations: number };
}
/** A column: a SIMD path, or "before PATH": that path with the --before addon. */
function pathOf(column: string): { simd: string; addon: Record<string, string> } {
  const before = column.startsWith('before ');
  return { simd: before ? column.slice(7) : column, addon: before ? { HESSBOUND_ADDON: values.before as string } : {} };
}
function hessbound(p: Problem, column: string, extra: Record<string, string>): HbTrain {
  const steps = String(STEPS);
  const { simd: path, addon } = pathOf(column);
  return runJson<HbTrain>(
    [...CLI, 'train', '--model', p.modelPath, '--data', p.dataPath, '--backend', 'native', '--quiet', '--json',
      '--adam-steps', steps, '--max-steps', steps, '--grad-tol', '0', '--weight-decay', '0', '--out', join(p.modelPath + `.${path}.trained.json`)],
    env({ ...extra, ...addon, HESSBOUND_SIMD: path }),
  );
}
function simdThatRan(path: string): string {
  const info = runJson<{ native: { simd?: string } }>([...CLI, 'info', '--json'], env({ HESSBOUND_SIMD: path }));
  return info.native.simd ?? '?';
}
// An addon from before cpuSeconds existed reports none: "—".
const ms = (seconds: number): string => (Number.isFinite(seconds) ? `${(seconds * 1e3).toFixed(2)} ms` : '—');
const ratio = (x: number): string => (Number.isFinite(x) ? `**${x.toFixed(2)}x**` : '—');

say(`# Training per Adam step on each SIMD path, against PyTorch (issue 26 item 1)`);
say();
say(`Run ${new Date().toISOString()}, \`node --import tsx bench/cpu-paths.ts ${process.argv.slice(2).join(' ')}\`.`);
say(`CPU: ${cpuDescription()}; the system OpenBLAS (PyTorch's, and the addon's static copy) runs its ${openblasCore(PYTHON)} kernels here unless OPENBLAS_CORETYPE says otherwise. Paths: ${PATHS.map((p) => `${p} (ran: ${simdThatRan(p)})`).join(', ')}.`);
say(`Load average at the start: ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1/5/15 min) on 2 cores shared with other jobs: ` +
  `only ratios within a round mean much.`);
say(`One thread each (OPENBLAS_NUM_THREADS = HESSBOUND_THREADS = OMP_NUM_THREADS = TORCH_THREADS = 1). ${STEPS} full-batch Adam steps ` +
  `(lr 1e-2, no weight decay on either side), each side's in-process loop: wall time and the process's processor time. ` +
  `Per step = loop time / ${STEPS + 1} evaluations.`);
say();

const gemmScript = (n: number, d: number, h: number, c: number) => `
import json, time, numpy as np
r = np.random.default_rng(0)
X = r.standard_normal((${n}, ${d})); W = r.standard_normal((${h}, ${d})); A = r.standard_normal((${n}, ${h}))
V = r.standard_normal((${c}, ${h})); D = r.standard_normal((${n}, ${c})); E = r.standard_normal((${n}, ${h}))
def best(f):
    f(); t = []
    for _ in range(20):
        t0 = time.perf_counter(); f(); t.append(time.perf_counter() - t0)
    t.sort()
    return [t[0], t[len(t) // 2]]
parts = {"X W^T": best(lambda: X @ W.T), "A V^T": best(lambda: A @ V.T), "D^T A": best(lambda: D.T @ A),
         "D V": best(lambda: D @ V), "E^T X": best(lambda: E.T @ X)}
print(json.dumps(parts))`;

interface Config {
  title: string;
  note: string;
  paths: string[];
  extra: Record<string, string>;
}
const configs: Config[] = [
  {
    title: 'Each OpenBLAS choosing its own kernels (as on a user\'s machine)',
    note: `OPENBLAS_CORETYPE unset on both sides: OpenBLAS runs its ${openblasCore(PYTHON)} kernels in PyTorch and in the addon.`,
    paths: PATHS,
    extra: {},
  },
];
if (values['emulate-avx2'])
  configs.push({
    title: 'Emulated AVX2-only CPU: OPENBLAS_CORETYPE=Haswell on both sides, hessbound on its AVX2 path',
    note: `OPENBLAS_CORETYPE=Haswell for PyTorch and for the addon (OpenBLAS reports ${openblasCore(PYTHON, 'Haswell')} kernels), ` +
      `HESSBOUND_SIMD=avx2. Emulated on this ${cpuDescription().split(' (')[0]}: the same clock, caches and memory, ` +
      `AVX2 code on both sides; not a measurement on an AVX2-only CPU (Zen 3 has other latencies and caches).`,
    paths: ['avx2'],
    extra: { OPENBLAS_CORETYPE: 'Haswell' },
  });

for (const width of WIDTHS) {
  const p = makeProblem('digits', width);
  say(`## digits 64-${width}-10 tanh (P = ${p.parameters})`);
  say();
  for (const config of configs) {
    const paths = values.before ? [...config.paths, `before ${config.paths[0] as string}`] : config.paths;
    say(`### ${config.title}`);
    say();
    say(config.note + (values.before ? ` "before": the addon ${values.before}, on the ${config.paths[0] as string} path.` : ''));
    say();
    say(`| round | PyTorch wall / cpu | ${paths.map((path) => `hessbound ${path} wall / cpu`).join(' | ')} | ` +
      `${paths.map((path) => `PyTorch / ${path}: wall`).join(' | ')} | ${paths.map((path) => `PyTorch / ${path}: cpu`).join(' | ')} |`);
    say(`| ---: | ---: | ${paths.map(() => '---:').join(' | ')} | ${paths.map(() => '---:').join(' | ')} | ${paths.map(() => '---:').join(' | ')} |`);
    const wallRatios = new Map<string, number[]>(), cpuRatios = new Map<string, number[]>();
    const wallSteps = new Map<string, number[]>(), cpuSteps = new Map<string, number[]>();
    const torchWall: number[] = [], torchCpu: number[] = [];
    const push = (m: Map<string, number[]>, k: string, v: number): void => void m.set(k, [...(m.get(k) ?? []), v]);
    for (let round = 1; round <= ROUNDS; round++) {
      const torch = runJson<Timed>([PYTHON, PEER, 'adam', '--model', p.modelPath, '--data', p.dataPath, '--steps', String(STEPS)], env(config.extra));
      torchWall.push(torch.seconds / (STEPS + 1));
      torchCpu.push(torch.cpuSeconds / (STEPS + 1));
      const cells: string[] = [], wallCells: string[] = [], cpuCells: string[] = [];
      for (const path of paths) {
        const hb = hessbound(p, path, config.extra);
        const n = hb.steps.evaluations;
        push(wallSteps, path, hb.seconds / n);
        if (hb.cpuSeconds === undefined) hb.cpuSeconds = Number.NaN;
        push(cpuSteps, path, hb.cpuSeconds / n);
        push(wallRatios, path, torch.seconds / hb.seconds);
        push(cpuRatios, path, torch.cpuSeconds / hb.cpuSeconds);
        cells.push(`${ms(hb.seconds / n)} / ${ms(hb.cpuSeconds / n)}`);
        wallCells.push(ratio(torch.seconds / hb.seconds));
        cpuCells.push(ratio(torch.cpuSeconds / hb.cpuSeconds));
      }
      say(`| ${round} | ${ms(torch.seconds / (STEPS + 1))} / ${ms(torch.cpuSeconds / (STEPS + 1))} | ${cells.join(' | ')} | ${wallCells.join(' | ')} | ${cpuCells.join(' | ')} |`);
    }
    say();
    say(`Medians per step: PyTorch ${ms(median(torchWall))} wall, ${ms(median(torchCpu))} cpu; ` +
      paths.map((path) => `${path} ${ms(median(wallSteps.get(path) as number[]))} wall, ${ms(median(cpuSteps.get(path) as number[]))} cpu ` +
        `(PyTorch / ${path}: ${median(wallRatios.get(path) as number[]).toFixed(2)}x wall, ${ratio(median(cpuRatios.get(path) as number[])).replace(/\*/g, '')} cpu)`).join('; ') + '.');
    say();
    const parts = runJson<Record<string, [number, number]>>([PYTHON, '-c', gemmScript(p.data.n, p.data.d, width, p.data.classes)], env(config.extra));
    const best = Object.values(parts).reduce((sum, t) => sum + t[0], 0);
    const typical = Object.values(parts).reduce((sum, t) => sum + t[1], 0);
    say(`Floor of a BLAS step: the evaluation's five GEMMs at one thread (numpy on the system OpenBLAS, these kernels; best / median of 20 wall times): ` +
      Object.entries(parts).map(([k, t]) => `${k} ${ms(t[0])} / ${ms(t[1])}`).join(', ') +
      `; sum **${ms(best)} / ${ms(typical)}**. PyTorch's median step (wall) is ${(median(torchWall) / typical).toFixed(1)}x the medians' sum ` +
      `(${(median(torchWall) / best).toFixed(1)}x the best).`);
    say();
  }
}
say(`Load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' / ')}.`);
if (values.md) writeFileSync(values.md, lines.join('\n') + '\n');
