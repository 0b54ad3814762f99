/**
 * Abuse suite, queue worker signals (issue 22 item 4): a worker with a long point exits within 1 s of
 * the first SIGTERM, handing the point back so it is not computed twice, and at once on a second
 * signal, even while a pool thread is still inside a native kernel call (process.exit() would wait
 * for it; the worker exits through the addon's exitNow instead).
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJob } from '../src/sweep/job.js';
import { QUEUE_JOB_FORMAT } from '../src/queue/job-data.js';
import { BACKENDS } from './helpers/backends.js';
import { startCli, type Proc } from './helpers/queue-procs.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

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
