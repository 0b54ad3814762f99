/**
 * What the first touch of fresh memory costs a native call, and what huge pages save
 * (native/kernel/support/large_array.hpp). Every call allocates its large arrays afresh (the forward cache:
 * 88 MB on digits at width 1024; the dense Hessian: 34 MB at P = 2051; the Lanczos basis), and the
 * operating system faults each 4 KB page in on first touch. On virtual machines a fault costs
 * microseconds. The kernel asks for 2 MB pages for arrays of 4 MB and more; HESSBOUND_HUGE_PAGES=0
 * turns that off, so the two are compared in one run, alternating child processes.
 *
 *   node --import tsx bench/page-faults.ts [--rounds N]       (native backend, 1 thread)
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

import { analyze, loadDataset, lossAndGradient, randomModel, train } from '../src/index.js';
import { median } from './lib/stats.js';

const TASKS = ['first touch of 88 MB (JavaScript)', 'loss + gradient, digits-1024', 'λmax by Lanczos, digits-1024', 'dense Hessian + spectrum, iris-256', 'train 1 step, digits-1024'] as const;

/** In a child: each task 4 times, the last 3 timed; prints {task: median ms}. */
async function child(): Promise<void> {
  const digits = loadDataset('digits');
  const iris = loadDataset('iris');
  const wide = randomModel({ inputs: digits.d, hidden: [1024], classes: digits.classes, activation: 'tanh', seed: 1 });
  const irisModel = randomModel({ inputs: iris.d, hidden: [256], classes: iris.classes, activation: 'tanh', seed: 1 });
  const calls: Record<(typeof TASKS)[number], () => unknown> = {
    'first touch of 88 MB (JavaScript)': () => new Float64Array(11 << 20).fill(1),
    'loss + gradient, digits-1024': () => lossAndGradient(wide, digits, { backend: 'native' }),
    'λmax by Lanczos, digits-1024': () => analyze(wide, digits, { method: 'lanczos', which: 'largest', k: 1, tolerance: 1e-10, bound: false, backend: 'native' }),
    'dense Hessian + spectrum, iris-256': () => analyze(irisModel, iris, { method: 'dense', backend: 'native' }),
    'train 1 step, digits-1024': () => train(wide, digits, { maxSteps: 1, adamSteps: 1, gradTol: 0, weightDecay: 0, backend: 'native' }),
  };
  const out: Record<string, number> = {};
  for (const task of TASKS) {
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t = performance.now();
      await calls[task]();
      if (i > 0) times.push(performance.now() - t);
    }
    out[task] = median(times);
  }
  console.log(JSON.stringify(out));
}

async function parent(): Promise<void> {
  const roundsAt = process.argv.indexOf('--rounds');
  const rounds = roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : 3;
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const runs: Record<'0' | '1', Record<string, number>[]> = { '0': [], '1': [] };
  for (let r = 0; r < rounds; r++)
    for (const huge of ['0', '1'] as const) {
      const env = { ...process.env, HESSBOUND_HUGE_PAGES: huge, HESSBOUND_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
      const text = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child'], { env, encoding: 'utf8' });
      runs[huge].push(JSON.parse(text.trim().split('\n').pop() as string) as Record<string, number>);
    }
  console.log(`Run ${new Date().toISOString()}, \`node --import tsx bench/page-faults.ts --rounds ${rounds}\`; native backend, HESSBOUND_THREADS=1, OPENBLAS_NUM_THREADS=1; load average at the start ${load}. Each cell: median over ${rounds} child processes (alternating) of each process's median of 3 calls after a warm-up call.\n`);
  console.log('| task | 4 KB pages (HESSBOUND_HUGE_PAGES=0) | huge pages (default) | saved |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const task of TASKS) {
    const off = median(runs['0'].map((x) => x[task] as number));
    const on = median(runs['1'].map((x) => x[task] as number));
    const note = task.startsWith('first touch') ? ' (not the kernel: the machine\'s cost, both columns alike)' : '';
    console.log(`| ${task}${note} | ${off.toFixed(0)} ms | ${on.toFixed(0)} ms | ${(off / on).toFixed(2)}x |`);
  }
}

if (process.argv.includes('--child')) await child();
else await parent();
