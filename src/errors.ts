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

/** What to do about an error of each code, for the places that have nothing more specific to say. */
export const DEFAULT_HINTS: Readonly<Record<ErrorCode, string>> = {
  BAD_MODEL: 'a model is {"format": "hessbound.mlp.v1", "activation": ..., "layers": [{"weight": [[...]] (out x in), "bias": [...] | null}, ...]} with at least one hidden layer (README, "Model format")',
  BAD_DATA: 'data is {"x": [[...]], "y": [...]} (integer labels) or {"x": [[...]], "targets": [[...]]}, or a CSV with a header and the integer label last',
  BAD_OPTION: 'see the options in the README ("Library") or hessbound <command> --help',
  SHAPE_MISMATCH: 'the model needs one input per feature and one output per class, and every row the same length',
  NON_FINITE: 'remove NaN and Infinity values; weights so large that the logits overflow need rescaling',
  BAD_LABELS: 'labels are integers 0..c-1; soft targets are rows of non-negative numbers summing to 1',
  BAD_ACTIVATION: 'use one of sigmoid, tanh, softplus, gelu, silu, identity, relu, leaky_relu',
  TOO_LARGE: 'use smaller hidden widths or fewer samples; for spectra of large nets, method lanczos',
  IO: 'check the path, that the file exists and that it can be read or written',
  BACKEND: 'build the native addon (npm run build:native) or use the WebAssembly backend (backend wasm)',
  KERNEL: 'this is a bug in hessbound; please report it with the model and data that caused it',
  ABORTED: 'the call was cancelled on request (AbortSignal, Ctrl-C or SIGTERM); run it again to finish it',
};

export class HessboundError extends Error {
  readonly code: ErrorCode;
  /** Always set: the caller's hint, else the code's default (DEFAULT_HINTS). */
  readonly hint: string;
  /** The same advice in command-line terms (options, not API names), when it differs; the CLI prints it. */
  readonly cliHint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string, cliHint?: string) {
    const known = Object.prototype.hasOwnProperty.call(DEFAULT_HINTS, code);
    const resolved = hint || (known ? DEFAULT_HINTS[code] : DEFAULT_HINTS.KERNEL);
    super(`${message}\n  hint: ${resolved}`);
    this.name = 'HessboundError';
    this.code = code;
    this.hint = resolved;
    this.cliHint = cliHint;
  }
}

export function fail(code: ErrorCode, message: string, hint?: string, cliHint?: string): never {
  throw new HessboundError(code, message, hint, cliHint);
}
