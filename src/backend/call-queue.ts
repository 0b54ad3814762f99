/**
 * Native kernel calls one at a time per JS thread, and progress callbacks that may throw.
 *
 * Queue: each native call already uses every core (OpenBLAS threads, the kernel's product threads),
 * so calls running side by side on the libuv pool only oversubscribe the cores; measured, 50
 * concurrent analyze calls took 2.2-4 s against 33-61 ms one after another. Queued, concurrent
 * calls take what the same calls take in sequence. (Sweep workers are separate threads, each with
 * its own queue and one BLAS thread.)
 *
 * Callbacks: an exception thrown by onProgress inside the addon's callback would be an uncaught
 * exception in native code (DEP0168); it is caught here, the call is left to finish, and the call
 * then rejects with the callback's own error, as on the WebAssembly backend.
 */
import type { ProgressCallback } from './types.js';

export type CallQueue = <T>(call: () => Promise<T>) => Promise<T>;

export function createCallQueue(): CallQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(call: () => Promise<T>): Promise<T> => {
    const run = tail.then(call, call);
    tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };
}

/** A progress callback that never throws into the kernel, and what it threw, if anything. */
export function guardProgress(onProgress: ProgressCallback | undefined): {
  callback: ProgressCallback | undefined;
  /** Rethrows the callback's first error (after the kernel call ended). */
  rethrow(): void;
} {
  let thrown: { error: unknown } | undefined;
  const callback = onProgress
    ? (fraction: number) => {
        if (thrown) return;
        try {
          onProgress(fraction);
        } catch (error) {
          thrown = { error };
        }
      }
    : undefined;
  return {
    callback,
    rethrow() {
      if (thrown) throw thrown.error;
    },
  };
}

/** Runs a kernel call with a guarded callback; the callback's error wins over the call's outcome. */
export async function withGuardedProgress<T>(onProgress: ProgressCallback | undefined, call: (progress: ProgressCallback | undefined) => Promise<T>): Promise<T> {
  const guard = guardProgress(onProgress);
  let result: T;
  try {
    result = await call(guard.callback);
  } catch (error) {
    guard.rethrow();
    throw error;
  }
  guard.rethrow();
  return result;
}
