/**
 * sweep(): runs sweep jobs and yields results as they finish, with progress events in between.
 * Jobs run on an executor: in-process by default (browsers: WebAssembly backend, small sweeps),
 * a worker-thread pool in Node (src/node/sweep-pool.ts), or anything else that maps a spec to a
 * record. Pure: no Node built-ins.
 */
import { abortedError, checkCallOptions } from '../backend/cancel.js';
import { HessboundError } from '../errors.js';
import type { BackendName, Dataset } from '../types.js';
import { gridJobIterator, gridSize, makeJob, shapeCost, type SweepGrid, type SweepJob, type SweepJobInput, type SweepJobSpec } from './job.js';
import type { SweepFailure, SweepRecord } from './result.js';
import { runPoint } from './run-point.js';

/** Runs one job; `concurrency` jobs may be in flight at once. */
export interface PointExecutor {
  readonly concurrency: number;
  /** `signal` cancels the point: the promise then rejects (code ABORTED). */
  run(spec: SweepJobSpec, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<SweepRecord>;
}

export function inProcessExecutor(options: { backend?: BackendName | 'auto'; loadData?: (id: string) => Dataset } = {}): PointExecutor {
  return {
    concurrency: 1,
    run: (spec, onProgress, signal) => runPoint(spec, { ...options, onProgress, ...(signal ? { signal } : {}) }),
  };
}

export interface SweepOptions {
  /** A grid (widths x seeds ...) or an explicit job list. */
  grid?: SweepGrid;
  jobs?: readonly (SweepJob | SweepJobInput)[];
  /**
   * Keys already done (e.g. rows of an interrupted sweep's CSV): skipped. With a grid, give only keys
   * of its points (runSweep does): the grid is not generated to find them, so the start event counts
   * every key as skipped, and `total` is corrected when the last job has been made.
   */
  skip?: ReadonlySet<string>;
  executor?: PointExecutor;
  /** For the default in-process executor. */
  backend?: BackendName | 'auto';
  loadData?: (id: string) => Dataset;
  /**
   * Cancels the sweep: no new point starts, running points are cancelled, and the generator throws
   * HessboundError ABORTED after yielding every point that finished before (nothing is lost).
   */
  signal?: AbortSignal;
}

interface Counts {
  /** Points finished in this run (results and failures). */
  done: number;
  /** Points this run has to do (skipped ones excluded). */
  total: number;
}

export type SweepEvent =
  /** `points`: the grid's (or list's) points, `skipped`: those in `skip`. No job list: grids are made lazily. */
  | ({ type: 'start'; points: number; skipped: number } & Counts)
  | ({ type: 'progress'; fraction: number; running: number } & Counts)
  | ({ type: 'result'; record: SweepRecord; fraction: number } & Counts)
  | ({ type: 'failure'; failure: SweepFailure; fraction: number } & Counts);

function toJob(job: SweepJob | SweepJobInput): SweepJob {
  // A given key is recomputed: a job from a queue or a file must not be trusted to carry the right one.
  return 'spec' in job && 'key' in job ? makeJob(job.spec) : makeJob(job);
}

/** Largest first when running in parallel, so one big point does not run alone at the end. */
function schedule(jobs: SweepJob[], concurrency: number): SweepJob[] {
  if (concurrency <= 1) return jobs;
  return [...jobs].sort((a, b) => shapeCost(b.spec.width, b.spec.depth) - shapeCost(a.spec.width, a.spec.depth));
}

/** How many jobs are made (or skipped) in one go before the event loop gets a turn (signals, I/O). */
const JOBS_PER_TURN = 500;

/** The points of a sweep: a job list as given, or a grid's jobs made one at a time when due. */
function jobSource(options: SweepOptions, concurrency: number, skip: ReadonlySet<string>): { points: number; skipped: number; jobs: Iterator<SweepJob, void, undefined> } {
  if (options.jobs) {
    const list = schedule(options.jobs.map(toJob), concurrency);
    return { points: list.length, skipped: list.filter((j) => skip.has(j.key)).length, jobs: list[Symbol.iterator]() as Iterator<SweepJob, void, undefined> };
  }
  if (!options.grid) return { points: 0, skipped: 0, jobs: [][Symbol.iterator]() as Iterator<SweepJob, void, undefined> };
  // A grid's skipped points are found as its jobs are made; until then every key counts.
  const points = gridSize(options.grid);
  return { points, skipped: Math.min(skip.size, points), jobs: gridJobIterator(options.grid, { largestFirst: concurrency > 1 }) };
}

function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof HessboundError) return { code: error.code, message: error.message };
  const e = error as { code?: unknown; message?: unknown };
  return { code: typeof e?.code === 'string' ? e.code : 'KERNEL', message: typeof e?.message === 'string' ? e.message : String(error) };
}

export async function* sweep(options: SweepOptions): AsyncGenerator<SweepEvent, void, undefined> {
  checkCallOptions(options);
  const signal = options.signal;
  const executor = options.executor ?? inProcessExecutor({ ...(options.backend ? { backend: options.backend } : {}), ...(options.loadData ? { loadData: options.loadData } : {}) });
  const concurrency = Math.max(1, Math.floor(executor.concurrency));
  const skip = options.skip ?? new Set<string>();
  const source = jobSource(options, concurrency, skip);
  if (source.points === 0) throw new HessboundError('BAD_OPTION', 'the sweep has no jobs', 'give a grid (dataset, widths, seeds) or a job list');
  if (signal?.aborted) throw abortedError(signal);
  let total = source.points - source.skipped;
  yield { type: 'start', points: source.points, skipped: source.skipped, done: 0, total };

  const events: SweepEvent[] = [];
  let wake: (() => void) | null = null;
  const push = (event: SweepEvent) => {
    events.push(event);
    wake?.();
    wake = null;
  };
  const partial = new Map<string, number>();
  let done = 0;
  let skippedSeen = 0;
  let exhausted = false;
  let turnPending = false;
  let stopped = false;
  // A point was cut short by the cancellation (the sweep ends ABORTED, not complete).
  let cut = false;
  let lastReported = 0;
  // The running points' fractions, summed as they change (a queue window holds thousands).
  let partialSum = 0;
  const setPartial = (key: string, f: number) => {
    partialSum += f - (partial.get(key) ?? 0);
    partial.set(key, f);
  };
  const dropPartial = (key: string) => {
    partialSum -= partial.get(key) ?? 0;
    partial.delete(key);
    if (partial.size === 0) partialSum = 0;
  };
  const fraction = () => (total === 0 ? 1 : Math.min(1, (done + partialSum) / total));

  const launch = () => {
    let made = 0;
    while (!stopped && !exhausted && partial.size < concurrency) {
      if (made++ >= JOBS_PER_TURN) {
        // Room for more, but the event loop gets a turn first: a long run of skipped points (a
        // resumed million-point grid) or a large queue window must not hold up signals.
        if (!turnPending) {
          turnPending = true;
          setTimeout(() => {
            turnPending = false;
            launch();
          }, 0);
        }
        return;
      }
      const step = source.jobs.next();
      if (step.done) {
        exhausted = true;
        // Exact now: the skipped points the grid really holds.
        total = source.points - skippedSeen;
        wake?.();
        wake = null;
        return;
      }
      const job = step.value;
      if (skip.has(job.key)) {
        skippedSeen++;
        continue;
      }
      setPartial(job.key, 0);
      const onProgress = (f: number) => {
        if (!partial.has(job.key)) return;
        setPartial(job.key, Math.min(1, Math.max(0, f)));
        const now = fraction();
        // Throttled: each event wakes the consumer (e.g. redraws a progress bar).
        if (now - lastReported >= 0.002) {
          lastReported = now;
          push({ type: 'progress', fraction: now, running: partial.size, done, total });
        }
      };
      executor.run(job.spec, onProgress, signal).then(
        (record) => finish(job, { type: 'result', record }),
        (error: unknown) => {
          // A point cut short by the sweep's cancellation is not a failure of the point.
          if (signal?.aborted) settle(job);
          else finish(job, { type: 'failure', failure: { key: job.key, spec: job.spec, error: describeError(error) } });
        },
      );
    }
  };
  const settle = (job: SweepJob) => {
    cut = true;
    dropPartial(job.key);
    wake?.();
    wake = null;
  };
  const finish = (job: SweepJob, outcome: { type: 'result'; record: SweepRecord } | { type: 'failure'; failure: SweepFailure }) => {
    dropPartial(job.key);
    done++;
    lastReported = fraction();
    push({ ...outcome, fraction: lastReported, done, total } as SweepEvent);
    launch();
  };

  const onAbort = () => {
    stopped = true;
    wake?.();
    wake = null;
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    launch();
    while (!exhausted || partial.size > 0 || events.length > 0) {
      if (events.length > 0) {
        yield events.shift() as SweepEvent;
        continue;
      }
      // Cancelled: every finished point has been yielded; wait for the running ones to stop.
      if (signal?.aborted && partial.size === 0) throw abortedError(signal);
      await new Promise<void>((resolve) => (wake = resolve));
    }
    if (cut && signal?.aborted) throw abortedError(signal);
  } finally {
    // The consumer stopped early (break / return) or cancelled: start nothing new; running points
    // finish on their own (or stop, when cancelled).
    stopped = true;
    signal?.removeEventListener('abort', onAbort);
  }
}
