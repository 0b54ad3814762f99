/**
 * Distributed sweeps on a real redis-server with separate `hessbound worker` processes: a worker
 * killed (SIGKILL) mid-point, a coordinator killed and restarted, malformed jobs, file data by
 * content hash. Results must equal a local sweep of the same spec.
 */
import { Queue } from 'bullmq';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toDataset } from '../src/data.js';
import { runSweep } from '../src/node/sweep-run.js';
import { openQueueExecutor } from '../src/queue/coordinator.js';
import { contentDatasetId, serializeDataset } from '../src/queue/content-data.js';
import { QUEUE_JOB_FORMAT } from '../src/queue/job-data.js';
import { CSV_HEADER, parseCsvRow } from '../src/sweep/csv.js';
import { gridJobs, makeJob } from '../src/sweep/job.js';
import type { SweepResult } from '../src/sweep/result.js';
import { runPoint } from '../src/sweep/run-point.js';
import { BACKENDS } from './helpers/backends.js';
import { loggedKeys, runCliAsync, startCli, type Proc } from './helpers/queue-procs.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hb-queue-'));
// Short locks so a killed worker's point returns to the queue within seconds; not too short: on a
// loaded machine a live worker that misses a renewal would lose its point as if it had died.
const LOCK_MS = '5000';

function readRows(csvPath: string): SweepResult[] {
  const lines = readFileSync(csvPath, 'utf8').split('\n');
  expect(lines[0]).toBe(CSV_HEADER);
  expect(lines.at(-1)).toBe('');
  return lines.slice(1, -1).map(parseCsvRow);
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-300);

/** Every key of the grid exactly once, each row equal to the local sweep's (1e-9 relative). */
function expectSameAsLocal(rows: SweepResult[], local: SweepResult[], keys: string[]): void {
  expect(rows.map((r) => r.key).sort()).toEqual([...keys].sort());
  const byKey = new Map(local.map((r) => [r.key, r]));
  for (const row of rows) {
    const ref = byKey.get(row.key) as SweepResult;
    expect(ref, row.key).toBeDefined();
    for (const field of ['loss', 'lambdaMax', 'bound'] as const) {
      expect(relative(row[field], ref[field]), `${field} of width ${row.width} seed ${row.seed}`).toBeLessThanOrEqual(1e-9);
      // Same code, backend and BLAS threads: the same bits (docs/distributed.md says so).
      expect(row[field], `${field} of width ${row.width} seed ${row.seed}`).toBe(ref[field]);
    }
    expect(row.parameters).toBe(ref.parameters);
    expect(row.trainSteps).toBe(ref.trainSteps);
    expect(row.backend).toBe(ref.backend);
  }
}

describe.each(BACKENDS)('sweeps on a Redis queue (%s backend)', (backend) => {
  let redis: TestRedis;
  const workers: Proc[] = [];
  // Points of a few tenths of a second (a fixed step budget), so a kill lands while one runs.
  const maxSteps = backend === 'native' ? '3000' : '1000';
  const training = ['--grad-tol', '0', '--max-steps', maxSteps];
  // The workers' own data cache, empty at the start: file data must come through Redis.
  const workerCache = tmp();
  const startWorker = async () => {
    const w = startCli(['worker', '--queue', redis.url, '--concurrency', '1', '--threads', '1', '--backend', backend, '--lock-duration', LOCK_MS], { HESSBOUND_DATA_CACHE: workerCache });
    workers.push(w);
    await w.waitFor((o) => o.includes('hessbound worker: serving'), 'the worker to start');
    return w;
  };
  const alive = () => workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
  // Each test can run alone (vitest -t): it starts the workers it needs.
  const ensureWorkers = async (count: number) => {
    while (alive().length < count) await startWorker();
  };
  const localSweep = async (grid: string[]) => {
    const out = join(tmp(), 'local.csv');
    const r = await runCliAsync(['sweep', ...grid, ...training, '--backend', backend, '--workers', '1', '--out', out, '--quiet', '--json'], { OPENBLAS_NUM_THREADS: '1' });
    expect(r.status, r.stderr).toBe(0);
    return readRows(out);
  };
  const keysOf = (widths: number[], seeds: number) => gridJobs({ dataset: 'iris', widths, seeds, gradTol: 0, maxSteps: Number(maxSteps) }).map((j) => j.key);

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await redis?.stop();
  });

  it('a worker killed with SIGKILL mid-point: its point is retried by the other, every point once, equal to a local sweep', async () => {
    const a = await startWorker();
    const b = await startWorker();
    const grid = ['--dataset', 'iris', '--widths', '3,4,5', '--seeds', '2'];
    const out = join(tmp(), 'queue.csv');
    const sweep = startCli(['sweep', ...grid, ...training, '--backend', backend, '--queue', redis.url, '--out', out, '--quiet']);
    await a.waitFor((o) => loggedKeys(o, 'start').length > 0, 'worker A to start a point');
    a.child.kill('SIGKILL');
    const killedKey = loggedKeys(a.output(), 'start')[0] as string;
    expect(loggedKeys(a.output(), 'done')).not.toContain(killedKey);
    const { code } = await sweep.exited;
    expect(code, sweep.output()).toBe(0);
    // The killed worker's point went back to the queue and the other worker ran it.
    expect(loggedKeys(b.output(), 'done')).toContain(killedKey);
    expectSameAsLocal(readRows(out), await localSweep(grid), keysOf([3, 4, 5], 2));
    expect(sweep.output()).toMatch(/6 point\(s\) in .*on the queue redis:\/\/127\.0\.0\.1/);
  });

  it('a coordinator killed and restarted: nothing lost, duplicated or computed twice', async () => {
    await ensureWorkers(2); // replaces the killed one
    const grid = ['--dataset', 'iris', '--widths', '6,7', '--seeds', '3'];
    const out = join(tmp(), 'queue.csv');
    const args = ['sweep', ...grid, ...training, '--backend', backend, '--queue', redis.url, '--out', out, '--quiet'];
    const first = startCli(args);
    const rowsOnDisk = () => {
      try {
        return readFileSync(out, 'utf8').split('\n').length - 2;
      } catch {
        return 0;
      }
    };
    for (let i = 0; i < 1200 && rowsOnDisk() < 2; i++) await new Promise((r) => setTimeout(r, 25));
    first.child.kill('SIGKILL');
    await first.exited;
    expect(rowsOnDisk()).toBeLessThan(6);
    const second = startCli([...args, '--resume']);
    const { code } = await second.exited;
    expect(code, second.output()).toBe(0);
    const rows = readRows(out);
    expectSameAsLocal(rows, await localSweep(grid), keysOf([6, 7], 3));
    const jsonlKeys = readFileSync(out.replace(/\.csv$/, '.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key);
    expect(jsonlKeys.sort()).toEqual(rows.map((r) => r.key).sort());
    // Points that finished while no coordinator ran were read back from Redis, not run again.
    const started = workers.flatMap((w) => loggedKeys(w.output(), 'start')).filter((k) => keysOf([6, 7], 3).includes(k));
    expect(started.sort()).toEqual(keysOf([6, 7], 3).sort());
    // Running the finished sweep again (fresh files) reads every point back.
    const again = await runCliAsync(['sweep', ...grid, ...training, '--backend', backend, '--queue', redis.url, '--out', join(tmp(), 'again.csv'), '--quiet', '--json']);
    expect(again.status, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { rows: SweepResult[] }).rows.map((r) => r.lambdaMax).sort()).toEqual(rows.map((r) => r.lambdaMax).sort());
    expect(workers.flatMap((w) => loggedKeys(w.output(), 'start')).filter((k) => keysOf([6, 7], 3).includes(k))).toHaveLength(6);
  });

  it('malformed and foreign jobs become failure records and the workers keep serving', async () => {
    await ensureWorkers(2);
    const queue = new Queue('hessbound-points', { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
    try {
      const spec = makeJob({ dataset: 'iris', width: 3, seed: 9 });
      await queue.add('point', { hello: 'world' }, { jobId: 'foreign-1' });
      await queue.add('point', { format: QUEUE_JOB_FORMAT, key: 'ffffffffffffffff', spec: spec.spec }, { jobId: 'wrong-key' });
      await queue.add('point', { format: QUEUE_JOB_FORMAT, key: spec.key, spec: { ...spec.spec, width: -4 } }, { jobId: spec.key });
      const reasons: Record<string, string> = {};
      for (const id of ['foreign-1', 'wrong-key', spec.key]) {
        for (let i = 0; i < 1200; i++) {
          // State first: a job read while still active has no failure reason yet.
          const job = (await queue.getJobState(id)) === 'failed' ? await queue.getJob(id) : undefined;
          if (job) {
            reasons[id] = job.failedReason;
            expect(job.attemptsMade, id).toBeLessThanOrEqual(1); // not retried: it would fail the same way
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      expect(reasons['foreign-1']).toMatch(/^\[BAD_OPTION\] queue job foreign-1 has format undefined/);
      expect(reasons['wrong-key']).toMatch(/^\[BAD_OPTION\] queue job wrong-key carries key ffffffffffffffff, but its spec hashes to/);
      expect(reasons[spec.key]).toMatch(/^\[BAD_OPTION\] .*width must be an integer from 1/);
    } finally {
      await queue.close();
    }
    expect(alive()).toHaveLength(2);
    expect(alive().map((w) => w.output()).join('')).toMatch(/rejected job foreign-1/);
    // ...and still run points.
    const out = join(tmp(), 'after.csv');
    const r = await runCliAsync(['sweep', '--dataset', 'iris', '--widths', '2', '--seeds', '2', '--backend', backend, '--queue', redis.url, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(readRows(out)).toHaveLength(2);
  });

  it('file data travels by content hash and is checked by the worker', async () => {
    // A small data set that exists only here (no path, no name the workers know).
    const x = Array.from({ length: 24 }, (_, i) => [Math.sin(i), Math.cos(1.7 * i), ((i * 7) % 5) / 5 - 0.4]);
    const data = toDataset(x, x.map((_, i) => i % 3), { name: 'mine' });
    const text = serializeDataset(data);
    const id = contentDatasetId(text);
    await ensureWorkers(1);
    const forged = `sha256:${'0'.repeat(64)}`;
    // The fourth job trains with HSR (the spec's hsr fields travel to the worker unchanged).
    const jobs = [makeJob({ dataset: id, width: 3, seed: 0 }), makeJob({ dataset: id, width: 4, seed: 1 }), makeJob({ dataset: forged, width: 3, seed: 0 }), makeJob({ dataset: id, width: 3, seed: 0, hsr: 0.1 })];
    const executor = await openQueueExecutor({ url: redis.url, backend, datasets: new Map([[id, text], [forged, text]]) });
    const results = new Map<string, SweepResult>();
    const failures = new Map<string, string>();
    for await (const e of runSweep({ jobs, executor })) {
      if (e.type === 'result') results.set(e.record.key, e.record.result);
      if (e.type === 'failure') failures.set(e.failure.key, `[${e.failure.error.code}] ${e.failure.error.message}`);
    }
    expect(failures.get(jobs[2]!.key)).toMatch(/^\[BAD_DATA\] the data for sha256:0+ does not match its hash/);
    for (const job of [jobs[0]!, jobs[1]!, jobs[3]!]) {
      const local = await runPoint(job.spec, { backend, loadData: () => data });
      const row = results.get(job.key) as SweepResult;
      for (const field of ['loss', 'lambdaMax', 'bound'] as const) expect(relative(row[field], local.result[field])).toBeLessThanOrEqual(1e-9);
      expect(row.samples).toBe(24);
      expect(row.hsr).toBe(job.spec.hsr ?? 0);
    }
    expect(results.get(jobs[3]!.key)!.bound).toBeLessThan(results.get(jobs[0]!.key)!.bound);
    expect(existsSync(join(workerCache, `${id.slice('sha256:'.length)}.json`))).toBe(true);
    expect(existsSync(join(workerCache, `${'0'.repeat(64)}.json`))).toBe(false);

    // The CLI: a CSV file on this machine only; the queue sweep equals the local one.
    const dir = tmp();
    const csv = join(dir, 'mine.csv');
    writeFileSync(csv, ['f1,f2,f3,label', ...x.map((r, i) => `${r.join(',')},${i % 3}`)].join('\n') + '\n');
    const grid = ['--data', csv, '--widths', '3,4', '--seeds', '1', '--backend', backend, '--quiet'];
    const local = await runCliAsync(['sweep', ...grid, '--workers', '1', '--out', join(dir, 'local.csv')], { OPENBLAS_NUM_THREADS: '1', HESSBOUND_DATA_CACHE: tmp() });
    expect(local.status, local.stderr).toBe(0);
    const queued = await runCliAsync(['sweep', ...grid, '--queue', redis.url, '--out', join(dir, 'queue.csv')], { HESSBOUND_DATA_CACHE: tmp() });
    expect(queued.status, queued.stderr).toBe(0);
    const localRows = readRows(join(dir, 'local.csv'));
    expect(localRows[0]?.dataset).toMatch(/^sha256:[0-9a-f]{64}$/);
    expectSameAsLocal(readRows(join(dir, 'queue.csv')), localRows, localRows.map((r) => r.key));
  });

  it('Redis restarted without persistence mid-sweep: the coordinator queues the lost points again', async () => {
    await ensureWorkers(2);
    const grid = ['--dataset', 'iris', '--widths', '9,10', '--seeds', '3'];
    const out = join(tmp(), 'queue.csv');
    const sweep = startCli(['sweep', ...grid, ...training, '--backend', backend, '--queue', redis.url, '--out', out, '--quiet']);
    await Promise.race(alive().map((w) => w.waitFor((o) => keysOf([9, 10], 3).some((k) => loggedKeys(o, 'start').includes(k)), 'a point of this sweep to start')));
    await redis.stop();
    redis = await startRedis(redis.port); // same port, empty
    const { code } = await sweep.exited;
    expect(code, sweep.output()).toBe(0);
    expectSameAsLocal(readRows(out), await localSweep(grid), keysOf([9, 10], 3));
    expect(alive()).toHaveLength(2);
  });

  it('SIGTERM: the workers finish and exit 0', async () => {
    await ensureWorkers(1);
    const running = alive();
    for (const w of running) w.child.kill('SIGTERM');
    for (const w of running) expect((await w.exited).code, w.output()).toBe(0);
    for (const w of running) expect(w.output()).toMatch(/SIGTERM: handing the running point\(s\) back to the queue and exiting[\s\S]*hessbound worker: stopped/);
  });
});
