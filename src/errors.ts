/**
 * Every error hessbound raises on purpose: `code` is stable for programs, `message` says what was
 * wrong and `hint` what to do about it.
 */
export type ErrorCode =
  | 'BAD_MODEL'
  | 'BAD_DATA'
  | 'BAD_OPTION'
  | 'SHAPE_MISMATCH'
  | 'NON_FINITE'
  | 'BAD_LABELS'
  | 'BAD_ACTIVATION'
  | 'TOO_LARGE'
  | 'IO'
  | 'BACKEND'
  | 'KERNEL'
  /** The caller cancelled (AbortSignal, Ctrl-C, SIGTERM). */
  | 'ABORTED';

export class HessboundError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(hint ? `${message}\n  hint: ${hint}` : message);
    this.name = 'HessboundError';
    this.code = code;
    this.hint = hint;
  }
}

export function fail(code: ErrorCode, message: string, hint?: string): never {
  throw new HessboundError(code, message, hint);
}
