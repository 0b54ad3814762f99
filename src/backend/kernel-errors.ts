/** Turns errors thrown by either kernel (carrying a `code`) into HessboundError with a hint. */
import { HessboundError, type ErrorCode } from '../errors.js';

const KNOWN: ReadonlySet<string> = new Set<ErrorCode>([
  'BAD_MODEL', 'BAD_DATA', 'BAD_OPTION', 'SHAPE_MISMATCH', 'NON_FINITE', 'BAD_LABELS', 'BAD_ACTIVATION', 'TOO_LARGE', 'IO',
  'BACKEND', 'KERNEL', 'ABORTED',
]);

const HINTS: Partial<Record<ErrorCode, string>> = {
  TOO_LARGE: "use method 'lanczos' (matrix-free, O(P) memory) or a smaller network",
  ABORTED: 'the call was cancelled on request; run it again to get a result',
  KERNEL: 'this is a bug in hessbound; please report it with the model and data that caused it',
};

export function toHessboundError(error: unknown): HessboundError {
  if (error instanceof HessboundError) return error;
  const e = error as { code?: unknown; message?: unknown };
  const code = (typeof e?.code === 'string' && KNOWN.has(e.code) ? e.code : 'KERNEL') as ErrorCode;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const hint = message.includes('lanczos') ? undefined : HINTS[code];
  return new HessboundError(code, message, hint);
}

/** Runs a kernel call, sync or async, rethrowing its failures as HessboundError. */
export function wrapKernelCall<T>(call: () => T): T {
  try {
    const result = call();
    if (result instanceof Promise) return result.catch((e: unknown) => Promise.reject(toHessboundError(e))) as T;
    return result;
  } catch (e) {
    throw toHessboundError(e);
  }
}
