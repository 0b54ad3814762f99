/**
 * One point split over queue workers (bound/analyze --queue; src/queue/tile-*.ts) on a real
 * redis-server with separate `hessbound worker` processes, on every backend:
 * - the split point equals the local dual run bit for bit (tr H, tr H^2, every WS number, the
 *   decomposition), with 2 workers;
 * - a worker killed (SIGKILL) in the middle of a tile job: the job goes back to the queue, the other
 *   worker redoes it, same bits;
 * - every tile job delivered twice (duplicate jobs injected): each tile is stored once, same bits;
 * - a coordinator killed (SIGKILL) and run again resumes from the tiles already in Redis;
 * - sweep --split-queue: a point above the threshold has its traces split, its row bit-identical;
 * - an unreachable queue: a clear IO error within seconds; the data deleted from Redis mid-point:
 *   a clear IO error, the point's jobs removed, nothing returned; cancellation removes the jobs.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { getBackend } from '../src/backend/select.js';
import { closedFormTraces, type ClosedFormTraces } from '../src/bound.js';
import { HessboundError } from '../src/errors.js';
import { randomModel } from '../src/model.js';
import { toProblemSpec } from '../src/problem.js';
import { DEFAULT_QUEUE_NAME } from '../src/queue/job-data.js';
import { queueTileSource, type QueueTileReport } from '../src/queue/tile-coordinator.js';
import { assertTileJobSigned, partKey, pointIdOf, signTileJob, tileJobId, tileSumsKey, validateTileJob } from '../src/queue/tile-jobs.js';
import { syntheticDataset } from '../src/synthetic.js';
import { BACKENDS } from './helpers/backends.js';
import { runCliAsync, startCli, type Proc } from './helpers/queue-procs.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

// Short locks so a killed worker's job returns within seconds (not so short that a live worker on a
// loaded machine loses one).
const LOCK_MS = '3000';
const N = 1500;
const DATASET = `synthetic:n=${N},d=24,classes=10,rho=0.3,seed=3`;
const data = syntheticDataset({ n: N, d: 24, classes: 10, rho: 0.3, seed: 3 });
const WIDTH = 48;

/** Every number of the result that depends on the tiles. */
function numbers(r: Pick<ClosedFormTraces, 'trace' | 'traceOfSquare' | 'bound' | 'frobenius' | 'decomposition'>): number[] {
  const d = r.decomposition!;
  return [r.trace, r.traceOfSquare, ...Object.values(r.bound), r.frobenius, d.blocks.output.traceOfSquare, d.blocks.hidden.traceOfSquare, d.blocks.cross.traceOfSquare, d.gaussNewton.traceOfSquare, d.residual.traceOfSquare, d.mixed];
}

function expectSameBits(split: number[], local: number[]): void {
  expect(split.length).toBe(local.length);
  split.forEach((v, i) => expect(Object.is(v, local[i]), `number ${i}: split ${v}, local ${local[i]}`).toBe(true));
}

/** Tiles each worker stored, from its log lines "tiles done <point> a..b of T in s (k stored". */
function storedBy(output: string, point: string): number {
  return [...output.matchAll(new RegExp(`tiles done ${point} \\d+\\.\\.\\d+ of \\d+ in [\\d.]+ s \\((\\d+) stored`, 'g'))].reduce((s, m) => s + Number(m[1]), 0);
}

describe.each(BACKENDS)('one point split over queue workers (%s backend)', (backendName) => {
  let redis: TestRedis;
  let client: Redis;
  const workers: Proc[] = [];
  const startWorker = async () => {
    const w = startCli(['worker', '--queue', redis.url, '--concurrency', '1', '--backend', backendName, '--lock-duration', LOCK_MS], { HESSBOUND_THREADS: '1', OPENBLAS_NUM_THREADS: '1' });
    workers.push(w);
    await w.waitFor((o) => o.includes('hessbound worker: serving'), 'the worker to start');
    return w;
  };
  const stopWorkers = async () => {
    for (const w of workers.splice(0)) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await w.exited;
    }
  };
  const problem = (seed: number) => toProblemSpec(randomModel({ inputs: 24, hidden: [WIDTH], classes: 10, activation: 'tanh', seed }), data, 'mean');
  const local = async (seed: number) => closedFormTraces(await getBackend(backendName), problem(seed), { method: 'dual' });
  const split = async (seed: number, options: { tilesPerJob?: number; onReport?: (r: QueueTileReport) => void; signal?: AbortSignal } = {}) =>
    closedFormTraces(await getBackend(backendName), problem(seed), {
      method: 'dual',
      tiles: queueTileSource({ url: redis.url, tilesPerJob: options.tilesPerJob ?? 3, pollInterval: 100 }, options.onReport),
      ...(options.signal ? { signal: options.signal } : {}),
    });

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    await stopWorkers();
    client?.disconnect();
    await redis?.stop();
  });

  it('2 workers: the split point equals the local dual run bit for bit', async () => {
    await startWorker();
    await startWorker();
    let report: QueueTileReport | undefined;
    const result = await split(1, { onReport: (r) => (report = r) });
    expect(report).toMatchObject({ tiles: 21, jobs: 7, resumed: 0 });
    expectSameBits(numbers(result), numbers(await local(1)));
    expect(result.tiles).toMatchObject({ count: 21 });
    expect(await client.hlen(tileSumsKey(DEFAULT_QUEUE_NAME, report!.point))).toBe(21);
    // Both workers took part, and every tile was stored exactly once.
    expect(workers.map((w) => storedBy(w.output(), report!.point)).reduce((a, b) => a + b)).toBe(21);
    // analyze() with the same tile source (Lanczos, then the traces): the same traces and WS bound.
    const model = randomModel({ inputs: 24, hidden: [WIDTH], classes: 10, activation: 'tanh', seed: 1 });
    const a = await analyze(model, data, { method: 'lanczos', bound: true, backend: backendName, tiles: queueTileSource({ url: redis.url, pollInterval: 100 }) });
    expect(a.traceSource).toBe('closed-form');
    expect(Object.is(a.trace, result.trace) && Object.is(a.traceOfSquare, result.traceOfSquare)).toBe(true);
    expect(a.bound).toEqual({ upper: result.bound.upper, lowerOfMax: result.bound.lowerOfMax, lowerOfMin: result.bound.lowerOfMin, upperOfMin: result.bound.upperOfMin, spread: result.bound.spread });
    await stopWorkers();
  });

  it('a worker killed with SIGKILL in the middle of a tile job: the other redoes it, same bits', async () => {
    const a = await startWorker();
    const b = await startWorker();
    let point = '';
    const running = split(2, { onReport: (r) => (point = r.point) });
    // Killed as soon as it has started a job (a job here takes a few tenths of a second).
    await a.waitFor((o) => /Z tiles [0-9a-f]{16} \d+\.\./.test(o), 'worker A to start a tile job');
    a.child.kill('SIGKILL');
    const range = /Z tiles [0-9a-f]{16} (\d+\.\.\d+) of/.exec(a.output())![1]!;
    expect(a.output()).not.toContain(`tiles done ${point} ${range} `);
    const result = await running;
    expectSameBits(numbers(result), numbers(await local(2)));
    // B redid A's range once A's lock expired.
    expect(b.output()).toContain(`tiles done ${point} ${range} `);
    expect(storedBy(a.output(), point) + storedBy(b.output(), point)).toBe(21);
    await stopWorkers();
  });

  it('every tile job delivered twice (duplicate jobs injected): each tile stored once, same bits', async () => {
    const queue = new Queue(DEFAULT_QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    let injected: Promise<unknown> = Promise.resolve();
    let point = '';
    // No worker yet: the duplicates are queued beside the originals before any tile runs.
    const running = split(3, {
      onReport: (r) => {
        point = r.point;
        injected = (async () => {
          const jobs = await queue.getJobs(['waiting']);
          const ours = jobs.filter((j) => j.id?.startsWith(`tiles-${r.point}-`));
          expect(ours).toHaveLength(7);
          for (const j of ours) await queue.add(j.name, j.data, { jobId: `${j.id}-again` });
        })();
      },
    });
    await new Promise<void>((resolve) => {
      const wait = () => (point ? resolve() : setTimeout(wait, 20));
      wait();
    });
    await injected;
    const a = await startWorker();
    const b = await startWorker();
    const result = await running;
    expectSameBits(numbers(result), numbers(await local(3)));
    // Let the duplicates still queued run too: they store nothing.
    for (let i = 0; i < 300 && (await queue.getJobCounts('waiting', 'active')).waiting + (await queue.getJobCounts('active')).active > 0; i++) await new Promise((r) => setTimeout(r, 100));
    const log = a.output() + b.output();
    const deliveries = [...log.matchAll(new RegExp(`tiles done ${point} `, 'g'))].length;
    expect(deliveries).toBeGreaterThan(7);
    expect(storedBy(a.output(), point) + storedBy(b.output(), point)).toBe(21);
    expect(log).toMatch(/were there already/);
    expect(await client.hlen(tileSumsKey(DEFAULT_QUEUE_NAME, point))).toBe(21);
    await queue.close();
    await stopWorkers();
  });

  it('a coordinator (hessbound bound --queue) killed and run again resumes from the tiles in Redis', async () => {
    const args = ['bound', '--dataset', DATASET, '--hidden', String(WIDTH), '--seed', '4', '--backend', backendName, '--json', '--quiet'];
    const first = startCli([...args, '--queue', redis.url, '--tiles-per-job', '1'], { OPENBLAS_NUM_THREADS: '1' });
    await first.waitFor((o) => /21 jobs queued/.test(o), 'the coordinator to queue its jobs');
    const point = /point ([0-9a-f]{16}):/.exec(first.output())![1]!;
    const w = await startWorker();
    const key = tileSumsKey(DEFAULT_QUEUE_NAME, point);
    for (let i = 0; i < 1200 && (await client.hlen(key)) < 3; i++) await new Promise((r) => setTimeout(r, 25));
    first.child.kill('SIGKILL');
    await first.exited;
    // The worker goes too, handing its job back: the rest waits for the next run.
    w.child.kill('SIGTERM');
    await w.exited;
    const done = await client.hlen(key);
    expect(done).toBeGreaterThanOrEqual(3);
    expect(done).toBeLessThan(21);
    // Run again; a worker joins only once it has read what is already there.
    const second = startCli([...args, '--queue', redis.url, '--tiles-per-job', '1'], { OPENBLAS_NUM_THREADS: '1' });
    await second.waitFor((o) => /tiles already in the queue/.test(o), 'the second coordinator to read the stored tiles');
    expect(second.output()).toContain(`${done} tiles already in the queue (resumed)`);
    await startWorker();
    const { code } = await second.exited;
    expect(code, second.output()).toBe(0);
    const json = second.output().split('\n').find((l) => l.startsWith('{'))!;
    const reference = await runCliAsync([...args, '--trace-method', 'dual'], { OPENBLAS_NUM_THREADS: '1' });
    expect(reference.status, reference.stderr).toBe(0);
    expectSameBits(numbers(JSON.parse(json) as ClosedFormTraces), numbers(JSON.parse(reference.stdout) as ClosedFormTraces));
    // Every tile computed and stored once over both runs (w is among the workers).
    expect(workers.map((x) => storedBy(x.output(), point)).reduce((a, b) => a + b)).toBe(21);
    await stopWorkers();
  });

  it('sweep --split-queue: a point above the threshold splits its traces, its row bit-identical to a local sweep', async () => {
    const w = await startWorker();
    // Width 16 costs 8.7e7 multiply-adds (dual), width 8 5.9e7: only width 16 splits (locally it picks the dual too; width 8 the primal).
    const sweepArgs = ['sweep', '--dataset', 'synthetic:n=600,d=64,classes=3,rho=0.3', '--widths', '8,16', '--seeds', '1', '--max-steps', '300', '--backend', backendName, '--workers', '1', '--quiet', '--json'];
    const dir = mkdtempSync(join(tmpdir(), 'hb-split-'));
    const split = await runCliAsync([...sweepArgs, '--out', join(dir, 'split.csv'), '--split-queue', redis.url, '--split-above', '7e7']);
    expect(split.status, split.stderr).toBe(0);
    const reference = await runCliAsync([...sweepArgs, '--out', join(dir, 'local.csv')]);
    expect(reference.status, reference.stderr).toBe(0);
    type Row = { key: string; width: number; bound: number; boundMethod: string; lambdaMax: number };
    const rows = (JSON.parse(split.stdout) as { rows: Row[] }).rows;
    const local = (JSON.parse(reference.stdout) as { rows: Row[] }).rows;
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const ref = local.find((r) => r.key === row.key)!;
      expect(Object.is(row.bound, ref.bound), `width ${row.width}: ${row.bound} vs ${ref.bound}`).toBe(true);
      expect(row.lambdaMax).toBe(ref.lambdaMax);
      expect(row.boundMethod).toBe(ref.boundMethod);
      if (row.width === 16) expect(row.boundMethod).toBe('dual');
    }
    // One point's tiles went through the queue: width 16's.
    const points = new Set([...w.output().matchAll(/tiles done ([0-9a-f]{16}) /g)].map((m) => m[1]));
    expect(points.size).toBe(1);
    const bad = await runCliAsync([...sweepArgs, '--out', join(dir, 'bad.csv'), '--split-queue', redis.url, '--queue', redis.url]);
    expect(bad.stderr).toMatch(/--split-queue works with points on local threads, not with --queue/);
    await stopWorkers();
  });

  it('the data deleted from Redis mid-point: a clear IO error, the jobs removed, nothing returned', async () => {
    const queue = new Queue(DEFAULT_QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    let point = '';
    const running = split(5, { onReport: (r) => (point = r.point) }).catch((e: unknown) => e);
    while (!point) await new Promise((r) => setTimeout(r, 20));
    const parts = await client.keys(partKey(DEFAULT_QUEUE_NAME, 'sha256:*'));
    for (const k of parts) await client.del(k);
    const started = Date.now();
    const error = (await running) as HessboundError;
    expect(error).toBeInstanceOf(HessboundError);
    expect(error.code).toBe('IO');
    expect(error.message).toMatch(/was deleted from the queue at redis:\/\/127\.0\.0\.1:\d+\/0 while the point ran; no result was written/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const left = (await queue.getJobs(['waiting', 'delayed'])).filter((j) => j.id?.startsWith(`tiles-${point}-`));
    expect(left).toHaveLength(0);
    await queue.close();
  });

  it('cancelled (AbortSignal; the CLI by Ctrl-C): rejects ABORTED / exits 130 and removes its jobs', async () => {
    const queue = new Queue(DEFAULT_QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    const controller = new AbortController();
    let point = '';
    const running = split(6, { signal: controller.signal, onReport: (r) => (point = r.point) }).catch((e: unknown) => e);
    while (!point) await new Promise((r) => setTimeout(r, 20));
    expect((await queue.getJobs(['waiting'])).filter((j) => j.id?.startsWith(`tiles-${point}-`))).toHaveLength(7);
    controller.abort();
    const error = (await running) as HessboundError;
    expect(error.code).toBe('ABORTED');
    expect((await queue.getJobs(['waiting', 'delayed'])).filter((j) => j.id?.startsWith(`tiles-${point}-`))).toHaveLength(0);
    // The CLI's Ctrl-C does the same, and exits 130 with nothing on stdout.
    const cli = startCli(['bound', '--dataset', DATASET, '--hidden', String(WIDTH), '--seed', '7', '--backend', backendName, '--json', '--quiet', '--queue', redis.url]);
    await cli.waitFor((o) => /jobs queued/.test(o), 'the coordinator to queue its jobs');
    const cliPoint = /point ([0-9a-f]{16}):/.exec(cli.output())![1]!;
    expect((await queue.getJobs(['waiting'])).filter((j) => j.id?.startsWith(`tiles-${cliPoint}-`)).length).toBeGreaterThan(0);
    cli.child.kill('SIGINT');
    expect((await cli.exited).code).toBe(130);
    expect(cli.output()).not.toMatch(/^\{/m);
    expect((await queue.getJobs(['waiting', 'delayed'])).filter((j) => j.id?.startsWith(`tiles-${cliPoint}-`))).toHaveLength(0);
    await queue.close();
  });
});

describe('an unreachable queue', () => {
  it('fails within seconds with an IO error naming the URL (API and CLI)', async () => {
    const backend = await getBackend(BACKENDS[0]);
    const spec = toProblemSpec(randomModel({ inputs: 24, hidden: [8], classes: 10, activation: 'tanh', seed: 1 }), data, 'mean');
    const started = Date.now();
    const error = (await closedFormTraces(backend, spec, { tiles: queueTileSource({ url: 'redis://127.0.0.1:1/0' }) }).catch((e: unknown) => e)) as HessboundError;
    expect(error.code).toBe('IO');
    expect(error.message).toMatch(/cannot reach the queue at redis:\/\/127\.0\.0\.1:1\/0/);
    expect(Date.now() - started).toBeLessThan(5000);
    const cli = await runCliAsync(['bound', '--dataset', 'iris', '--hidden', '4', '--queue', 'redis://127.0.0.1:1/0', '--quiet']);
    expect(cli.status).toBe(1);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toMatch(/error \[IO\]: cannot reach the queue at redis:\/\/127\.0\.0\.1:1\/0/);
    const option = await runCliAsync(['bound', '--dataset', 'iris', '--hidden', '4', '--tiles-per-job', '2', '--quiet']);
    expect(option.stderr).toMatch(/--tiles-per-job applies only with --queue/);
  });
});

describe('tile jobs are checked before anything is fetched', () => {
  const fields = { model: `sha256:${'a'.repeat(64)}`, data: `sha256:${'b'.repeat(64)}`, reduction: 0, backend: 'native' as const };
  const good = () => ({ format: 'hessbound.tile-job.v1', point: pointIdOf(fields), ...fields, first: 8, count: 8, tileCount: 20 });
  it('a valid job passes; a path, a forged point id, a range beyond the tiles, unknown fields or a bad signature do not', () => {
    const job = good();
    expect(validateTileJob(job, tileJobId(job.point, 8))).toMatchObject({ first: 8, count: 8 });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...job, data: '/etc/passwd' }, /other than a content id/],
      [{ ...job, point: '0123456789abcdef' }, /names a point its fields do not hash to/],
      [{ ...job, first: 16 }, /beyond the point's 20/],
      [{ ...job, extra: 1 }, /unknown field\(s\) extra/],
      [{ ...job, format: 'x' }, /has format "x"/],
    ];
    for (const [bad, message] of cases) {
      const error = (() => {
        try {
          validateTileJob(bad, tileJobId(job.point, 8));
        } catch (e) {
          return e as HessboundError;
        }
        return undefined;
      })();
      expect(error?.code).toBe('BAD_OPTION');
      expect(error?.message).toMatch(message);
    }
    const { format: _f, ...unsigned } = job;
    const signed = { ...job, signature: signTileJob({ ...unsigned, format: 'hessbound.tile-job.v1' }, 'key') };
    expect(() => assertTileJobSigned(validateTileJob(signed, tileJobId(job.point, 8)), 'key', 'j')).not.toThrow();
    expect(() => assertTileJobSigned({ ...validateTileJob(signed, tileJobId(job.point, 8)), first: 0 }, 'key', 'j')).toThrow(/wrong signature/);
    expect(() => assertTileJobSigned(validateTileJob(job, tileJobId(job.point, 8)), 'key', 'j')).toThrow(/is not signed/);
  });
});
