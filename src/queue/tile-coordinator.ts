/**
 * The coordinator's side of one point split over queue workers: a TileSource (src/split/tile-sums.ts)
 * for closedFormTraces / wsBound / analyze. It stores the point's model and data by content, enqueues
 * one BullMQ job per range of `tilesPerJob` tiles (job id = point and first tile, so enqueueing twice
 * is a no-op), and waits until the point's Redis hash holds every tile's sums, which the workers
 * write with HSETNX (a tile is stored once, however often it is computed). Then it adds them in tile
 * order. Tiles already in the hash are not enqueued again: a coordinator that was killed resumes
 * where the workers got to. A killed worker's job goes back to the queue when its lock expires
 * (BullMQ's stalled-job check in the other workers).
 */
import type { Job } from 'bullmq';
import { abortedError, effectiveSignal, onAbort } from '../backend/cancel.js';
import { HessboundError, fail } from '../errors.js';
import { addTileSums, TILE_SUM_WIDTH, type TileSource } from '../split/tile-sums.js';
import type { BackendName } from '../types.js';
import { parseQueueUrl, redact, redisOptions } from './connection.js';
import { DEFAULT_QUEUE_NAME, errorFromReason } from './job-data.js';
import { QUEUE_KEY_ENV } from './job-policy.js';
import { loadQueuePeers } from './peers.js';
import { connectOnce } from './reach.js';
import { parseStoredTile, partKey, pointIdOf, problemParts, signTileJob, TILE_JOB_FORMAT, TILE_JOB_NAME, tileJobId, tileSumsKey, type TileJobData } from './tile-jobs.js';

/** Tiles per job unless told otherwise: each job repeats the O(N d h) forward pass, so a few tiles amortise it. */
export const DEFAULT_TILES_PER_JOB = 8;
/** How long a point's tile sums stay in Redis after the last write (a resume within it is free). */
const TILE_SUMS_TTL_SECONDS = 7 * 24 * 3600;

export interface QueueTileOptions {
  url: string;
  queueName?: string;
  /** Tiles per job (default DEFAULT_TILES_PER_JOB). */
  tilesPerJob?: number;
  /** The backend the workers compute the tiles on (default: the coordinator's, so the bits match its local run). */
  backend?: BackendName;
  /** Tries per job for errors that may pass. Default 3. */
  attempts?: number;
  /** Sign every job (HMAC-SHA256); default HESSBOUND_QUEUE_KEY. */
  signingKey?: string;
  /** How often the hash is read (ms). Default 250. */
  pollInterval?: number;
  /** One line per event: the split, tiles resumed, failures (free of passwords). */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/** The split's bookkeeping, for reports and tests. */
export interface QueueTileReport {
  point: string;
  tiles: number;
  jobs: number;
  /** Tiles found in Redis at the start (a resumed point). */
  resumed: number;
  workersAtStart: number;
}

export function queueTileSource(options: QueueTileOptions, onReport?: (report: QueueTileReport) => void): TileSource {
  const env = options.env ?? process.env;
  const connection = parseQueueUrl(options.url, env);
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const perJob = options.tilesPerJob ?? DEFAULT_TILES_PER_JOB;
  const attempts = options.attempts ?? 3;
  const pollMs = options.pollInterval ?? 250;
  if (!Number.isSafeInteger(perJob) || perJob < 1) fail('BAD_OPTION', `tilesPerJob must be a positive integer, got ${String(perJob)}`);
  if (!Number.isSafeInteger(attempts) || attempts < 1) fail('BAD_OPTION', `attempts must be a positive integer, got ${String(attempts)}`);
  const signingKey = options.signingKey ?? (env[QUEUE_KEY_ENV] || undefined);
  const log = (line: string) => options.log?.(redact(line, connection));
  const queueError = (error: unknown) =>
    error instanceof HessboundError ? error : new HessboundError('IO', `the queue at ${connection.display} failed: ${redact((error as Error).message, connection)}`, 'is redis-server still running there?');

  return async ({ backend, spec, plan, workBytes, deterministic, onProgress, signal: given }) => {
    // The caller's signal and the CLI's Ctrl-C (the ambient signal): either removes this point's jobs.
    const signal = effectiveSignal(given);
    if (signal?.aborted) throw abortedError(signal);
    // Reachable first, with a clear error (BullMQ would retry a refused connection forever).
    const redis = await connectOnce(connection);
    const { Queue, QueueEvents } = (await loadQueuePeers()).bullmq;
    let queue: InstanceType<typeof Queue> | undefined;
    let events: InstanceType<typeof QueueEvents> | undefined;
    const ids: string[] = [];
    let cancelled = false;
    const removeJobs = async () => {
      // Waiting and delayed ones go; a job a worker holds cannot be removed, and its tiles land in the hash harmlessly.
      await Promise.allSettled(ids.map((id) => queue?.remove(id)));
    };
    try {
      const parts = problemParts(spec);
      for (const p of [parts.model, parts.data]) await redis.set(partKey(queueName, p.id), p.bytes, 'NX');
      const fields = {
        model: parts.model.id,
        data: parts.data.id,
        reduction: spec.reduction,
        ...(workBytes !== undefined ? { workBytes } : {}),
        ...(deterministic ? { deterministic: true } : {}),
        backend: options.backend ?? backend.name,
      };
      const point = pointIdOf(fields);
      const sumsKey = tileSumsKey(queueName, point);
      await redis.expire(sumsKey, TILE_SUMS_TTL_SECONDS);
      const have = new Set((await redis.hkeys(sumsKey)).map(Number));
      const ranges: Array<{ first: number; count: number }> = [];
      for (let first = 0; first < plan.count; first += perJob) ranges.push({ first, count: Math.min(perJob, plan.count - first) });
      const missing = (r: { first: number; count: number }) => {
        for (let t = r.first; t < r.first + r.count; t++) if (!have.has(t)) return true;
        return false;
      };
      queue = new Queue(queueName, { connection: redisOptions(connection) });
      events = new QueueEvents(queueName, { connection: redisOptions(connection) });
      queue.on('error', () => {});
      events.on('error', () => {});
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      const workersAtStart = await queue.getWorkersCount();
      const jobData = (r: { first: number; count: number }): TileJobData => {
        const d: Omit<TileJobData, 'signature'> = { format: TILE_JOB_FORMAT, point, ...fields, first: r.first, count: r.count, tileCount: plan.count };
        return signingKey ? { ...d, signature: signTileJob(d, signingKey) } : d;
      };
      const enqueue = async (r: { first: number; count: number }) => {
        const id = tileJobId(point, r.first);
        const existing = await queue!.getJob(id);
        // Failed in an earlier run: retry it (a new add with the same id would be ignored).
        if (existing && (await existing.isFailed())) await existing.retry('failed');
        else await queue!.add(TILE_JOB_NAME, jobData(r), { jobId: id, attempts, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: false });
      };
      const todo = ranges.filter(missing);
      for (const r of todo) {
        ids.push(tileJobId(point, r.first));
        await enqueue(r);
      }
      const report: QueueTileReport = { point, tiles: plan.count, jobs: todo.length, resumed: have.size, workersAtStart };
      onReport?.(report);
      log(`point ${point}: ${plan.count} tiles of ${plan.size} samples a side in ${ranges.length} jobs of up to ${perJob}; ${have.size} tiles already in the queue${have.size > 0 ? ' (resumed)' : ''}; ${todo.length} jobs queued; ${workersAtStart} worker(s) connected`);
      if (workersAtStart === 0 && todo.length > 0) log(`no worker is connected to ${connection.display} yet: start 'hessbound worker --queue URL' on any machine that reaches it`);

      // A job that failed for good fails the point; watched by event and by polling.
      let failure: HessboundError | undefined;
      const ourJob = (jobId: string) => jobId.startsWith(`tiles-${point}-`);
      events.on('failed', ({ jobId }) => {
        if (!ourJob(jobId)) return;
        queue!.getJob(jobId).then(async (job: Job | undefined) => {
          if (job && (await job.isFailed())) failure ??= errorFromReason(job.failedReason);
        }).catch(() => {});
      });
      let abort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        abort = () => reject(abortedError(signal));
      });
      aborted.catch(() => {});
      const unsubscribe = signal ? onAbort(signal, () => abort?.()) : undefined;
      try {
        let polls = 0;
        for (;;) {
          const stored = await redis.hlen(sumsKey);
          onProgress?.(Math.min(1, stored / plan.count));
          if (stored >= plan.count) break;
          if (failure) throw failure;
          if (++polls % Math.max(1, Math.round(1000 / pollMs)) === 0) {
            // The data or model gone from Redis (deleted, or Redis restarted without persistence): say so, write nothing.
            for (const p of [parts.model, parts.data])
              if ((await redis.exists(partKey(queueName, p.id))) === 0)
                fail('IO', `the ${p === parts.model ? 'model' : 'data'} of this point (${p.id.slice(0, 19)}…) was deleted from the queue at ${connection.display} while the point ran; no result was written`, 'run the command again: it stores them anew and reuses the tiles already computed');
            // A job gone from the queue while its tiles are missing (removed by hand, Redis lost it): queue it again.
            if (polls % Math.max(1, Math.round(5000 / pollMs)) === 0) {
              for (const f of await redis.hkeys(sumsKey)) have.add(Number(f));
              for (const r of ranges.filter(missing)) if ((await queue.getJobState(tileJobId(point, r.first))) === 'unknown') await enqueue(r);
            }
          }
          await Promise.race([new Promise((resolve) => setTimeout(resolve, pollMs)), aborted]);
        }
      } finally {
        unsubscribe?.();
      }
      const stored = await redis.hgetall(sumsKey);
      const totals = addTileSums(plan.count, (t) => parseStoredTile(stored[String(t)], t, TILE_SUM_WIDTH));
      await redis.expire(sumsKey, TILE_SUMS_TTL_SECONDS);
      return totals;
    } catch (error) {
      cancelled = true;
      throw queueError(error);
    } finally {
      if (cancelled) await removeJobs();
      await Promise.allSettled([queue?.close(), events?.close()]);
      redis.disconnect();
    }
  };
}
