/**
 * The WebAssembly kernel's long calls (run, hessian, hvp, eigh) on another thread: the message
 * protocol, the serving side and the calling side, shared by Node worker threads (wasm-thread.ts)
 * and browser Web Workers (wasm-web-worker.ts). Browser-safe: the host supplies the thread.
 *
 * Cancelling a call (AbortSignal) terminates its thread, which stops WebAssembly at once; calls
 * queued behind it are sent to a fresh thread. The cheap synchronous calls (lossGrad, wsBounds)
 * run on an instance in the calling thread.
 */
import { HessboundError, type ErrorCode } from '../errors.js';
import { guardProgress } from './call-queue.js';
import { abortedError, effectiveSignal, onAbort, throwIfAborted } from './cancel.js';
import type { KernelBackend, ProgressCallback } from './types.js';

export type ThreadRequest = { id: number; method: 'run' | 'hessian' | 'hvp' | 'eigh' | 'threadsUsed'; args: unknown[]; progress: boolean };
export type ThreadReply =
  | { id: number; type: 'progress'; fraction: number }
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'error'; code: string; message: string; hint?: string };

/** One kernel thread as the host sees it (a Node Worker or a Web Worker behind an adapter). */
export interface KernelThread {
  post(request: ThreadRequest): void;
  terminate(): void;
  /** Node: whether in-flight work keeps the process alive. */
  busy?(busy: boolean): void;
}

export interface KernelThreadEvents {
  message(reply: ThreadReply): void;
  /** The thread failed or exited on its own; every call in flight fails with this reason (or error). */
  failed(reason: string | HessboundError): void;
}

/** Serving side: answers requests with `backend`, posting replies (and progress) through `post`. */
export function serveKernel(backend: Promise<KernelBackend>, post: (reply: ThreadReply) => void): (request: ThreadRequest) => void {
  return (request) => {
    const { id, method, args } = request;
    const onProgress = request.progress ? (fraction: number) => post({ id, type: 'progress', fraction }) : undefined;
    void (async () => {
      const b = await backend;
      switch (method) {
        case 'run':
          return b.run(args[0] as string, args[1] as never, args[2] as Record<string, number>, onProgress);
        case 'hessian':
          return b.hessian(args[0] as never, args[1] as number, args[2] as number, onProgress);
        case 'hvp':
          return b.hvp(args[0] as never, args[1] as Float64Array, args[2] as number);
        case 'eigh':
          return b.eigh(args[0] as Float64Array, args[1] as number, args[2] as number, args[3] as number, args[4] as boolean);
        case 'threadsUsed':
          return b.threadsUsed ? b.threadsUsed() : 1;
      }
    })().then(
      (value) => post({ id, type: 'result', value }),
      (e: unknown) => {
        const error = e instanceof HessboundError ? e : new HessboundError('KERNEL', (e as Error)?.message ?? String(e));
        const message = error.hint ? error.message.slice(0, error.message.lastIndexOf('\n  hint: ')) : error.message;
        post({ id, type: 'error', code: error.code, message, ...(error.hint ? { hint: error.hint } : {}) });
      },
    );
  };
}

interface Pending {
  request: ThreadRequest;
  onProgress: ProgressCallback | undefined;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * Calling side: a KernelBackend whose long calls go to threads made by `spawn` (one at a time, a new
 * one after a cancellation or a failure), and whose cheap calls run on `inThread`.
 */
export function kernelOnThread(inThread: KernelBackend, spawn: (events: KernelThreadEvents) => KernelThread): KernelBackend {
  const pending = new Map<number, Pending>();
  let thread: KernelThread | undefined;
  let nextId = 1;

  const ensureThread = (): KernelThread => {
    if (thread) return thread;
    const t: KernelThread = spawn({
      message(reply) {
        const p = pending.get(reply.id);
        if (!p) return;
        if (reply.type === 'progress') return p.onProgress?.(reply.fraction);
        pending.delete(reply.id);
        if (pending.size === 0) t.busy?.(false);
        if (reply.type === 'result') p.resolve(reply.value);
        else p.reject(new HessboundError(reply.code as ErrorCode, reply.message, reply.hint));
      },
      failed(reason) {
        if (thread !== t) return; // terminated on purpose (cancellation)
        thread = undefined;
        const error = reason instanceof HessboundError ? reason : new HessboundError('KERNEL', `the WebAssembly worker thread stopped: ${reason}`);
        for (const p of pending.values()) p.reject(error);
        pending.clear();
      },
    });
    thread = t;
    return t;
  };

  const post = (p: Pending) => {
    const t = ensureThread();
    t.busy?.(true);
    t.post(p.request);
  };

  function call<T>(method: ThreadRequest['method'], args: unknown[], onProgress?: ProgressCallback, signal?: AbortSignal): Promise<T> {
    const effective = effectiveSignal(signal);
    throwIfAborted(effective);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const abortCall = () => {
        if (!pending.delete(id)) return;
        reject(abortedError(effective));
        // Stop the WebAssembly now; whatever else was queued goes to a new thread.
        const old = thread;
        thread = undefined;
        old?.terminate();
        for (const other of pending.values()) post(other);
      };
      // A callback that throws gets no more progress; the call finishes and rejects with its error,
      // as on the native backend and in-thread.
      const guard = guardProgress(onProgress);
      let unsubscribe = () => {};
      const settle = (outcome: () => void) => {
        unsubscribe();
        try {
          guard.rethrow();
        } catch (error) {
          return reject(error as Error);
        }
        outcome();
      };
      pending.set(id, {
        request: { id, method, args, progress: onProgress !== undefined },
        onProgress: guard.callback,
        resolve: (v) => settle(() => resolve(v as T)),
        reject: (e) => settle(() => reject(e)),
      });
      if (effective) unsubscribe = onAbort(effective, abortCall);
      post(pending.get(id) as Pending);
    });
  }

  return {
    name: inThread.name,
    linalg: inThread.linalg,
    ...(inThread.wasmSimd ? { wasmSimd: inThread.wasmSimd } : {}),
    maxDenseBytes: inThread.maxDenseBytes,
    run: (name, spec, options, onProgress, signal) => call('run', [name, spec, options], onProgress, signal),
    hessian: (spec, assembly, maxDenseBytes, onProgress, signal) => call('hessian', [spec, assembly, maxDenseBytes], onProgress, signal),
    hvp: (spec, directions, k) => call('hvp', [spec, directions, k]),
    eigh: (matrix, n, first, last, vectors) => call('eigh', [matrix, n, first, last, vectors]),
    lossGrad: (spec) => inThread.lossGrad(spec),
    wsBounds: (trace, traceOfSquare, n) => inThread.wsBounds(trace, traceOfSquare, n),
    ...(inThread.threadsUsed ? { threadsUsed: () => call<number>('threadsUsed', []) } : {}),
    // WasmKernelBackend's test hook, on the in-thread instance.
    ...('probeAllocation' in inThread ? { probeAllocation: (bytes: number) => (inThread as { probeAllocation(b: number): void }).probeAllocation(bytes) } : {}),
  } as KernelBackend;
}
