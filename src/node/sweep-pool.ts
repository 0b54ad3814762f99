/**
 * A worker-thread pool that runs sweep points, one per worker at a time.
 *
 * BLAS threads: OpenBLAS is one library per process, shared by every worker thread, and it reads
 * OPENBLAS_NUM_THREADS from the process environment once, when the addon first loads. So the pool
 * sets it in this process (unless the user already did) to max(1, floor(cores / workers)) before
 * any worker loads the addon, and passes the same value in each Worker's `env` for code that reads
 * process.env. If this process loaded the native addon earlier, the old thread count stays (a
 * warning says so).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { addonPath } from '../backend/native.js';
import { HessboundError, fail, type ErrorCode } from '../errors.js';
import type { SweepJobSpec } from '../sweep/job.js';
import { abortedError, onAbort } from '../backend/cancel.js';
import type { SweepRecord } from '../sweep/result.js';
import type { PointExecutor } from '../sweep/sweep.js';
import type { BackendName } from '../types.js';
import type { WorkerReply, WorkerRequest } from './sweep-worker.js';
import type { TraceSplitConfig } from '../split/tile-sums.js';

export interface WorkerPoolOptions {
  /** Default: os.availableParallelism(). */
  workers?: number;
  backend?: BackendName | 'auto';
  /** Return each trained model with its record (for --save-models). */
  keepModels?: boolean;
  /** Allow more workers than cores (each worker holds its own copy of the data and model). */
  force?: boolean;
  /** Refuse file: data set ids (queue workers: data arrives by content only). */
  noFiles?: boolean;
  /** Points whose closed-form traces are large split them over a queue's workers (sweep --split-queue). */
  split?: TraceSplitConfig;
  /**
   * After a cancel, how long a point's thread may take to stop before it is abandoned (terminated and
   * replaced): a dense eigensolve in LAPACK cannot be interrupted. Default 1000 ms.
   */
  abandonAfterMs?: number;
}

export interface WorkerPool extends PointExecutor {
  readonly workers: number;
  /** OPENBLAS_NUM_THREADS in effect for the workers. */
  readonly blasThreads: number;
  close(): Promise<void>;
}

interface Task {
  id: number;
  /**
   * The point's cancel word (shared with its thread, polled by the native kernel): raised here on a
   * cancel or close, so the kernel stops without waiting for the thread's JavaScript.
   */
  cancelWord: Int32Array;
  spec: SweepJobSpec;
  onProgress: (fraction: number) => void;
  resolve: (record: SweepRecord) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  task: Task | null;
}

const require = createRequire(import.meta.url);

/** Runs from source (.ts under tsx or vitest) or compiled (.js); from source each worker loads tsx itself. */
function startWorker(env: NodeJS.ProcessEnv): Worker {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return new Worker(join(dirname(here), 'sweep-worker.js'), { env });
  const entry = pathToFileURL(join(dirname(here), 'sweep-worker.ts')).href;
  // tsx's ESM API (its CommonJS twin cannot load from an eval worker).
  const tsx = pathToFileURL(require.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const code = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, env });
}

function blasThreadsFor(workers: number): number {
  const fromEnv = Number(process.env['OPENBLAS_NUM_THREADS']);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const threads = Math.max(1, Math.floor(availableParallelism() / workers));
  let path: string | undefined;
  try {
    path = addonPath();
  } catch {
    path = undefined; // no native addon at all: nothing to warn about
  }
  if (path && existsSync(path) && require.cache[path])
    process.emitWarning(`the native addon was loaded before the sweep pool started, so OpenBLAS keeps its thread count; set OPENBLAS_NUM_THREADS=${threads} before starting`, { code: 'HESSBOUND_BLAS_THREADS' });
  else process.env['OPENBLAS_NUM_THREADS'] = String(threads);
  return threads;
}

export function createWorkerPool(options: WorkerPoolOptions = {}): WorkerPool {
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024) fail('BAD_OPTION', `workers must be an integer from 1 to 1024, got ${String(workers)}`, `use 1 to ${availableParallelism()} (the cores here)`);
  // More workers than cores only share the cores (slower: each has its own memory and caches).
  if (workers > availableParallelism() && !options.force)
    fail('BAD_OPTION', `${workers} workers is more than the ${availableParallelism()} cores here`, `use at most ${availableParallelism()} workers, or add --force (force: true) to run more anyway`);
  const blasThreads = blasThreadsFor(workers);
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(blasThreads) };
  const slots: Slot[] = [];
  const queue: Task[] = [];
  let nextId = 1;
  let closed = false;

  const release = (slot: Slot) => {
    slot.task = null;
    dispatch();
  };

  const spawn = (): Slot => {
    const slot: Slot = { worker: startWorker(env), task: null };
    slot.worker.on('message', (reply: WorkerReply) => {
      const task = slot.task;
      if (!task || reply.id !== task.id) return;
      if (reply.type === 'progress') task.onProgress(reply.fraction);
      else if (reply.type === 'result') {
        release(slot);
        task.resolve(reply.record);
      } else {
        release(slot);
        task.reject(new HessboundError(reply.code as ErrorCode, reply.message));
      }
    });
    // A crashed worker fails its point (the sweep goes on) and is replaced on demand.
    const crash = (reason: string) => {
      const index = slots.indexOf(slot);
      if (index >= 0) slots.splice(index, 1);
      const task = slot.task;
      slot.task = null;
      if (task) task.reject(new HessboundError('KERNEL', `the sweep worker stopped: ${reason}`));
      dispatch();
    };
    slot.worker.on('error', (e) => crash(e.message));
    slot.worker.on('exit', (code) => {
      if (!closed) crash(`exit code ${code}`);
    });
    slots.push(slot);
    return slot;
  };

  const dispatch = () => {
    while (!closed && queue.length > 0) {
      const slot = slots.find((s) => s.task === null) ?? (slots.length < workers ? spawn() : undefined);
      if (!slot) return;
      const task = queue.shift() as Task;
      slot.task = task;
      slot.worker.postMessage({ type: 'run', id: task.id, spec: task.spec, cancelWord: task.cancelWord, ...(options.backend ? { backend: options.backend } : {}), ...(options.keepModels ? { keepModel: true } : {}), ...(options.noFiles ? { noFiles: true } : {}), ...(options.split ? { split: options.split } : {}) } satisfies WorkerRequest);
    }
  };

  // Queued: dropped here. Running: the worker aborts the point's kernel calls and replies ABORTED.
  const cancel = (task: Task, signal: AbortSignal) => {
    const queued = queue.indexOf(task);
    if (queued >= 0) {
      queue.splice(queued, 1);
      task.reject(abortedError(signal));
      return;
    }
    const slot = slots.find((s) => s.task === task);
    if (!slot) return;
    Atomics.store(task.cancelWord, 0, 1);
    slot.worker.postMessage({ type: 'cancel', id: task.id } satisfies WorkerRequest);
    // A thread inside an uninterruptible call (LAPACK) answers late: give up on it and its point.
    setTimeout(() => {
      if (slot.task !== task) return;
      const index = slots.indexOf(slot);
      if (index >= 0) slots.splice(index, 1);
      slot.task = null;
      slot.worker.removeAllListeners('exit');
      void slot.worker.terminate().catch(() => {});
      task.reject(abortedError(signal));
      dispatch();
    }, options.abandonAfterMs ?? 1000).unref();
  };

  return {
    concurrency: workers,
    workers,
    blasThreads,
    run(spec, onProgress, signal) {
      if (closed) return Promise.reject(new HessboundError('BAD_OPTION', 'the worker pool is closed'));
      if (signal?.aborted) return Promise.reject(abortedError(signal));
      return new Promise<SweepRecord>((resolve, reject) => {
        const task: Task = { id: nextId++, cancelWord: new Int32Array(new SharedArrayBuffer(4)), spec, onProgress, resolve, reject };
        queue.push(task);
        if (signal) onAbort(signal, () => cancel(task, signal));
        dispatch();
      });
    },
    async close() {
      closed = true;
      const pending = [...queue.splice(0), ...slots.flatMap((s) => (s.task ? [s.task] : []))];
      // Running kernel calls stop at their next check: terminate() waits for a native call to return.
      for (const task of pending) Atomics.store(task.cancelWord, 0, 1);
      for (const task of pending) task.reject(new HessboundError('BAD_OPTION', 'the worker pool was closed'));
      await Promise.all(slots.splice(0).map((s) => s.worker.terminate()));
    },
  };
}
