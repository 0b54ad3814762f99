/**
 * Timing: in-process timings of async calls with the `benchmark` package (deferred tests), and
 * whole-process timings of commands run in turn (A B A B ...) so their ratio is taken pair by pair.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

import Benchmark from 'benchmark';

import { median, summarize, type Summary } from './stats.js';

export interface InProcessOptions {
  /** At least this many timed samples (default 5). */
  minSamples?: number;
  /** Benchmark.js stops adding samples after this many seconds, once minSamples is reached (default 1). */
  maxTime?: number;
}

export interface InProcessResult {
  /** Seconds per call, one entry per Benchmark.js sample (a sample may average several calls). */
  samples: number[];
  summary: Summary;
  /** How many calls ran in all, warm-up cycles included. */
  calls: number;
}

/**
 * Times `fn` (an async call) with Benchmark.js, `defer: true`: each call resolves the deferred
 * when its promise settles. Benchmark.js runs a calibration cycle first (not in the samples).
 * No setup/teardown is passed, so Benchmark.js calls `fn` itself instead of decompiling it.
 */
export function timeAsync(name: string, fn: () => Promise<unknown>, options: InProcessOptions = {}): Promise<InProcessResult> {
  let calls = 0;
  let failure: unknown;
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(name, {
      defer: true,
      initCount: 1,
      minSamples: options.minSamples ?? 5,
      maxTime: options.maxTime ?? 1,
      fn: (deferred: Benchmark.Deferred) => {
        calls++;
        fn().then(
          () => deferred.resolve(),
          (e: unknown) => {
            failure ??= e;
            deferred.resolve();
          },
        );
      },
      onComplete: () => {
        if (failure !== undefined) return reject(failure instanceof Error ? failure : new Error(String(failure)));
        if (bench.error) return reject(bench.error);
        const samples = [...bench.stats.sample];
        resolve({ samples, summary: summarize(samples), calls });
      },
    });
    bench.run({ async: true });
  });
}

export interface Command {
  label: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
}

export interface WholeProcessResult {
  a: Summary;
  b: Summary;
  /** Median over pairs of (B's time / A's time): how many times faster A is. */
  ratioBoverA: Summary;
  pairs: number;
}

function runOnce(cmd: Command): number {
  const [file, ...args] = cmd.argv;
  const t0 = performance.now();
  const r = spawnSync(file as string, args, {
    env: { ...process.env, ...cmd.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.error) throw new Error(`${cmd.label}: cannot run ${file}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd.label}: exit status ${String(r.status)}\n${r.stderr.toString().slice(-2000)}`);
  }
  return seconds;
}

/**
 * Wall time of whole processes (start-up and loading included), A and B in turn after one untimed
 * warm-up run of each; the ratio B/A is computed pair by pair, so a drift in machine speed during
 * the measurement affects both sides of each ratio alike.
 */
export function wholeProcessPairs(a: Command, b: Command, pairs: number): WholeProcessResult {
  runOnce(a);
  runOnce(b);
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < pairs; i++) {
    ta.push(runOnce(a));
    tb.push(runOnce(b));
  }
  const ratios = ta.map((x, i) => (tb[i] as number) / x);
  return { a: summarize(ta), b: summarize(tb), ratioBoverA: summarize(ratios), pairs };
}

export { median };
