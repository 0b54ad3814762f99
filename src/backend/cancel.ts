/**
 * Cancellation of kernel calls. Each long call takes an AbortSignal; besides it, an "ambient" signal
 * (set by the CLI for Ctrl-C/SIGTERM) cancels whatever kernel call is running, so every command is
 * interruptible without threading a signal through it. Browser-safe.
 */
import { HessboundError } from '../errors.js';

let ambient: AbortSignal | undefined;
let ambientWord: Int32Array | undefined;

/** Sets (or clears) the signal every kernel call also listens to. */
export function setAmbientSignal(signal: AbortSignal | undefined): void {
  ambient = signal;
}

/**
 * Sets (or clears) a shared word (an Int32Array over a SharedArrayBuffer) that every native kernel
 * call of this thread polls as its cancel flag. Another thread raises it with Atomics.store: the
 * sweep pool does for the point a worker thread runs, so the kernel stops whatever that thread's
 * JavaScript is doing. A message asking the thread to abort is not enough: a thread being terminated
 * runs no more JavaScript, and Node waits for its native call to return before the addon's cleanup
 * hook (which would cancel it) runs, so the call ran to its end (177 s for one training point).
 */
export function setAmbientCancelWord(word: Int32Array | undefined): void {
  ambientWord = word;
}

/** The call's signal combined with the ambient one (undefined when there is neither). */
export function effectiveSignal(signal?: AbortSignal): AbortSignal | undefined {
  if (signal && ambient) return AbortSignal.any([signal, ambient]);
  return signal ?? ambient;
}

// One 'abort' listener per signal, however many calls share it: Node warns
// (MaxListenersExceededWarning) from the eleventh listener on one signal.
const subscribers = new WeakMap<AbortSignal, Set<() => void>>();

/** Runs `listener` once when `signal` aborts; returns the unsubscribe function. */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  let set = subscribers.get(signal);
  if (!set) {
    const created = new Set<() => void>();
    set = created;
    subscribers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        subscribers.delete(signal);
        for (const l of [...created]) l();
      },
      { once: true },
    );
  }
  const entry = () => listener();
  set.add(entry);
  return () => {
    set.delete(entry);
  };
}

/**
 * Options every long call takes, checked before any work: a progress callback must be a function
 * and a signal an AbortSignal (a plain object would fail later as a TypeError deep inside).
 */
export function checkCallOptions(options: { onProgress?: unknown; signal?: unknown } | undefined): void {
  if (!options) return;
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
    throw new HessboundError('BAD_OPTION', `onProgress must be a function (fraction => ...), got ${typeof options.onProgress}`, 'pass a function, or leave onProgress out');
  const s = options.signal as { aborted?: unknown; addEventListener?: unknown } | undefined;
  const isSignal = typeof AbortSignal === 'function' ? s instanceof AbortSignal : typeof s?.aborted === 'boolean' && typeof s?.addEventListener === 'function';
  if (s !== undefined && !isSignal)
    throw new HessboundError('BAD_OPTION', 'signal must be an AbortSignal', 'pass controller.signal of an AbortController, or leave signal out');
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
  // This thread's shared word, when set, is the flag: raised by the signal here or by another thread.
  if (!signal) return { flag: ambientWord, done: () => undefined };
  const flag = ambientWord ?? new Int32Array(shared && typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(4) : new ArrayBuffer(4));
  const raise = () => Atomics.store(flag, 0, 1);
  if (signal.aborted) {
    raise();
    return { flag, done: () => undefined };
  }
  return { flag, done: onAbort(signal, raise) };
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
    const stop = onAbort(signal, () => {
      work.catch(() => {});
      reject(abortedError(signal));
    });
    work.then(
      (value) => {
        stop();
        resolve(value);
      },
      (error: unknown) => {
        stop();
        reject(error);
      },
    );
  });
}
