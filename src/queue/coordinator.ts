/**
 * The coordinator's side: a PointExecutor (see src/sweep/sweep.ts) whose points run on queue
 * workers. Each point becomes one BullMQ job with the job key as its id, so adding a point that is
 * waiting, running or finished is a no-op, and a finished point's record is read back from Redis
 * instead of being computed again (a restarted coordinator picks up what finished while it was
 * away). A point that failed in an earlier run is retried, as a local --resume retries it.
 * Results arrive through BullMQ's event stream, with a periodic look at every pending job as a
 * safety net for events missed during a disconnection.
 */
import { abortedError, onAbort } from '../backend/cancel.js';
import { HessboundError, fail } from '../errors.js';
import { jobKey, type SweepJobSpec } from '../sweep/job.js';
import type { SweepRecord } from '../sweep/result.js';
import type { PointExecutor } from '../sweep/sweep.js';
import type { BackendName } from '../types.js';
import { parseQueueUrl, redact, redisOptions, type QueueConnection } from './connection.js';
import { isContentDatasetId } from './content-data.js';
import { DEFAULT_QUEUE_NAME, POINT_JOB_NAME, errorFromReason, queueJobData, queueJobId, validateRecord } from './job-data.js';
import { assertQueueDataId, QUEUE_KEY_ENV } from './job-policy.js';
import { dataKey } from './keys.js';
import { loadQueuePeers } from './peers.js';
import { resolveBackendName } from '../node/backend-name.js';
import { connectOnce } from './reach.js';

export interface QueueExecutorOptions {
  url: string;
  queueName?: string;
  /** Backend the workers should use for these points (default: each worker's own). */
  backend?: BackendName | 'auto';
  /** Tries per point for errors that may pass (a crashed thread, a lost connection). Default 3. */
  attempts?: number;
  /** File data sets by content id (`sha256:...`, see content-data.ts): stored in Redis for the workers. */
  datasets?: ReadonlyMap<string, string>;
  /** Sign every job with this key (HMAC-SHA256) for workers that require it; default HESSBOUND_QUEUE_KEY. */
  signingKey?: string;
  /** How often pending points are looked up directly (ms), besides the event stream. Default 5000. */
  pollInterval?: number;
  env?: NodeJS.ProcessEnv;
  /** Most points on the queue at once (waiting or running); default QUEUE_WINDOW. */
  window?: number;
}

/** The default window: far more points than workers, far fewer than a large grid. */
export const QUEUE_WINDOW = 5_000;

export interface QueueExecutor extends PointExecutor {
  readonly connection: QueueConnection;
  /** Worker processes connected to the queue when the sweep started. */
  readonly workers: number;
  readonly blasThreads: number;
  /** The backend every point of this executor runs on. */
  readonly backend: BackendName;
  close(): Promise<void>;
}

interface Waiter {
  key: string;
  spec: SweepJobSpec;
  onProgress: (fraction: number) => void;
  resolve: (record: SweepRecord) => void;
  reject: (error: Error) => void;
}

export async function openQueueExecutor(options: QueueExecutorOptions): Promise<QueueExecutor> {
  const connection = parseQueueUrl(options.url, options.env ?? process.env);
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const attempts = options.attempts ?? 3;
  // Every job names its backend, and the job id includes it: a native and a wasm sweep of the same
  // spec are different points, never answered by each other's rows.
  const backend = resolveBackendName(options.backend, options.env ?? process.env);
  const signingKey = options.signingKey ?? ((options.env ?? process.env)[QUEUE_KEY_ENV] || undefined);
  if (!Number.isSafeInteger(attempts) || attempts < 1) fail('BAD_OPTION', `attempts must be a positive integer, got ${String(attempts)}`);
  if (options.window !== undefined && (!Number.isSafeInteger(options.window) || options.window < 1)) fail('BAD_OPTION', `window must be a positive integer, got ${String(options.window)}`);
  const { Job, Queue, QueueEvents } = (await loadQueuePeers()).bullmq;
  // Reachable (and the password right) before BullMQ, which would retry a refused connection forever.
  const probe = await connectOnce(connection);
  let workers = 0;
  try {
    for (const [id, text] of options.datasets ?? []) {
      if (!isContentDatasetId(id)) fail('BAD_OPTION', `data set id ${id} is not a content id (sha256:...)`);
      // NX: stored once however many sweeps use it.
      await probe.set(dataKey(queueName, id), text, 'NX');
    }
  } finally {
    probe.disconnect();
  }
  const queue = new Queue(queueName, { connection: redisOptions(connection) });
  const events = new QueueEvents(queueName, { connection: redisOptions(connection) });
  queue.on('error', () => {});
  events.on('error', () => {});
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  workers = await queue.getWorkersCount();

  const waiting = new Map<string, Waiter>();
  let closing: Promise<void> | null = null;
  // Waiters by BullMQ job id (the job key and the backend: queueJobId).
  const settle = (id: string, outcome: { record: unknown } | { error: Error }) => {
    const waiter = waiting.get(id);
    if (!waiter) return;
    waiting.delete(id);
    if ('error' in outcome) return waiter.reject(outcome.error);
    try {
      waiter.resolve(validateRecord(outcome.record, waiter.key, backend));
    } catch (error) {
      waiter.reject(error as Error);
    }
  };
  // The state of one point in Redis; finished ones settle their waiter.
  const check = async (key: string, retryFailed: boolean) => {
    // State first, then the job: a job read while still active would carry no return value yet.
    const state = await queue.getJobState(key);
    if (state === 'unknown') return 'missing';
    if (state !== 'completed' && state !== 'failed') return state;
    const job = await Job.fromId(queue, key);
    if (!job) return 'missing';
    if (state === 'completed') settle(key, { record: job.returnvalue });
    else if (state === 'failed') {
      if (retryFailed) await job.retry('failed');
      else settle(key, { error: errorFromReason(job.failedReason) });
    }
    return state;
  };

  events.on('completed', ({ jobId }) => {
    if (waiting.has(jobId)) check(jobId, false).catch(() => {});
  });
  events.on('failed', ({ jobId, failedReason }) => {
    // A failed attempt that will be retried also lands here; only the last one is final.
    if (waiting.has(jobId)) check(jobId, false).catch(() => settle(jobId, { error: errorFromReason(failedReason) }));
  });
  events.on('progress', ({ jobId, data }) => {
    if (typeof data === 'number') waiting.get(jobId)?.onProgress(data);
  });
  const enqueue = async (key: string, spec: SweepJobSpec) => {
    await queue.add(POINT_JOB_NAME, queueJobData({ key, spec }, backend, signingKey), {
      jobId: queueJobId(key, backend),
      attempts,
      backoff: { type: 'exponential', delay: 1000 },
      // Finished jobs stay: they are how a restarted coordinator finds the results.
      removeOnComplete: false,
      removeOnFail: false,
    });
  };
  const poll = setInterval(() => {
    for (const [id, waiter] of waiting)
      check(id, false)
        // Gone: Redis restarted without persistence (or someone deleted it). Queue it again.
        .then((state) => (state === 'missing' ? enqueue(waiter.key, waiter.spec) : undefined))
        .catch(() => {});
  }, options.pollInterval ?? 5000);
  poll.unref();

  return {
    connection,
    // Points go on the queue as a window: the workers decide how many of them run, and the sweep
    // adds the next point as one finishes, so a million-point grid is never queued (or held) whole.
    concurrency: options.window ?? QUEUE_WINDOW,
    workers,
    blasThreads: 0,
    backend,
    run(spec, onProgress, signal) {
      const key = jobKey(spec);
      if (signal?.aborted) return Promise.reject(abortedError(signal));
      try {
        // Workers refuse paths; say so here, before the point is queued.
        assertQueueDataId(spec.dataset, 'dataset', key);
        if (spec.testData !== '') assertQueueDataId(spec.testData, 'testData', key);
      } catch (error) {
        return Promise.reject(error as Error);
      }
      const id = queueJobId(key, backend);
      return new Promise<SweepRecord>((resolve, reject) => {
        waiting.set(id, { key, spec, onProgress, resolve, reject });
        // The coordinator stops waiting; the job stays on the queue (workers may finish it) for a resume.
        if (signal) onAbort(signal, () => settle(id, { error: abortedError(signal) }));
        (async () => {
          await enqueue(key, spec);
          // Finished before (another run of this sweep) or failed before (retry, as --resume does).
          await check(id, true);
        })().catch((error: unknown) => settle(id, { error: new HessboundError('IO', `the queue at ${connection.display} failed: ${redact((error as Error).message, connection)}`) }));
      });
    },
    close() {
      // Idempotent: the sweep closes its executor, and the CLI closes it again if the sweep never started.
      closing ??= (async () => {
        clearInterval(poll);
        for (const id of [...waiting.keys()]) settle(id, { error: new HessboundError('BAD_OPTION', 'the queue connection was closed') });
        await Promise.allSettled([queue.close(), events.close()]);
      })();
      return closing;
    },
  };
}
