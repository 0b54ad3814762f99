/**
 * Bench E (issue 5): a width sweep on digits (N = 1797), widths 16..2048, 3 seeds, run by the CLI
 * (`hessbound sweep`) once with 1 worker and once with 2 workers. Reports the sweep's wall time for
 * each, and where the time goes (training, closed-form bound, lambda_max) from the per-point phase
 * timings that the sweep writes to its CSV.
 *
 * Each configuration runs in its own child process: OpenBLAS reads OPENBLAS_NUM_THREADS once, when
 * the addon loads, and the sweep's pool chooses it from the worker count (2 cores: 1 worker x 2 BLAS
 * threads, 2 workers x 1 BLAS thread) unless the environment already sets it. This process has
 * already loaded the addon, so it cannot run the sweeps itself.
 *
 * The CSV and JSON lines of each run go to bench/results/ (git-ignored):
 *   sweep-<dataset>-<W>w.csv, .jsonl, and the CLI's --json output sweep-<dataset>-<W>w.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { analyze, getBackend, loadDataset, randomModel, train, wsBound } from '../src/index.js';

import { buildStamps, printBuildStamps } from './lib/builds.js';
import { cliCommand } from './lib/cli.js';
import type { BenchOptions } from './lib/options.js';
import { BENCH_DIR, REPO_DIR } from './lib/peer.js';
import { fmtRatio, fmtSeconds, summarize, type Summary } from './lib/stats.js';

/** The widths and seeds of the issue; training at the sweep's defaults (gradTol 1e-6, maxSteps 20000). */
export const SWEEP_WIDTHS = [16, 32, 64, 128, 256, 512, 1024, 2048];
export const SWEEP_SEEDS = 3;
const QUICK_WIDTHS = [16, 32, 64];
const QUICK_SEEDS = 2;
const DATASET = 'digits';

/** The CSV row fields this bench reads (see docs/sweeps.md for all of them). */
interface Row {
  width: number;
  seed: number;
  parameters: number;
  seconds: number;
  secondsTrain: number;
  secondsBound: number;
  secondsLambdaMax: number;
  trainSteps: number;
  converged: boolean;
  stopReason: string;
  lambdaMethod: 'dense' | 'lanczos';
  lambdaConverged: boolean;
  boundMethod: string;
  ratio: number | null;
  gradNorm: number;
}

interface CliSweepJson {
  workers: number;
  blasThreads: number;
  seconds: number;
  rows: Row[];
  failures: { key: string; error: { code: string; message: string } }[];
}

export interface PhaseTotals {
  train: number;
  bound: number;
  lambdaMax: number;
  /** Sum of the points' own wall times (train + bound + lambda_max + data loading / set-up). */
  points: number;
}

export interface WidthSummary {
  width: number;
  parameters: number;
  points: number;
  seconds: Summary;
  train: Summary;
  bound: Summary;
  lambdaMax: Summary;
  trainSteps: Summary;
  converged: number;
  lambdaMethod: string;
  boundMethod: string;
  ratio: Summary;
}

export interface SweepRun {
  workers: number;
  blasThreads: number;
  /** The sweep's own wall time (the CLI's `seconds`: first job queued to last result written). */
  sweepSeconds: number;
  /** The whole child process, start-up included. */
  processSeconds: number;
  loadBefore: number[];
  loadAfter: number[];
  points: number;
  failures: number;
  totals: PhaseTotals;
  /** Sum of point wall times / sweep wall time: how many points ran at once, on average. */
  concurrency: number;
  byWidth: WidthSummary[];
  csv: string;
  command: string;
}

/**
 * The lambda_max phase of a sweep point at a trained network: Lanczos alone (`bound: false`, what
 * run-point.ts runs since commit bb79ca3) against analyze()'s default `bound: true` (what it ran
 * before: the closed-form traces a second time), and the closed form alone (the bound phase). Timed
 * in this process (OpenBLAS threads as in the environment), rounds interleaved.
 */
export interface LambdaPhaseSplit {
  width: number;
  parameters: number;
  trainSeconds: number;
  /** analyze(method: 'lanczos', which: 'largest') with its default bound: true (run-point.ts before bb79ca3). */
  withBound: Summary;
  /** The same with bound: false: Lanczos alone (run-point.ts now). */
  lanczosOnly: Summary;
  /** wsBound(orthogonality: false): what the bound phase computes. */
  closedForm: Summary;
  products: number;
}

export interface SweepBenchResult {
  dataset: string;
  widths: number[];
  seeds: number;
  runs: SweepRun[];
  /** Wall time with 1 worker / with 2 workers. */
  speedup: number | null;
  /** Native addon file time before and after (another engineer may rebuild it during a long run). */
  addon: { before: string | null; after: string | null };
  lambdaPhase: LambdaPhaseSplit[];
}

const SPLIT_WIDTHS = [256, 1024];
const QUICK_SPLIT_WIDTHS = [64];

async function lambdaPhaseSplit(width: number, rounds: number): Promise<LambdaPhaseSplit> {
  const data = loadDataset(DATASET);
  const init = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation: 'tanh', seed: 0 });
  const t0 = performance.now();
  const trained = await train(init, data, { backend: 'native' }); // the sweep's defaults
  const trainSeconds = (performance.now() - t0) / 1000;
  const timeIt = async (f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    return (performance.now() - t) / 1000;
  };
  const options = { method: 'lanczos' as const, which: 'largest' as const, backend: 'native' as const };
  const first = await analyze(trained.model, data, { ...options, bound: false }); // warm-up
  await wsBound(trained.model, data, { orthogonality: false, backend: 'native' });
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(await timeIt(() => analyze(trained.model, data, options)));
    b.push(await timeIt(() => analyze(trained.model, data, { ...options, bound: false })));
    c.push(await timeIt(() => wsBound(trained.model, data, { orthogonality: false, backend: 'native' })));
  }
  return {
    width,
    parameters: first.parameters,
    trainSeconds,
    withBound: summarize(a),
    lanczosOnly: summarize(b),
    closedForm: summarize(c),
    products: first.lanczos?.products ?? 0,
  };
}

function addonStamp(): string | null {
  const p = process.env['HESSBOUND_ADDON'] ?? join(REPO_DIR, 'build', 'Release', 'hessbound.node');
  return existsSync(p) ? statSync(p).mtime.toISOString() : null;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function countRows(csv: string): number {
  try {
    return Math.max(0, readFileSync(csv, 'utf8').split('\n').filter((l) => l.trim()).length - 1);
  } catch {
    return 0;
  }
}

/** Runs `hessbound sweep` in a child process; prints a line whenever a point lands in the CSV. */
async function runCli(workers: number, widths: number[], seeds: number, outDir: string, total: number): Promise<SweepRun> {
  const cli = cliCommand();
  const base = join(outDir, `sweep-${DATASET}-${workers}w`);
  const csv = `${base}.csv`;
  const argv = [
    ...cli.argv, 'sweep', '--dataset', DATASET, '--widths', widths.join(','), '--seeds', String(seeds),
    '--workers', String(workers), '--out', csv, '--overwrite', '--json', '--quiet', '--backend', 'native',
  ];
  console.log(`\n${workers} worker(s): ${total} points; CLI = ${cli.note}`);
  const loadBefore = loadavg().map(round2);
  const t0 = performance.now();
  let seen = 0;
  const timer = setInterval(() => {
    const n = countRows(csv);
    if (n !== seen) {
      seen = n;
      console.log(`  ${n}/${total} points after ${fmtSeconds((performance.now() - t0) / 1000)} (load ${loadavg()[0]!.toFixed(2)})`);
    }
  }, 5000);
  const { stdout, stderr, status } = await new Promise<{ stdout: string; stderr: string; status: number | null }>((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { cwd: REPO_DIR, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout: out, stderr: err, status: code }));
  });
  clearInterval(timer);
  const processSeconds = (performance.now() - t0) / 1000;
  const loadAfter = loadavg().map(round2);
  writeFileSync(`${base}.json`, stdout);
  let parsed: CliSweepJson;
  try {
    parsed = JSON.parse(stdout) as CliSweepJson;
  } catch {
    throw new Error(`hessbound sweep (${workers} workers) exited with status ${String(status)} and no JSON:\n${stderr.slice(-2000)}`);
  }
  if (parsed.failures.length) console.log(`  ${parsed.failures.length} point(s) FAILED: ${parsed.failures[0]!.error.message}`);
  const rows = parsed.rows;
  const sum = (f: (r: Row) => number) => rows.reduce((s, r) => s + f(r), 0);
  const totals: PhaseTotals = {
    train: sum((r) => r.secondsTrain),
    bound: sum((r) => r.secondsBound),
    lambdaMax: sum((r) => r.secondsLambdaMax),
    points: sum((r) => r.seconds),
  };
  const byWidth: WidthSummary[] = [...new Set(rows.map((r) => r.width))]
    .sort((a, b) => a - b)
    .map((width) => {
      const rs = rows.filter((r) => r.width === width);
      const uniq = (f: (r: Row) => string) => [...new Set(rs.map(f))].join('/');
      return {
        width,
        parameters: rs[0]!.parameters,
        points: rs.length,
        seconds: summarize(rs.map((r) => r.seconds)),
        train: summarize(rs.map((r) => r.secondsTrain)),
        bound: summarize(rs.map((r) => r.secondsBound)),
        lambdaMax: summarize(rs.map((r) => r.secondsLambdaMax)),
        trainSteps: summarize(rs.map((r) => r.trainSteps)),
        converged: rs.filter((r) => r.converged).length,
        lambdaMethod: uniq((r) => r.lambdaMethod),
        boundMethod: uniq((r) => r.boundMethod),
        ratio: summarize(rs.map((r) => r.ratio ?? Number.NaN)),
      };
    });
  return {
    workers: parsed.workers,
    blasThreads: parsed.blasThreads,
    sweepSeconds: parsed.seconds,
    processSeconds,
    loadBefore,
    loadAfter,
    points: rows.length,
    failures: parsed.failures.length,
    totals,
    concurrency: totals.points / parsed.seconds,
    byWidth,
    csv,
    command: argv.join(' '),
  };
}

const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(0)}%`;
const range = (s: Summary) => (s.n > 1 ? `${fmtSeconds(s.median)} (${fmtSeconds(s.min)}-${fmtSeconds(s.max)})` : fmtSeconds(s.median));

function printRun(run: SweepRun): void {
  const t = run.totals;
  console.log(
    `${run.workers} worker(s) x ${run.blasThreads} BLAS thread(s): sweep wall time ${fmtSeconds(run.sweepSeconds)} ` +
      `(whole process ${fmtSeconds(run.processSeconds)}); ${run.points} points, ${run.failures} failed; load ${run.loadBefore[0]} -> ${run.loadAfter[0]}`,
  );
  console.log(
    `  sum of point times ${fmtSeconds(t.points)} (${run.concurrency.toFixed(2)} points at once on average): ` +
      `training ${fmtSeconds(t.train)} (${pct(t.train, t.points)}), bound ${fmtSeconds(t.bound)} (${pct(t.bound, t.points)}), ` +
      `lambda_max ${fmtSeconds(t.lambdaMax)} (${pct(t.lambdaMax, t.points)}), rest ${fmtSeconds(t.points - t.train - t.bound - t.lambdaMax)}`,
  );
  console.log('   width        P  pts  point (median, range)      training             bound                lambda_max           steps  conv  lambda   bound  bound/lmax');
  for (const w of run.byWidth)
    console.log(
      [
        String(w.width).padStart(8), String(w.parameters).padStart(8), String(w.points).padStart(4),
        range(w.seconds).padEnd(26), range(w.train).padEnd(20), range(w.bound).padEnd(20), range(w.lambdaMax).padEnd(20),
        String(w.trainSteps.median).padStart(5), `${w.converged}/${w.points}`.padStart(5), w.lambdaMethod.padEnd(8), w.boundMethod.padEnd(6),
        w.ratio.median.toFixed(2).padStart(6),
      ].join(' '),
    );
}

export async function runSweepBench(opt: BenchOptions): Promise<SweepBenchResult> {
  console.log('\n== Bench E: width sweep on digits (hessbound sweep), 1 and 2 workers ==');
  const widths = opt.widths ?? (opt.quick ? QUICK_WIDTHS : SWEEP_WIDTHS);
  const seeds = opt.seeds ?? (opt.quick ? QUICK_SEEDS : SWEEP_SEEDS);
  const workerCounts = (opt.workers ?? [1, 2]).filter((w) => w > 0);
  const outDir = join(BENCH_DIR, 'results');
  mkdirSync(outDir, { recursive: true });
  console.log(
    `grid: ${DATASET}, tanh, widths ${widths.join(',')}, seeds 0..${seeds - 1}; training at the sweep defaults ` +
      `(Adam 200 steps then L-BFGS to gradTol 1e-6, at most 20000 steps); lambda_max dense up to 1500 parameters, else Lanczos. ` +
      `OPENBLAS_NUM_THREADS ${process.env['OPENBLAS_NUM_THREADS'] ? `= ${process.env['OPENBLAS_NUM_THREADS']} (set: the pool keeps it)` : 'unset (the pool sets cores / workers)'}` +
      (opt.quick ? ' (QUICK: a smoke test, not figures to quote)' : ''),
  );
  printBuildStamps(buildStamps(), false);
  const addonBefore = addonStamp();
  const runs: SweepRun[] = [];
  for (const workers of workerCounts) {
    const run = await runCli(workers, widths, seeds, outDir, widths.length * seeds);
    printRun(run);
    runs.push(run);
  }
  const addonAfter = addonStamp();
  if (addonBefore !== addonAfter) console.log(`WARNING: the native addon was rebuilt during the bench (${addonBefore} -> ${addonAfter})`);
  const one = runs.find((r) => r.workers === 1);
  const two = runs.find((r) => r.workers === 2);
  const speedup = one && two ? one.sweepSeconds / two.sweepSeconds : null;
  if (one && two && speedup !== null) {
    console.log(`\nwall time, 1 worker / 2 workers: ${fmtRatio(speedup)} (${fmtSeconds(one.sweepSeconds)} / ${fmtSeconds(two.sweepSeconds)})`);
  }
  // The lambda_max phase split at trained points (seed 0), in this process.
  await getBackend('native');
  const splitWidths = opt.quick ? QUICK_SPLIT_WIDTHS : SPLIT_WIDTHS;
  const rounds = opt.quick ? 1 : 3;
  console.log(
    `\nlambda_max phase at a trained point (seed 0, trained here with the sweep's defaults; ${rounds} interleaved rounds; ` +
      `this process, OPENBLAS_NUM_THREADS ${process.env['OPENBLAS_NUM_THREADS'] ?? 'unset'}):`,
  );
  const lambdaPhase: LambdaPhaseSplit[] = [];
  for (const width of splitWidths) {
    const x = await lambdaPhaseSplit(width, rounds);
    lambdaPhase.push(x);
    console.log(
      `  width ${width} (P = ${x.parameters}, trained in ${fmtSeconds(x.trainSeconds)}): Lanczos alone (bound: false, as the sweep runs it; ` +
        `${x.products} products) ${range(x.lanczosOnly)}; the closed form alone ${range(x.closedForm)}; ` +
        `analyze() with its default bound: true (the sweep before commit bb79ca3) ${range(x.withBound)}`,
    );
  }
  return { dataset: DATASET, widths, seeds, runs, speedup, addon: { before: addonBefore, after: addonAfter }, lambdaPhase };
}
