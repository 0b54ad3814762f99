/**
 * Bench F (issue 11): the same sweep on the local worker-thread pool and on the Redis queue
 * (BullMQ) with 1 and 2 `hessbound worker` processes, on this machine, in one run; and the queue's
 * overhead per point on tiny points.
 *
 *   node --import tsx bench/queue.ts            # about 2-4 minutes on 2 idle cores
 *
 * Everything runs as whole processes of the compiled CLI (node dist/src/cli/main.js; run
 * `npm run build:ts` first), with one BLAS thread per point everywhere (OPENBLAS_NUM_THREADS=1 for
 * the local sweeps, --threads 1 for the workers), so every configuration does the same arithmetic.
 * A private redis-server (no persistence) on a free loopback port is started and stopped here;
 * each queue configuration gets a fresh Redis (finished points would otherwise be read back). Workers
 * are started and warmed (one point each, addon loaded) before a queue sweep is timed; the local
 * pool starts its threads inside the timed sweep, as it does in use. The time is the sweep's own
 * `seconds` (--json): from the first point handed out to the last result written.
 * Each configuration runs BENCH_REPEATS times (default 2), interleaved; the table shows every run and
 * ratios of the minima.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

import { startRedis, type TestRedis } from '../test/helpers/redis.js';
import { cliCommand } from './lib/cli.js';

const CLI = cliCommand();
const dir = mkdtempSync(join(tmpdir(), 'hb-bench-queue-'));
let outCount = 0;
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 2);

interface Sweep {
  label: string;
  grid: string[];
  points: number;
}

// A fixed step budget (gradTol 0): the same work per point in every configuration.
const MEDIUM: Sweep = { label: 'iris, widths 8,16,32,64 x 4 seeds, 4000 steps', grid: ['--dataset', 'iris', '--widths', '8,16,32,64', '--seeds', '4', '--grad-tol', '0', '--max-steps', '4000'], points: 16 };
const TINY: Sweep = { label: 'iris, width 4 x 40 seeds, 20 steps', grid: ['--dataset', 'iris', '--widths', '4', '--seeds', '40', '--grad-tol', '0', '--max-steps', '20'], points: 40 };

function sweepSeconds(args: string[], env: NodeJS.ProcessEnv = {}): number {
  const out = join(dir, `run${outCount++}.csv`);
  const r = spawnSync(CLI.argv[0] as string, [...CLI.argv.slice(1), 'sweep', ...args, '--out', out, '--quiet', '--json', '--no-jsonl'], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`sweep failed: ${r.stderr}`);
  const json = JSON.parse(r.stdout) as { seconds: number; rows: unknown[]; failures: unknown[] };
  if (json.failures.length > 0 || json.rows.length === 0) throw new Error(`sweep had failures: ${r.stdout.slice(0, 500)}`);
  return json.seconds;
}

async function withWorkers<T>(count: number, body: (redis: TestRedis) => Promise<T>): Promise<T> {
  // A fresh Redis per configuration: nothing finished earlier can be read back.
  const redis = await startRedis();
  const procs = Array.from({ length: count }, () =>
    spawn(CLI.argv[0] as string, [...CLI.argv.slice(1), 'worker', '--queue', redis.url, '--concurrency', '1', '--threads', '1', '--quiet'], { stdio: 'ignore' }),
  );
  try {
    // Warm-up: one point per worker (distinct seeds), so threads and addon are loaded.
    await new Promise((r) => setTimeout(r, 500));
    sweepSeconds(['--dataset', 'iris', '--widths', '4', '--seeds', Array.from({ length: count * 2 }, (_, i) => 1000 + i).join(','), '--grad-tol', '0', '--max-steps', '2000', '--queue', redis.url]);
    return await body(redis);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on('exit', r)))));
    await redis.stop();
  }
}

async function main(): Promise<void> {
  console.log(`Bench F: local pool vs Redis queue (BullMQ); CLI: ${CLI.note}`);
  console.log(`start ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const times: Record<string, number[]> = {};
  const record = (name: string, seconds: number) => (times[name] ??= []).push(seconds);
  for (let rep = 0; rep < REPEATS; rep++) {
    for (const s of [MEDIUM, TINY]) {
      record(`${s.label}|local 1`, sweepSeconds([...s.grid, '--workers', '1'], { OPENBLAS_NUM_THREADS: '1' }));
      record(`${s.label}|local 2`, sweepSeconds([...s.grid, '--workers', '2'], { OPENBLAS_NUM_THREADS: '1' }));
    }
    for (const count of [1, 2])
      await withWorkers(count, async (redis) => {
        // Different grids, so different keys: no point of the second is done by the first.
        for (const s of [MEDIUM, TINY]) record(`${s.label}|queue ${count}`, sweepSeconds([...s.grid, '--queue', redis.url]));
      });
  }
  console.log(`end ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);

  const min = (name: string) => Math.min(...(times[name] as number[]));
  for (const s of [MEDIUM, TINY]) {
    console.log(`${s.label} (${s.points} points)\n`);
    console.log('| configuration | wall time (each run) | points / minute (best) | time / local pool with as many workers |');
    console.log('| --- | --- | --- | --- |');
    for (const config of ['local 1', 'local 2', 'queue 1', 'queue 2']) {
      const name = `${s.label}|${config}`;
      const runs = (times[name] as number[]).map((t) => `${t.toFixed(2)} s`).join(', ');
      const ppm = (60 * s.points) / min(name);
      const ratio = config.startsWith('queue') ? `${(min(name) / min(`${s.label}|local ${config.slice(-1)}`)).toFixed(2)}x` : '1';
      const label = config.startsWith('local') ? `local pool, ${config.slice(-1)} worker thread(s)` : `queue, ${config.slice(-1)} worker process(es)`;
      console.log(`| ${label} | ${runs} | ${ppm.toFixed(0)} | ${ratio} |`);
    }
    console.log('');
  }
  const overhead = (n: number) => (1000 * (min(`${TINY.label}|queue ${n}`) - min(`${TINY.label}|local ${n}`))) / TINY.points;
  const perPointLocal = (1000 * min(`${TINY.label}|local 1`)) / TINY.points;
  console.log(`Queue overhead per tiny point: ${overhead(1).toFixed(1)} ms with 1 worker, ${overhead(2).toFixed(1)} ms with 2 (a tiny point takes ${perPointLocal.toFixed(1)} ms on the local pool, 1 thread).`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
