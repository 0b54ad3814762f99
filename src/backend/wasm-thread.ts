/**
 * Node: the WebAssembly backend with its long calls (run, hessian, hvp, eigh) on a worker thread, so
 * the event loop keeps running (timers, I/O, Ctrl-C) while the kernel works, as with the native
 * addon. Cancelling a call (AbortSignal, Ctrl-C) terminates that thread, which stops WebAssembly at
 * once; calls queued behind it are sent to a fresh thread. The cheap synchronous calls (lossGrad,
 * wsBounds) run on an instance in this thread.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { HessboundError, type ErrorCode } from '../errors.js';
import { abortedError, effectiveSignal, throwIfAborted } from './cancel.js';
import type { KernelBackend, ProgressCallback } from './types.js';
import type { ThreadReply, ThreadRequest } from './wasm-thread-worker.js';
import type { WasmKernelBackend } from './wasm.js';
import { withGuardedProgress } from './call-queue.js';

interface Pending {
  request: ThreadRequest;
  onProgress: ProgressCallback | undefined;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** From source (.ts under tsx or vitest) the worker registers tsx itself, as in node/sweep-pool.ts. */
function startWorker(): Worker {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return new Worker(join(dirname(here), 'wasm-thread-worker.js'));
  const entry = pathToFileURL(join(dirname(here), 'wasm-thread-worker.ts')).href;
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`, { eval: true });
}

export function wasmOnThread(inThread: KernelBackend): KernelBackend {
  const pending = new Map<number, Pending>();
  let worker: Worker | undefined;
  let nextId = 1;

  const fail = (reason: string) => {
    for (const p of pending.values()) p.reject(new HessboundError('KERNEL', `the WebAssembly worker thread stopped: ${reason}`));
    pending.clear();
  };

  const ensureWorker = (): Worker => {
    if (worker) return worker;
    const w = startWorker();
    w.unref(); // an idle kernel thread must not keep the process alive
    w.on('message', (reply: ThreadReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      if (reply.type === 'progress') return p.onProgress?.(reply.fraction);
      pending.delete(reply.id);
      if (pending.size === 0) w.unref();
      if (reply.type === 'result') p.resolve(reply.value);
      else p.reject(new HessboundError(reply.code as ErrorCode, reply.message, reply.hint));
    });
    w.on('error', (e) => {
      if (worker === w) worker = undefined;
      fail(e.message);
    });
    w.on('exit', (code) => {
      if (worker !== w) return; // terminated on purpose (cancellation)
      worker = undefined;
      fail(`exit code ${code}`);
    });
    worker = w;
    return w;
  };

  const post = (p: Pending) => {
    const w = ensureWorker();
    w.ref(); // work in flight keeps the process alive, as a native call does
    w.postMessage(p.request);
  };

  function call<T>(method: ThreadRequest['method'], args: unknown[], onProgress?: ProgressCallback, signal?: AbortSignal): Promise<T> {
    const effective = effectiveSignal(signal);
    throwIfAborted(effective);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (!pending.delete(id)) return;
        reject(abortedError(effective));
        // Stop the WebAssembly now; whatever else was queued goes to a new thread.
        const old = worker;
        worker = undefined;
        void old?.terminate();
        for (const other of pending.values()) post(other);
      };
      const done = () => effective?.removeEventListener('abort', onAbort);
      pending.set(id, {
        request: { id, method, args, progress: onProgress !== undefined },
        onProgress,
        resolve: (v) => (done(), resolve(v as T)),
        reject: (e) => (done(), reject(e)),
      });
      effective?.addEventListener('abort', onAbort, { once: true });
      post(pending.get(id) as Pending);
    });
  }

  return {
    name: 'wasm',
    linalg: inThread.linalg,
    maxDenseBytes: inThread.maxDenseBytes,
    // A throwing progress callback rejects the call with its error, as on the native backend.
    run: (name, spec, options, onProgress, signal) =>
      withGuardedProgress(onProgress, (progress) => call('run', [name, spec, options], progress, signal)),
    hessian: (spec, assembly, maxDenseBytes, onProgress, signal) =>
      withGuardedProgress(onProgress, (progress) => call('hessian', [spec, assembly, maxDenseBytes], progress, signal)),
    hvp: (spec, directions, k) => call('hvp', [spec, directions, k]),
    eigh: (matrix, n, first, last, vectors) => call('eigh', [matrix, n, first, last, vectors]),
    lossGrad: (spec) => inThread.lossGrad(spec),
    wsBounds: (trace, traceOfSquare, n) => inThread.wsBounds(trace, traceOfSquare, n),
    // WasmKernelBackend's test hook, on the in-thread instance.
    ...('probeAllocation' in inThread ? { probeAllocation: (bytes: number) => (inThread as WasmKernelBackend).probeAllocation(bytes) } : {}),
  } as KernelBackend;
}
