/**
 * Ctrl-C (SIGINT) and SIGTERM for every command: cancel the running kernel call (the ambient signal
 * of backend/cancel.ts), let the command's hooks say where partial results are, and exit with
 * 128 + signal number (130, 143) — never an abort. Results that commands stream to disk (sweep
 * rows) are complete on disk before this runs.
 */
import { setAmbientSignal } from '../backend/cancel.js';
import { HessboundError } from '../errors.js';

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type Hook = (signal: keyof typeof EXIT_CODES) => void;
const hooks: Hook[] = [];

/** Registers a hook run on SIGINT/SIGTERM before exiting (e.g. to print where partial results are). */
export function onInterrupt(hook: Hook): void {
  hooks.push(hook);
}

const installed = new Map<keyof typeof EXIT_CODES, () => void>();

/**
 * For a command with its own signal handling (`hessbound worker` finishes its points and exits 0):
 * removes the handlers installExitSignals set, so signals no longer cancel kernel calls or exit.
 */
export function releaseExitSignals(): void {
  for (const [signal, listener] of installed) process.off(signal, listener);
  installed.clear();
  setAmbientSignal(undefined);
}

export function installExitSignals(): void {
  const controller = new AbortController();
  setAmbientSignal(controller.signal);
  for (const signal of Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]) {
    const listener = () => {
      installed.clear();
      controller.abort(new HessboundError('ABORTED', `interrupted by ${signal}`));
      for (const hook of hooks) {
        try {
          hook(signal);
        } catch {
          // exiting anyway
        }
      }
      // A native kernel call stops at its next progress check; give it a moment to unwind so the
      // process does not exit under a running BLAS call, then exit regardless.
      setTimeout(() => process.exit(EXIT_CODES[signal]), 200).unref();
      process.exitCode = EXIT_CODES[signal];
    };
    installed.set(signal, listener);
    process.once(signal, listener);
  }
}
