/**
 * Abuse suite, queue (issue 22 item 1): jobs written straight into Redis by someone who is not the
 * coordinator. A worker must refuse paths (files, devices, pipes) without opening them, refuse
 * huge steps and memory bombs before fetching anything, stop points at its time limit, run only
 * signed jobs when it has a key, and store failure reasons that quote no input.
 * Each case fails on the code before this suite (file: ids ran, nothing was limited or signed).
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toDataset } from '../src/data.js';
import { contentDatasetId, serializeDataset } from '../src/queue/content-data.js';
import { openQueueExecutor } from '../src/queue/coordinator.js';
import { signJob } from '../src/queue/job-policy.js';
import { QUEUE_JOB_FORMAT } from '../src/queue/job-data.js';
import { dataKey } from '../src/queue/keys.js';
import { runSweep } from '../src/node/sweep-run.js';
import { makeJob, type SweepJobInput } from '../src/sweep/job.js';
import type { SweepResult } from '../src/sweep/result.js';
import { runPoint } from '../src/sweep/run-point.js';
import { maxRssMb, withMaxRss } from './helpers/abuse.js';
import { BACKENDS } from './helpers/backends.js';
import { startCli, type Proc } from './helpers/queue-procs.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hb-abuse-'));
const SECRET = 'hunter2-correct-horse';

/** Pushes raw job data (as anyone with Redis access can) under the key its spec hashes to. */
async function push(queue: Queue, input: SweepJobInput | Record<string, unknown>, extra: Record<string, unknown> = {}, jobId?: string): Promise<string> {
  let key: string;
  let spec: unknown;
  try {
    const job = makeJob(input as SweepJobInput);
    key = job.key;
    spec = job.spec;
  } catch {
    // Specs the coordinator itself would refuse: sent as they are.
    key = jobId ?? `raw-${Math.random().toString(16).slice(2, 18)}`;
    spec = { format: 'hessbound.sweep-job.v2', ...input };
  }
  await queue.add('point', { format: QUEUE_JOB_FORMAT, key, spec, ...extra }, { jobId: jobId ?? key, attempts: 3 });
  return jobId ?? key;
}

/** The failure reason once the job failed (and how long that took), or throws after timeoutMs. */
async function failure(queue: Queue, id: string, timeoutMs = 20_000): Promise<{ reason: string; ms: number; attempts: number }> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    const state = await queue.getJobState(id);
    if (state === 'failed') {
      const job = await queue.getJob(id);
      return { reason: job?.failedReason ?? '', ms: Date.now() - start, attempts: job?.attemptsMade ?? -1 };
    }
    if (state === 'completed') throw new Error(`job ${id} completed; it should have been refused`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} neither failed nor completed within ${timeoutMs} ms`);
}

describe.each(BACKENDS)('queue jobs from strangers (%s backend)', (backend) => {
  let redis: TestRedis;
  let queue: Queue;
  let worker: Proc;
  const dir = tmp();
  const secretCsv = join(dir, 'creds.csv');
  const fifo = join(dir, 'pipe.csv');
  const zero = join(dir, 'zero.csv');

  const store = async (id: string, text: string) => {
    const client = new Redis(redis.port, '127.0.0.1');
    await client.set(dataKey('hessbound-points', id), text);
    client.disconnect();
  };
  const startWorker = async () => {
    worker = startCli(['worker', '--queue', redis.url, '--concurrency', '1', '--threads', '1', '--backend', backend, '--max-seconds', '2'], withMaxRss({ HESSBOUND_DATA_CACHE: tmp(), HESSBOUND_MAX_MEMORY: '4' }));
    await worker.waitFor((o) => o.includes('hessbound worker: serving'), 'the worker to start');
  };

  beforeAll(async () => {
    writeFileSync(secretCsv, `user,password,label\nroot,${SECRET},0\nalice,${SECRET},1\n`);
    execFileSync('mkfifo', [fifo]);
    symlinkSync('/dev/zero', zero);
    redis = await startRedis();
    queue = new Queue('hessbound-points', { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
    await startWorker();
  });
  afterAll(async () => {
    await queue?.close();
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await redis?.stop();
  });

  it('file: paths (a credentials CSV, a FIFO, a symlink to /dev/zero) are refused unopened, at once, quoting nothing', async () => {
    const ids = [
      await push(queue, { dataset: `file:${secretCsv}`, width: 2, seed: 0 }),
      await push(queue, { dataset: `file:${fifo}`, width: 2, seed: 0 }),
      await push(queue, { dataset: `file:${zero}`, width: 2, seed: 0 }),
      await push(queue, { dataset: 'iris', testData: `file:${secretCsv}`, width: 2, seed: 1 }),
    ];
    for (const id of ids) {
      const { reason, ms, attempts } = await failure(queue, id);
      expect(reason).toMatch(/^\[BAD_OPTION\] queue job [0-9a-f]{16} names a file as its (dataset|testData); workers never read paths from jobs/);
      expect(reason).not.toContain(SECRET);
      expect(reason).not.toContain(dir); // not even the path goes back
      // A FIFO opened for reading would block the point for good; refused in well under the limit.
      expect(ms).toBeLessThan(5000);
      expect(attempts).toBeLessThanOrEqual(1);
    }
  });

  it('huge steps and memory bombs are refused before anything is fetched or allocated', async () => {
    const steps = await push(queue, { dataset: 'iris', width: 2, seed: 2, maxSteps: 1_000_000_000 });
    expect((await failure(queue, steps)).reason).toMatch(/^\[TOO_LARGE\] queue job \w+ asks for 1,000,000,000 training steps, more than this worker's limit of 100,000/);
    const wide = await push(queue, { dataset: 'iris', width: 30000, depth: 3, seed: 0 });
    expect((await failure(queue, wide)).reason).toMatch(/^\[TOO_LARGE\] .*more than this worker's memory limit allows \(4\.00 GB\)/);
    const huge = await push(queue, { dataset: 'synthetic:n=50000,d=1000,classes=10,rho=0', width: 1_000_000, seed: 0 });
    expect((await failure(queue, huge)).reason).toMatch(/^\[TOO_LARGE\]/);
    // Content that claims a small shape but is large: refused by its size before GET.
    const small = serializeDataset(toDataset([[1, 2], [3, 4], [5, 6]], [0, 1, 0]));
    const bomb = `${small.slice(0, -1)},"pad":"${'x'.repeat(20_000_000)}"}`;
    const bombId = contentDatasetId(bomb);
    await store(bombId, bomb);
    const padded = await push(queue, { dataset: bombId, width: 2, seed: 0 });
    expect((await failure(queue, padded)).reason).toMatch(/^\[BAD_DATA\] the stored data set sha256:\w+… is 20\.0 MB, more than its shape allows/);
    // Content whose header claims 60,000 x 100,000: the memory plan refuses it unread.
    const claim = `{"format":"hessbound.dataset.v1","n":60000,"d":100000,"classes":10,"x":[]}`;
    const claimId = contentDatasetId(claim);
    await store(claimId, claim);
    expect((await failure(queue, await push(queue, { dataset: claimId, width: 2, seed: 0 }))).reason).toMatch(/^\[TOO_LARGE\] .*the data \(60,000 x 100,000\)/);
  });

  it('the worker stayed small through every refusal (peak RSS under 200 MB)', async () => {
    worker.child.kill('SIGTERM');
    await worker.exited;
    const mb = maxRssMb(worker.output());
    expect(mb, worker.output()).toBeLessThan(200);
    await startWorker();
  });
  it("a point past the worker's time limit is stopped and failed, and the worker serves on", async () => {
    const long = await push(queue, { dataset: 'digits', width: 64, seed: 0, gradTol: 0, maxSteps: 100_000 });
    const { reason, ms } = await failure(queue, long, 30_000);
    expect(reason).toMatch(/^\[TOO_LARGE\] the point ran past this worker's time limit of 2 s/);
    expect(ms).toBeLessThan(2000 + 1000 + 5000); // the limit, the abandon delay, start-up of the thread on a loaded machine
    const ok = await push(queue, { dataset: 'iris', width: 2, seed: 5, maxSteps: 50 });
    for (let i = 0; i < 400 && (await queue.getJobState(ok)) !== 'completed'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await queue.getJobState(ok)).toBe('completed');
  });

});

describe('signed jobs', () => {
  let redis: TestRedis;
  let worker: Proc;
  const KEY = 'a-shared-secret-between-coordinator-and-workers';
  beforeAll(async () => {
    redis = await startRedis();
    worker = startCli(['worker', '--queue', redis.url, '--concurrency', '1', '--threads', '1', '--backend', BACKENDS[0] as string], { HESSBOUND_DATA_CACHE: tmp(), HESSBOUND_QUEUE_KEY: KEY });
    await worker.waitFor((o) => o.includes('hessbound worker: serving'), 'the worker to start');
  });
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await redis?.stop();
  });

  it('a worker with a key runs only jobs signed with it; the coordinator signs with the same key', async () => {
    const queue = new Queue('hessbound-points', { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
    try {
      const unsigned = await push(queue, { dataset: 'iris', width: 2, seed: 0 });
      expect((await failure(queue, unsigned)).reason).toMatch(/^\[BAD_OPTION\] queue job \w+ is not signed/);
      const job = makeJob({ dataset: 'iris', width: 2, seed: 1 });
      await queue.add('point', { format: QUEUE_JOB_FORMAT, key: job.key, spec: job.spec, signature: signJob(job.spec, undefined, 'another key') }, { jobId: job.key });
      expect((await failure(queue, job.key)).reason).toMatch(/^\[BAD_OPTION\] queue job \w+ has a wrong signature/);
      // A signature covers the backend too: the same spec with another backend is not signed.
      const moved = makeJob({ dataset: 'iris', width: 2, seed: 2 });
      await queue.add('point', { format: QUEUE_JOB_FORMAT, key: moved.key, spec: moved.spec, backend: 'wasm', signature: signJob(moved.spec, 'native', KEY) }, { jobId: `${moved.key}-wasm` });
      expect((await failure(queue, `${moved.key}-wasm`)).reason).toMatch(/wrong signature/);
    } finally {
      await queue.close();
    }
    const backend = BACKENDS[0];
    const x = Array.from({ length: 18 }, (_, i) => [Math.sin(i), Math.cos(2.1 * i)]);
    const data = toDataset(x, x.map((_, i) => i % 3));
    const text = serializeDataset(data);
    const id = contentDatasetId(text);
    const executor = await openQueueExecutor({ url: redis.url, backend, signingKey: KEY, datasets: new Map([[id, text]]) });
    const jobs = [makeJob({ dataset: id, width: 3, seed: 0, maxSteps: 200 })];
    const rows: SweepResult[] = [];
    for await (const e of runSweep({ jobs, executor })) {
      if (e.type === 'result') rows.push(e.record.result);
      if (e.type === 'failure') throw new Error(e.failure.error.message);
    }
    const local = await runPoint(jobs[0]!.spec, { backend, loadData: () => data });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.lambdaMax).toBe(local.result.lambdaMax);
  });

  it('a coordinator refuses file: ids before queueing them', async () => {
    const executor = await openQueueExecutor({ url: redis.url, signingKey: KEY });
    try {
      await expect(executor.run(makeJob({ dataset: 'file:/etc/passwd', width: 2, seed: 0 }).spec, () => {})).rejects.toThrow(/names a file as its dataset/);
    } finally {
      await executor.close();
    }
  });
});
