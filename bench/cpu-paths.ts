/**
 * Training speed on each SIMD path this CPU runs (issue 26 item 1): digits (N = 1797, standardized),
 * 64-w-10 tanh at hessbound's seeded Glorot start, float64, full-batch Adam, ONE thread, against
 * PyTorch in the same run:
 *
 * - hessbound: `hessbound train` with K Adam steps and HESSBOUND_SIMD=avx512 | avx2 | generic
 *   (a child process each; the kernel's own loop time, which the CLI reports as `seconds`);
 * - PyTorch: bench/peers/torch_train_peer.py adam, the same K steps, its in-process loop time, its
 *   OpenBLAS choosing its own kernels (OPENBLAS_CORETYPE removed from its environment).
 *
 * Rounds alternate the sides; each round's ratio is PyTorch's time over hessbound's in that round.
 * Then the floor of a BLAS-only step: the five GEMMs of one evaluation (forward X W^T and A V^T,
 * backward D^T A, D V and E^T X) timed one by one at one thread (numpy on the system OpenBLAS, the
 * library the addon links), which every path that calls BLAS for them pays at least, and PyTorch
 * too; the ratio PyTorch / that floor is the most a BLAS path could reach.
 *
 *   node --import tsx bench/cpu-paths.ts [--widths 256] [--steps 300] [--rounds 3] [--md bench/cpu-paths-results.md]
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
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...oneThread, ...extra };
  delete e['OPENBLAS_CORETYPE'];
  if (!extra['HESSBOUND_SIMD']) delete e['HESSBOUND_SIMD'];
  return e;
}
function runJson<T>(argv: string[], e: NodeJS.ProcessEnv): T {
  const [file, ...args] = argv;
  const r = spawnSync(file as string, args, { env: e, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${String(r.status)}\n${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as T;
}

interface HbTrain {
  seconds: number;
  loss: number;
  steps: { evaluations: number };
}
function hessbound(p: Problem, path: string): HbTrain {
  const steps = String(STEPS);
  return runJson<HbTrain>(
    [...CLI, 'train', '--model', p.modelPath, '--data', p.dataPath, '--backend', 'native', '--quiet', '--json',
      '--adam-steps', steps, '--max-steps', steps, '--grad-tol', '0', '--out', join(p.modelPath + `.${path}.trained.json`)],
    env({ HESSBOUND_SIMD: path }),
  );
}
function simdThatRan(path: string): string {
  const info = runJson<{ native: { simd?: string } }>([...CLI, 'info', '--json'], env({ HESSBOUND_SIMD: path }));
  return info.native.simd ?? '?';
}

say(`# Training per Adam step on each SIMD path, against PyTorch (issue 26 item 1)`);
say();
say(`Run ${new Date().toISOString()}, \`node --import tsx bench/cpu-paths.ts ${process.argv.slice(2).join(' ')}\`.`);
say(`CPU: ${cpuDescription()}; the system OpenBLAS (PyTorch's, and the addon's static copy) runs its ${openblasCore(PYTHON)} kernels here. Paths: ${PATHS.map((p) => `${p} (ran: ${simdThatRan(p)})`).join(', ')}.`);
say(`Load average at the start: ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1/5/15 min) on 2 cores shared with other jobs: ` +
  `only ratios within a round mean much.`);
say(`One thread each (OPENBLAS_NUM_THREADS = HESSBOUND_THREADS = OMP_NUM_THREADS = TORCH_THREADS = 1); OPENBLAS_CORETYPE unset on both sides ` +
  `(each OpenBLAS picks its own kernels, as on a user's machine). ${STEPS} full-batch Adam steps (lr 1e-2), each side's in-process loop time.`);
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

for (const width of WIDTHS) {
  const p = makeProblem('digits', width);
  say(`## digits 64-${width}-10 tanh (P = ${p.parameters})`);
  say();
  say(`| round | PyTorch | ${PATHS.map((path) => `hessbound ${path}`).join(' | ')} | ${PATHS.map((path) => `PyTorch / ${path}`).join(' | ')} |`);
  say(`| ---: | ---: | ${PATHS.map(() => '---:').join(' | ')} | ${PATHS.map(() => '---:').join(' | ')} |`);
  const ratios = new Map<string, number[]>();
  const perStep = new Map<string, number[]>();
  const torchSteps: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const torch = runJson<{ seconds: number }>([PYTHON, PEER, 'adam', '--model', p.modelPath, '--data', p.dataPath, '--steps', String(STEPS)], env());
    torchSteps.push(torch.seconds / (STEPS + 1));
    const cells: string[] = [], ratioCells: string[] = [];
    for (const path of PATHS) {
      const hb = hessbound(p, path);
      const step = hb.seconds / hb.steps.evaluations;
      perStep.set(path, [...(perStep.get(path) ?? []), step]);
      const ratio = torch.seconds / hb.seconds;
      ratios.set(path, [...(ratios.get(path) ?? []), ratio]);
      cells.push(`${(step * 1e3).toFixed(2)} ms`);
      ratioCells.push(`**${ratio.toFixed(2)}x**`);
    }
    say(`| ${round} | ${((torch.seconds / (STEPS + 1)) * 1e3).toFixed(2)} ms | ${cells.join(' | ')} | ${ratioCells.join(' | ')} |`);
  }
  say();
  say(`Per step (loop time / evaluations, ${STEPS + 1} evaluations): PyTorch median ${(median(torchSteps) * 1e3).toFixed(2)} ms; ` +
    PATHS.map((path) => `${path} ${(median(perStep.get(path) as number[]) * 1e3).toFixed(2)} ms (PyTorch / ${path}: median ${median(ratios.get(path) as number[]).toFixed(2)}x)`).join('; ') + '.');
  say();
  const parts = runJson<Record<string, [number, number]>>([PYTHON, '-c', gemmScript(p.data.n, p.data.d, width, p.data.classes)], env());
  const best = Object.values(parts).reduce((s, t) => s + t[0], 0);
  const typical = Object.values(parts).reduce((s, t) => s + t[1], 0);
  say(`Floor of a BLAS step: the evaluation's five GEMMs at one thread (numpy on the system OpenBLAS, its own kernels; best / median of 20): ` +
    Object.entries(parts).map(([k, t]) => `${k} ${(t[0] * 1e3).toFixed(2)} / ${(t[1] * 1e3).toFixed(2)} ms`).join(', ') +
    `; sum **${(best * 1e3).toFixed(2)} / ${(typical * 1e3).toFixed(2)} ms**. ` +
    `PyTorch's median step is ${(median(torchSteps) / typical).toFixed(1)}x the medians' sum (${(median(torchSteps) / best).toFixed(1)}x the best): ` +
    `the products alone do not keep a BLAS path from 2-3x PyTorch; the rest of PyTorch's step is its own overhead (autograd, elementwise kernels, allocation).`);
  say();
}
say(`Load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' / ')}.`);
if (values.md) writeFileSync(values.md, lines.join('\n') + '\n');
