/**
 * A queue worker: takes sweep points from BullMQ and runs them on the same worker-thread pool as a
 * local sweep (src/node/sweep-pool.ts), so a point gives the same record, to the bit, for the same
 * backend and BLAS thread count. Points run in threads, so this process's event loop stays free to
 * renew job locks and report progress however long a point takes.
 *
 * Failures: a job that fails validation, or a point that fails for a reason that repeats (bad
 * options, bad data), fails at once (UnrecoverableError: retrying cannot help). Other errors are
 * retried up to the job's attempts; a worker that dies (SIGKILL) leaves its job locked until the lock
 * expires, and BullMQ's stalled-job check hands it to another worker, at most `maxStalledCount` times.
 */
import type { Job } from 'bullmq';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { HessboundError, fail } from '../errors.js';
import { createWorkerPool, type WorkerPool } from '../node/sweep-pool.js';
import type { SweepRecord } from '../sweep/result.js';
import type { BackendName } from '../types.js';
import { parseQueueUrl, redact, redisOptions, type QueueConnection } from './connection.js';
import { cachePath, contentCacheDir, isContentDatasetId, writeContentCache } from './content-data.js';
import { DEFAULT_QUEUE_NAME, POINT_JOB_NAME, failureReason, validateQueueJob } from './job-data.js';
import { assertContentSize, assertSigned, assertWithinLimits, contentShapeOf, DEFAULT_MAX_SECONDS, DEFAULT_MAX_STEPS, QUEUE_KEY_ENV, type WorkerLimits } from './job-policy.js';
import { dataKey } from './keys.js';
import { loadQueuePeers } from './peers.js';
import { knownDataShape, type DataShape } from '../resources/point-plan.js';
import { platformMemoryBudget } from '../memory.js';
import type { SweepJobSpec } from '../sweep/job.js';
import { connectOnce } from './reach.js';
import { TILE_JOB_NAME, type TileJobData } from './tile-jobs.js';
import { tileJobRunner, type TileJobOutcome } from './tile-worker.js';

export interface QueueWorkerOptions {
  url: string;
  queueName?: string;
  /** Points at once (worker threads). Default: one per core, as a local sweep. */
  concurrency?: number;
  /** OPENBLAS_NUM_THREADS for the points; default floor(cores / concurrency), as a local sweep. */
  threads?: number;
  /** Backend for jobs that do not name one. */
  backend?: BackendName | 'auto';
  /** How long a job stays locked without renewal (ms) before another worker may take it (BullMQ default 30000). */
  lockDuration?: number;
  /** How often stalled jobs are looked for (ms); default lockDuration. */
  stalledInterval?: number;
  /** Times a job may be recovered from a dead worker before it fails (default 2). */
  maxStalledCount?: number;
  /**
   * The operator's limits on any one job (docs/distributed.md, "Threat model"): training steps,
   * seconds, memory. Default 100,000 steps, 3600 s, this machine's memory budget.
   */
  limits?: Partial<WorkerLimits>;
  /** Run only jobs signed with this key (HMAC-SHA256); default HESSBOUND_QUEUE_KEY, else unsigned jobs run. */
  signingKey?: string;
  /** One line per event (already free of passwords). */
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface QueueWorker {
  readonly connection: QueueConnection;
  readonly concurrency: number;
  readonly blasThreads: number;
  /** Finish the running points, take no new ones, disconnect. */
  close(): Promise<void>;
  /** Hand the running points back to the queue (another worker takes them at once), then disconnect. */
  handBack(): Promise<void>;
}

// Deterministic failures: the same spec fails the same way on any worker.
const PERMANENT = new Set(['BAD_OPTION', 'BAD_DATA', 'BAD_MODEL', 'BAD_LABELS', 'BAD_ACTIVATION', 'SHAPE_MISMATCH', 'NON_FINITE', 'TOO_LARGE']);

function positive(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) fail('BAD_OPTION', `${name} must be a positive integer, got ${String(value)}`);
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const env = options.env ?? process.env;
  const connection = parseQueueUrl(options.url, env);
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const log = (line: string) => options.log?.(redact(line, connection));
  positive(options.concurrency, 'concurrency');
  positive(options.threads, 'threads');
  positive(options.lockDuration, 'lockDuration');
  const { bullmq: { Worker: BullWorker, UnrecoverableError }, ioredis: { Redis } } = await loadQueuePeers();
  positive(options.limits?.maxSteps, 'limits.maxSteps');
  positive(options.limits?.maxSeconds, 'limits.maxSeconds');
  if (options.limits?.maxMemoryBytes !== undefined && !(options.limits.maxMemoryBytes > 0)) fail('BAD_OPTION', `limits.maxMemoryBytes must be positive, got ${String(options.limits.maxMemoryBytes)}`);
  const limits: WorkerLimits = {
    maxSteps: options.limits?.maxSteps ?? DEFAULT_MAX_STEPS,
    maxSeconds: options.limits?.maxSeconds ?? DEFAULT_MAX_SECONDS,
    maxMemoryBytes: Math.min(options.limits?.maxMemoryBytes ?? Number.POSITIVE_INFINITY, platformMemoryBudget()),
  };
  const signingKey = options.signingKey ?? (env[QUEUE_KEY_ENV] || undefined);
  // The pool reads OPENBLAS_NUM_THREADS (when set) instead of dividing the cores.
  if (options.threads !== undefined) process.env['OPENBLAS_NUM_THREADS'] = String(options.threads);
  const concurrency = options.concurrency ?? availableParallelism();
  // One pool per backend a job asks for, made when first needed (threads start on demand).
  const pools = new Map<string, WorkerPool>();
  const poolFor = (backend: BackendName | 'auto' | undefined): WorkerPool => {
    const name = backend ?? 'default';
    let pool = pools.get(name);
    if (!pool) {
      // noFiles: the threads refuse file: ids too, whatever got past validation.
      pool = createWorkerPool({ workers: concurrency, noFiles: true, ...(backend ? { backend } : {}) });
      pools.set(name, pool);
    }
    return pool;
  };
  const first = poolFor(options.backend);
  const closePools = () => Promise.all([...pools.values()].map((p) => p.close()));
  try {
    (await connectOnce(connection)).disconnect();
  } catch (error) {
    await closePools();
    throw error;
  }
  // For file data; unlike the probe, it reconnects after a Redis restart.
  const redis = new Redis(redisOptions(connection));
  redis.on('error', () => {});
  const cacheDir = contentCacheDir(env);

  // The shape of a job's data set before any of it is fetched: by name, or from the first bytes of
  // the stored text (its size checked against that shape), so a bomb is refused unread.
  const shapeOf = async (id: string): Promise<DataShape> => {
    if (!isContentDatasetId(id)) return knownDataShape(id) as DataShape; // validateQueueJob checked it is known
    const key = dataKey(queueName, id);
    const [head, bytes] = await Promise.all([redis.getrange(key, 0, 199), redis.strlen(key)]);
    if (bytes === 0) fail('IO', `the data set ${id} is not stored in the queue`, 'the coordinator stores it when the sweep starts; run the sweep again');
    const shape = contentShapeOf(head);
    if (!shape) fail('BAD_DATA', `the stored data set ${id} does not start like a serialized data set`, 'run the sweep again so the coordinator stores the data anew');
    assertContentSize(id, bytes, shape, limits);
    return shape;
  };
  // Fetches content data once per worker, checked against its hash before it is used.
  const ensureData = async (id: string) => {
    // Embedded and synthetic data need no fetch; cached content was verified when written (the pool's threads check the hash again).
    if (!isContentDatasetId(id) || existsSync(cachePath(id, cacheDir))) return;
    const text = await redis.get(dataKey(queueName, id));
    if (text === null) fail('IO', `the data set ${id} is not stored in the queue`, 'the coordinator stores it when the sweep starts; run the sweep again');
    writeContentCache(id, text, cacheDir);
  };
  // Everything checked before a byte of data is fetched or a thread starts.
  const admit = async (spec: SweepJobSpec, backend: string | undefined, signature: unknown, jobId: string) => {
    if (signingKey) assertSigned(spec, backend, signature, signingKey, jobId);
    const data = await shapeOf(spec.dataset);
    const test = spec.testData !== '' ? await shapeOf(spec.testData) : undefined;
    assertWithinLimits(spec, limits, { data, ...(test ? { test } : {}) }, jobId);
  };

  const running = new Map<string, Job>();
  let handingBack = false;
  const tiles = tileJobRunner({ redis, queueName, limits, ...(signingKey ? { signingKey } : {}), ...(options.backend ? { backend: options.backend } : {}), log });
  // A range of tiles of a point split over workers (tile-worker.ts), on this process's backend.
  const processTiles = async (job: Job): Promise<TileJobOutcome> => {
    const id = job.id ?? '?';
    let tile: TileJobData;
    try {
      tile = await tiles.admit(job);
    } catch (error) {
      log(`rejected job ${id}: ${failureReason(error).split('\n')[0]}`);
      throw new UnrecoverableError(failureReason(error));
    }
    const range = `${tile.first}..${tile.first + tile.count - 1} of ${tile.tileCount}`;
    log(`tiles ${tile.point} ${range}${job.attemptsMade > 0 || job.stalledCounter > 0 ? ' (again)' : ''}`);
    running.set(id, job);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new HessboundError('TOO_LARGE', `the tiles ran past this worker's time limit of ${limits.maxSeconds} s`, 'split the point into smaller jobs (--tiles-per-job), or raise the limit (hessbound worker --max-seconds)')), limits.maxSeconds * 1000);
    try {
      const outcome = await tiles.run(job, tile, deadline.signal);
      log(`tiles done ${tile.point} ${range} in ${outcome.seconds.toFixed(2)} s (${outcome.stored} stored${outcome.stored < tile.count ? `, ${tile.count - outcome.stored} were there already` : ''})`);
      return outcome;
    } catch (caught) {
      const error = deadline.signal.aborted ? deadline.signal.reason : caught;
      const reason = failureReason(error);
      if (handingBack) {
        log(`handed back ${id}`);
        throw new Error(reason);
      }
      log(`failed ${id}: ${reason.split('\n')[0]}`);
      const code = error instanceof HessboundError ? error.code : '';
      throw PERMANENT.has(code) ? new UnrecoverableError(reason) : new Error(reason);
    } finally {
      clearTimeout(timer);
      running.delete(id);
    }
  };
  const processor = async (job: Job): Promise<SweepRecord | TileJobOutcome> => {
    if (job.name === TILE_JOB_NAME) return processTiles(job);
    let point: ReturnType<typeof validateQueueJob>;
    try {
      if (job.name !== POINT_JOB_NAME) fail('BAD_OPTION', `queue job ${job.id} is named '${job.name}', not '${POINT_JOB_NAME}' or '${TILE_JOB_NAME}'`);
      point = validateQueueJob(job.data, job.id);
      await admit(point.spec, point.backend, point.signature, job.id ?? '?');
    } catch (error) {
      log(`rejected job ${job.id}: ${failureReason(error).split('\n')[0]}`);
      // Data missing from Redis may be stored again (a coordinator's restart); everything else repeats.
      const missing = error instanceof HessboundError && error.code === 'IO';
      throw missing ? new Error(failureReason(error)) : new UnrecoverableError(failureReason(error));
    }
    const { key, spec } = point;
    const backend = point.backend ?? options.backend;
    log(`start ${key} ${spec.dataset} width ${spec.width} depth ${spec.depth} seed ${spec.seed}${job.attemptsMade > 0 || job.stalledCounter > 0 ? ' (again)' : ''}`);
    running.set(key, job);
    const started = Date.now();
    let reported = 0;
    // The operator's time limit: the point is cancelled (the pool abandons a thread that does not stop).
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new HessboundError('TOO_LARGE', `the point ran past this worker's time limit of ${limits.maxSeconds} s`, 'ask for fewer steps or a smaller net, or raise the limit (hessbound worker --max-seconds)')), limits.maxSeconds * 1000);
    try {
      await ensureData(spec.dataset);
      if (spec.testData) await ensureData(spec.testData);
      const record = await poolFor(backend).run(
        spec,
        (fraction) => {
          if (fraction - reported < 0.02 && fraction < 1) return;
          reported = fraction;
          job.updateProgress(fraction).catch(() => {});
        },
        deadline.signal,
      );
      log(`done ${key} in ${((Date.now() - started) / 1000).toFixed(2)} s`);
      return record;
    } catch (caught) {
      const error = deadline.signal.aborted ? deadline.signal.reason : caught;
      const reason = failureReason(error);
      if (handingBack) {
        log(`handed back ${key}`);
        throw new Error(reason); // the job is back in the queue; BullMQ cannot fail it without its lock
      }
      log(`failed ${key}: ${reason.split('\n')[0]}`);
      const code = error instanceof HessboundError ? error.code : '';
      throw PERMANENT.has(code) ? new UnrecoverableError(reason) : new Error(reason);
    } finally {
      clearTimeout(timer);
      running.delete(key);
    }
  };

  const lockDuration = options.lockDuration ?? 30_000;
  const worker = new BullWorker(queueName, processor, {
    connection: redisOptions(connection),
    concurrency,
    lockDuration,
    stalledInterval: options.stalledInterval ?? lockDuration,
    maxStalledCount: options.maxStalledCount ?? 2,
    autorun: false,
  });
  worker.on('error', (error) => log(`queue error: ${error.message}`));
  void worker.run();
  await worker.waitUntilReady();

  let closing: Promise<void> | null = null;
  const shutdown = async (force: boolean) => {
    await worker.close(force);
    await closePools();
    redis.disconnect();
  };
  return {
    connection,
    concurrency,
    blasThreads: first.blasThreads,
    close: () => (closing ??= shutdown(false)),
    async handBack() {
      handingBack = true;
      // Back to the waiting list without using an attempt, then the threads stopped, so no point
      // computes after it left: the pool raises each point's cancel word, which the native kernel
      // polls, then ends the threads (within milliseconds; a thread inside LAPACK, which polls no
      // flag, only when that call returns: the CLI does not wait for it).
      await Promise.all(
        [...running.values()].map(async (job) => {
          try {
            await job.moveToWait(job.token);
          } catch {
            // Lost the lock already: the stalled check returns it.
          }
        }),
      );
      const stopped = closePools().then(() => undefined, () => undefined);
      closing ??= (async () => {
        await worker.close(true);
        redis.disconnect();
      })();
      await Promise.all([closing, stopped]);
    },
  };
}
