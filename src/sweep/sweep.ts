/**
 * sweep(): runs sweep jobs and yields results as they finish, with progress events in between.
 * Jobs run on an executor: in-process by default (browsers: WebAssembly backend, small sweeps),
 * a worker-thread pool in Node (src/node/sweep-pool.ts), or anything else that maps a spec to a
 * record. Pure: no Node built-ins.
 */
import { abortedError, checkCallOptions } from '../backend/cancel.js';
import { HessboundError } from '../errors.js';
import type { BackendName, Dataset } from '../types.js';
import { gridJobs, makeJob, type SweepGrid, type SweepJob, type SweepJobInput, type SweepJobSpec } from './job.js';
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
  /** Keys already done (e.g. rows of an interrupted sweep's CSV): skipped. */
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
  | ({ type: 'start'; jobs: SweepJob[]; skipped: SweepJob[] } & Counts)
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
  const cost = (s: SweepJobSpec) => s.width * s.depth * (s.depth > 1 ? s.width : 1);
  return [...jobs].sort((a, b) => cost(b.spec) - cost(a.spec));
}

function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof HessboundError) return { code: error.code, message: error.message };
  const e = error as { code?: unknown; message?: unknown };
  return { code: typeof e?.code === 'string' ? e.code : 'KERNEL', message: typeof e?.message === 'string' ? e.message : String(error) };
}

export async function* sweep(options: SweepOptions): AsyncGenerator<SweepEvent, void, undefined> {
  checkCallOptions(options);
  const all = options.jobs ? options.jobs.map(toJob) : options.grid ? gridJobs(options.grid) : [];
  if (all.length === 0) throw new HessboundError('BAD_OPTION', 'the sweep has no jobs', 'give a grid (dataset, widths, seeds) or a job list');
  const signal = options.signal;
  if (signal?.aborted) throw abortedError(signal);
  const skip = options.skip ?? new Set<string>();
  const skipped = all.filter((j) => skip.has(j.key));
  const executor = options.executor ?? inProcessExecutor({ ...(options.backend ? { backend: options.backend } : {}), ...(options.loadData ? { loadData: options.loadData } : {}) });
  const concurrency = Math.max(1, Math.floor(executor.concurrency));
  const todo = schedule(all.filter((j) => !skip.has(j.key)), concurrency);
  const total = todo.length;
  yield { type: 'start', jobs: all, skipped, done: 0, total };

  const events: SweepEvent[] = [];
  let wake: (() => void) | null = null;
  const push = (event: SweepEvent) => {
    events.push(event);
    wake?.();
    wake = null;
  };
  const partial = new Map<string, number>();
  let done = 0;
  let next = 0;
  let stopped = false;
  let lastReported = 0;
  const fraction = () => (total === 0 ? 1 : (done + [...partial.values()].reduce((s, f) => s + f, 0)) / total);

  const launch = () => {
    while (!stopped && partial.size < concurrency && next < todo.length) {
      const job = todo[next++] as SweepJob;
      partial.set(job.key, 0);
      const onProgress = (f: number) => {
        if (!partial.has(job.key)) return;
        partial.set(job.key, Math.min(1, Math.max(0, f)));
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
    partial.delete(job.key);
    wake?.();
    wake = null;
  };
  const finish = (job: SweepJob, outcome: { type: 'result'; record: SweepRecord } | { type: 'failure'; failure: SweepFailure }) => {
    partial.delete(job.key);
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
    while (done < total || events.length > 0) {
      if (events.length > 0) {
        yield events.shift() as SweepEvent;
        continue;
      }
      // Cancelled: every finished point has been yielded; wait for the running ones to stop.
      if (signal?.aborted && partial.size === 0) throw abortedError(signal);
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    // The consumer stopped early (break / return) or cancelled: start nothing new; running points
    // finish on their own (or stop, when cancelled).
    stopped = true;
    signal?.removeEventListener('abort', onAbort);
  }
}
