/**
 * Abuse suite, signals (issue 22 item 4): every interruption is obeyed within the time the issue
 * sets — a queue worker with a long point exits within 1 s of the first SIGTERM (handing the point
 * back, so it is not computed twice) and at once on a second signal; an AbortSignal during a dense
 * eigensolve (LAPACK, which polls no flag) releases the caller within 1 s on every backend; a grid
 * too large to generate quickly is refused before it blocks the process.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { gridJobs, makeJob, MAX_GRID_POINTS } from '../src/sweep/job.js';
import { QUEUE_JOB_FORMAT } from '../src/queue/job-data.js';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { startCli, type Proc } from './helpers/queue-procs.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const digits = loadDataset('digits');

describe.each(BACKENDS)('signals are obeyed (%s)', (backend) => {
  it('AbortSignal during a dense eigensolve releases the caller within 1 s', async () => {
    // P = 3,010: the eigensolve takes seconds; abort once assembly is done (progress past 0.5).
    const model = randomModel({ inputs: 64, hidden: [40], classes: 10, activation: 'tanh', seed: 0 });
    const controller = new AbortController();
    let abortedAt = 0;
    const started = performance.now();
    const pending = analyze(model, digits, {
      backend,
      method: 'dense',
      bound: false,
      signal: controller.signal,
      onProgress: (f) => {
        if (f >= 0.5 && abortedAt === 0) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    // No progress past 0.5 before the end on some path: abort on a timer instead.
    const timer = setTimeout(() => {
      if (abortedAt === 0) {
        abortedAt = performance.now();
        controller.abort();
      }
    }, 1500);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    clearTimeout(timer);
    const latency = performance.now() - abortedAt;
    expect(abortedAt - started).toBeGreaterThan(0);
    expect(latency).toBeLessThan(1000);
    // The backend still answers afterwards.
    const small = await analyze(randomModel({ inputs: 64, hidden: [2], classes: 10, activation: 'tanh', seed: 0 }), digits, { backend, method: 'dense', bound: false });
    expect(small.lambdaMax).toBeGreaterThan(0);
  }, 120_000);
});

describe('queue worker signals', () => {
  let redis: TestRedis;
  const procs: Proc[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await redis?.stop();
  });

  const longJob = (seed: number) => makeJob({ dataset: 'digits', width: 64, seed, gradTol: 0, maxSteps: 100_000 });
  const startWorker = async () => {
    const w = startCli(['worker', '--queue', redis.url, '--concurrency', '1', '--threads', '1', '--backend', BACKENDS[0] as string]);
    procs.push(w);
    await w.waitFor((o) => o.includes('hessbound worker: serving'), 'the worker to start');
    return w;
  };

  for (const [name, signals] of [
    ['SIGTERM once', ['SIGTERM']],
    ['SIGINT twice', ['SIGINT', 'SIGINT']],
  ] as const)
    it(`${name} during a long point: exits within 1 s and the point is back in the queue, not computed`, async () => {
      const queue = new Queue('hessbound-points', { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
      try {
        const worker = await startWorker();
        const job = longJob(procs.length);
        await queue.add('point', { format: QUEUE_JOB_FORMAT, key: job.key, spec: job.spec }, { jobId: job.key });
        await worker.waitFor((o) => o.includes(`start ${job.key}`), 'the point to start');
        await new Promise((r) => setTimeout(r, 500));
        const sent = performance.now();
        for (const s of signals) worker.child.kill(s);
        const { code } = await worker.exited;
        const ms = performance.now() - sent;
        expect(code, worker.output()).toBe(0);
        expect(ms).toBeLessThan(signals.length > 1 ? 500 : 1000);
        expect(worker.output()).not.toMatch(new RegExp(`(done|failed) ${job.key}`));
        expect(await queue.getJobState(job.key)).toBe('waiting');
        await queue.remove(job.key);
      } finally {
        await queue.close();
      }
    }, 120_000);
});

describe('grids too large to generate quickly', () => {
  it(`more than ${MAX_GRID_POINTS.toLocaleString('en-US')} points is refused before any job is made, in milliseconds`, () => {
    const started = performance.now();
    expect(() => gridJobs({ dataset: 'iris', widths: Array.from({ length: 1000 }, (_, i) => i + 1), seeds: 1000 })).toThrow(/the grid has 1,000,000 points, more than one sweep takes \(20,000\)/);
    expect(performance.now() - started).toBeLessThan(100);
    const r = runCli(['sweep', '--dataset', 'iris', '--widths', Array.from({ length: 1000 }, (_, i) => i + 1).join(','), '--seeds', '1000', '--out', '/dev/null/x.csv']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\[TOO_LARGE\]: the grid has 1,000,000 points/);
  });
});
