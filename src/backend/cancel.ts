/**
 * Cancellation of kernel calls. Each long call takes an AbortSignal; besides it, an "ambient" signal
 * (set by the CLI for Ctrl-C/SIGTERM) cancels whatever kernel call is running, so every command is
 * interruptible without threading a signal through it. Browser-safe.
 */
import { HessboundError } from '../errors.js';

let ambient: AbortSignal | undefined;

/** Sets (or clears) the signal every kernel call also listens to. */
export function setAmbientSignal(signal: AbortSignal | undefined): void {
  ambient = signal;
}

/** The call's signal combined with the ambient one (undefined when there is neither). */
export function effectiveSignal(signal?: AbortSignal): AbortSignal | undefined {
  if (signal && ambient) return AbortSignal.any([signal, ambient]);
  return signal ?? ambient;
}

export function abortedError(signal?: AbortSignal): HessboundError {
  const reason = signal?.reason;
  if (reason instanceof HessboundError && reason.code === 'ABORTED') return reason;
  const why = reason instanceof Error ? `: ${reason.message}` : typeof reason === 'string' ? `: ${reason}` : '';
  return new HessboundError('ABORTED', `the computation was cancelled${why}`, 'the call was cancelled on request; run it again to get a result');
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortedError(signal);
}

/**
 * A flag the kernel polls (native: read on the worker thread; WebAssembly in a worker: via Atomics),
 * set when `signal` aborts. `done()` detaches the listener.
 */
export function cancelFlag(signal: AbortSignal | undefined, shared = false): { flag: Int32Array | undefined; done: () => void } {
  if (!signal) return { flag: undefined, done: () => undefined };
  const flag = new Int32Array(shared && typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(4) : new ArrayBuffer(4));
  const onAbort = () => Atomics.store(flag, 0, 1);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return { flag, done: () => signal.removeEventListener('abort', onAbort) };
}

/**
 * `work`, or an ABORTED rejection as soon as `signal` aborts, whichever comes first. For calls that
 * cannot stop at once (LAPACK inside a native call polls no flag): the caller is released
 * immediately and the abandoned call finishes in the background, its result discarded; callers
 * queued behind it still wait for it (the call queue holds its slot), so memory is not doubled.
 */
export function settleOnAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(abortedError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(abortedError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
