/**
 * Bench G: training speed against PyTorch (issue 14). digits (N = 1797, standardized), 64-w-10 tanh
 * MLPs at hessbound's seeded Glorot start, float64, full batch; the same model and data files for
 * both sides (bench/lib/problems.ts), PyTorch as its users write it (bench/peers/torch_train_peer.py).
 * For each width and thread count, in one run:
 *
 * - per evaluation (loss + gradient): hessbound's kernel time of `train` with K Adam steps divided by
 *   its evaluations (median of 3 processes), against PyTorch's median of 20 zero_grad/forward/backward;
 *   and the fraction of the DGEMM rate reached: the evaluation's 2 N w (2 d + 3 c) flops (its five
 *   GEMMs) per second over the rate of t threads, t x the one-thread rate of n x n float64 products
 *   (numpy, the system OpenBLAS: the library the addon links);
 * - 300 Adam steps, whole processes (start-up, loading and the loop), A/B in pairs after a warm-up;
 * - L-BFGS only (memory 20, strong Wolfe) from the same start until |grad|_2 <= the tolerance:
 *   the time of each side's loop and its evaluations.
 *
 * Thread counts: OPENBLAS_NUM_THREADS and HESSBOUND_THREADS for hessbound, TORCH_THREADS for PyTorch.
 *
 *   node --import tsx bench/training.ts [--widths 64,256,1024] [--threads 1,2] [--adam-widths 64,256]
 *     [--pairs 3] [--lbfgs-tol 1e-4] [--md FILE]
 *
 * HESSBOUND_ADDON=path/hessbound.node times another build of the addon (the "before" figures).
 * --before path/hessbound.node times that build too, in the same run (a "before" column and ratio).
 *
 * Peers: PyTorch as the environment gives it (the "Done when" of issue 14 is judged on this one), and
 * a second PyTorch row with OPENBLAS_CORETYPE=SkylakeX for the peer process only: torch's matmul
 * goes through the system OpenBLAS, which this environment holds to its AVX2 (Haswell) kernels;
 * with SkylakeX it runs its AVX-512 kernels, as hessbound's own products (gemm512.cpp) do.
 * The evaluation's flops are also given as a fraction of one core's AVX-512 FMA peak
 * (bench/lib/core-peak.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { cliCommand } from './lib/cli.js';
import { measureCorePeaks } from './lib/core-peak.js';
import { BENCH_DIR, PYTHON } from './lib/peer.js';
import { makeProblem, type Problem } from './lib/problems.js';
import { cpuDescription, openblasCore } from './lib/simd.js';
import { median } from './lib/stats.js';
import { wholeProcessPairs } from './lib/timing.js';

const { values } = parseArgs({
  options: {
    widths: { type: 'string', default: '64,256,1024' },
    threads: { type: 'string', default: '1,2' },
    'adam-widths': { type: 'string', default: '64,256' },
    'adam-steps': { type: 'string', default: '300' },
    'lbfgs-widths': { type: 'string', default: '64,256,1024' },
    'lbfgs-tol': { type: 'string', default: '1e-4' },
    pairs: { type: 'string', default: '3' },
    md: { type: 'string' },
    before: { type: 'string' },
  },
});
const BEFORE = values.before;
const list = (s: string | undefined): number[] => (s ? s.split(',').filter(Boolean).map(Number) : []);
const WIDTHS = list(values.widths);
const THREADS = list(values.threads);
const ADAM_WIDTHS = list(values['adam-widths']);
const LBFGS_WIDTHS = list(values['lbfgs-widths']);
const ADAM_STEPS = Number(values['adam-steps']);
const LBFGS_TOL = Number(values['lbfgs-tol']);
const PAIRS = Number(values.pairs);
const PEER = join(BENCH_DIR, 'peers', 'torch_train_peer.py');
const CLI = cliCommand().argv;
const out = mkdtempSync(join(tmpdir(), 'hessbound-training-'));

const hbEnv = (t: number) => ({ OPENBLAS_NUM_THREADS: String(t), HESSBOUND_THREADS: String(t) });
const torchEnv = (t: number) => ({ TORCH_THREADS: String(t), OMP_NUM_THREADS: String(t), OPENBLAS_NUM_THREADS: '1' });
const torchAvx512Env = (t: number) => ({ ...torchEnv(t), OPENBLAS_CORETYPE: 'SkylakeX' });
const beforeEnv = (t: number): Record<string, string> => ({ ...hbEnv(t), HESSBOUND_ADDON: BEFORE ?? '' });

function run(argv: string[], env: Record<string, string>): string {
  const [file, ...args] = argv;
  const r = spawnSync(file as string, args, { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${String(r.status)}\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

interface TrainJson {
  seconds: number;
  loss: number;
  gradNorm: number;
  stopReason: string;
  steps: { adam: number; lbfgs: number; evaluations: number };
}
// No weight decay: the objective the PyTorch peer minimises (train's default is 1e-3).
function hbTrainArgs(p: Problem, extra: string[]): string[] {
  return [...CLI, 'train', '--model', p.modelPath, '--data', p.dataPath, '--backend', 'native', '--quiet', '--weight-decay', '0', '--out', join(out, `${p.name}.json`), ...extra];
}
function hbTrain(p: Problem, t: number, extra: string[], env: Record<string, string> = hbEnv(t)): TrainJson {
  return JSON.parse(run(hbTrainArgs(p, [...extra, '--json']), env)) as TrainJson;
}
function peer(task: string, p: Problem | null, t: number, extra: string[], env: Record<string, string> = torchEnv(t)): Record<string, number | string> {
  const files = p ? ['--model', p.modelPath, '--data', p.dataPath] : [];
  return JSON.parse(run([PYTHON, PEER, task, ...files, ...extra], env)) as Record<string, number | string>;
}

const lines: string[] = [];
const say = (s = ''): void => {
  console.log(s);
  lines.push(s);
};
const ms = (s: number): string => `${(s * 1e3).toPrecision(3)} ms`;
const x = (r: number): string => `${r.toFixed(2)}x`;

say(`# Bench G: training speed against PyTorch (issue 14)`);
say();
say(`Run ${new Date().toISOString()}, \`node --import tsx bench/training.ts ${process.argv.slice(2).join(' ')}\`;` +
  ` addon ${process.env['HESSBOUND_ADDON'] ?? 'build/Release (this tree)'}; load average at the start ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`);
const simdRan = (JSON.parse(run([...CLI, 'info', '--json'], {})) as { native: { simd?: string } }).native.simd ?? '?';
say(`CPU: ${cpuDescription()}; hessbound's SIMD path: ${simdRan} (HESSBOUND_SIMD=${process.env['HESSBOUND_SIMD'] ?? '(unset)'}); ` +
  `the system OpenBLAS runs its ${openblasCore(PYTHON, process.env['OPENBLAS_CORETYPE'])} kernels in this environment. hessbound trains without weight decay, as the PyTorch peer.`);
say();

const gemm = peer('gemm', null, 1, ['--n', '1024', '--repeat', '5']);
const rate = gemm['flops'] as number;
const peaks = measureCorePeaks();
const peak = peaks.peak512 * 1e9;
say(`DGEMM rate, one thread (numpy ${String(gemm['numpy'])} on the system OpenBLAS, 1024 x 1024 x 1024, best of 5, ` +
  `OPENBLAS_CORETYPE=${process.env['OPENBLAS_CORETYPE'] ?? '(unset)'}): **${(rate / 1e9).toFixed(1)} GFLOP/s**. ` +
  `One core's FMA peak (bench/lib/core-peak.ts): **${peaks.peak512.toFixed(1)} GFLOP/s** with 512-bit registers (AVX-512), ` +
  `${peaks.peak256.toFixed(1)} with 256-bit (AVX2); OpenBLAS's 1024³ DGEMM in that process ${peaks.dgemm1024.toFixed(1)}.`);
say();

say(`## Per evaluation (loss + gradient)`);
say();
say(`PyTorch: the environment as given (OPENBLAS_CORETYPE=${process.env['OPENBLAS_CORETYPE'] ?? '(unset)'}; issue 14's "Done when" is judged on this column); ` +
  `PyTorch (AVX-512): the same peer with OPENBLAS_CORETYPE=SkylakeX. Fractions: the evaluation's GEMM flops per second over t x the one-thread DGEMM rate, and over t x the AVX-512 peak.`);
say();
const beforeHead = BEFORE ? ' before | before / hessbound |' : '';
say(`| width | P | threads | hessbound |${beforeHead} PyTorch | PyTorch / hessbound | PyTorch (AVX-512) | PyTorch (AVX-512) / hessbound | GEMM flops | of the DGEMM rate | of the AVX-512 peak |`);
say(`| ---: | ---: | ---: | ---: |${BEFORE ? ' ---: | ---: |' : ''} ---: | ---: | ---: | ---: | ---: | ---: | ---: |`);
const K = 40;
const perEvaluation = (p: Problem, t: number, env: Record<string, string>): number => median([0, 1, 2].map(() => {
  const r = hbTrain(p, t, ['--adam-steps', String(K), '--max-steps', String(K), '--grad-tol', '0'], env);
  return r.seconds / r.steps.evaluations;
}));
for (const w of WIDTHS) {
  const p = makeProblem('digits', w);
  const flops = 2 * p.data.n * w * (2 * p.data.d + 3 * p.data.classes);
  for (const t of THREADS) {
    const hb = perEvaluation(p, t, hbEnv(t));
    const before = BEFORE ? perEvaluation(p, t, beforeEnv(t)) : 0;
    const th = peer('eval', p, t, ['--repeat', '20'])['perEvaluation'] as number;
    const th512 = peer('eval', p, t, ['--repeat', '20'], torchAvx512Env(t))['perEvaluation'] as number;
    const beforeCells = BEFORE ? ` ${ms(before)} | ${x(before / hb)} |` : '';
    say(`| ${w} | ${p.parameters} | ${t} | ${ms(hb)} |${beforeCells} ${ms(th)} | **${x(th / hb)}** | ${ms(th512)} | ${x(th512 / hb)} | ` +
      `${(flops / 1e6).toFixed(0)} M | ${(100 * flops / hb / (rate * t)).toFixed(0)}% | ${(100 * flops / hb / (peak * t)).toFixed(0)}% |`);
  }
}
say();

say(`## ${ADAM_STEPS} Adam steps, whole processes (median of ${PAIRS} pairs after a warm-up)`);
say();
say(`| width | threads | hessbound | PyTorch | PyTorch / hessbound (median of the pairs' ratios) |${BEFORE ? ' before | before / hessbound (pairs, one thread) |' : ''}`);
say(`| ---: | ---: | ---: | ---: | ---: |${BEFORE ? ' ---: | ---: |' : ''}`);
for (const w of ADAM_WIDTHS) {
  const p = makeProblem('digits', w);
  for (const t of THREADS) {
    const steps = String(ADAM_STEPS);
    const hbArgv = hbTrainArgs(p, ['--adam-steps', steps, '--max-steps', steps, '--grad-tol', '0']);
    const r = wholeProcessPairs(
      { label: 'hessbound', argv: hbArgv, env: hbEnv(t) },
      { label: 'torch', argv: [PYTHON, PEER, 'adam', '--model', p.modelPath, '--data', p.dataPath, '--steps', steps], env: torchEnv(t) },
      PAIRS,
    );
    let beforeCells = BEFORE ? ' | |' : '';
    if (BEFORE && t === 1) {
      const b = wholeProcessPairs({ label: 'hessbound', argv: hbArgv, env: hbEnv(t) }, { label: 'before', argv: hbArgv, env: beforeEnv(t) }, PAIRS);
      beforeCells = ` ${b.b.median.toFixed(2)} s | ${x(b.ratioBoverA.median)} |`;
    }
    say(`| ${w} | ${t} | ${r.a.median.toFixed(2)} s | ${r.b.median.toFixed(2)} s | **${x(r.ratioBoverA.median)}** |${beforeCells}`);
  }
}
say();

say(`## L-BFGS only to |grad|_2 <= ${LBFGS_TOL} from the same start (one run each, the loop's time)`);
say();
say(`| width | threads | hessbound: time | evaluations | stop | loss | PyTorch: time | evaluations | stop | loss | time ratio |`);
say(`| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: |`);
for (const w of LBFGS_WIDTHS) {
  const p = makeProblem('digits', w);
  for (const t of THREADS) {
    const hb = hbTrain(p, t, ['--adam-steps', '0', '--grad-tol', String(LBFGS_TOL), '--max-steps', '3000']);
    const th = peer('lbfgs', p, t, ['--grad-tol', String(LBFGS_TOL), '--max-steps', '3000']);
    const ths = th['seconds'] as number;
    say(`| ${w} | ${t} | ${hb.seconds.toFixed(2)} s | ${hb.steps.evaluations} | ${hb.stopReason} | ${hb.loss.toExponential(2)} | ` +
      `${ths.toFixed(2)} s | ${String(th['evaluations'])} | ${String(th['stopReason'])} | ${(th['loss'] as number).toExponential(2)} | **${x(ths / hb.seconds)}** |`);
  }
}
say();
if (values.md) writeFileSync(values.md, lines.join('\n') + '\n');
