#!/usr/bin/env node
/** hessbound command line: dispatches to a subcommand and turns errors into a message and exit code. */
import { DEFAULT_HINTS, HessboundError, type ErrorCode } from '../errors.js';
import { installNodeMemoryBudget } from '../node/memory-budget.js';
import { analyzeCommand } from './commands/analyze.js';
import { boundCommand } from './commands/bound.js';
import { demoCommand } from './commands/demo.js';
import { sweepCommand } from './commands/sweep.js';
import { trainCommand } from './commands/train.js';
import { workerCommand } from './commands/worker.js';
import type { Subcommand } from './registry.js';
import { spectrumCommand } from './commands/spectrum.js';
import { landscapeCommand } from './commands/landscape.js';
import { studyCommand } from './commands/study.js';
import { infoCommand, versionLine } from './commands/info.js';
import { installExitSignals } from './signals.js';
import { onBackendFallback } from '../backend/select.js';
import { didYouMean } from '../suggest.js';
import { setCommandName } from './args.js';

// Work may use most of what the machine has free right now (HESSBOUND_MAX_MEMORY caps it).
installNodeMemoryBudget();

const SUBCOMMANDS: Subcommand[] = [analyzeCommand, boundCommand, trainCommand, sweepCommand, demoCommand];
SUBCOMMANDS.push(spectrumCommand, landscapeCommand, studyCommand);
SUBCOMMANDS.push(workerCommand);
SUBCOMMANDS.push(infoCommand);

function usage(): string {
  const width = Math.max(...SUBCOMMANDS.map((c) => c.name.length));
  return `hessbound — exact Hessian spectra and the Wolkowicz–Styan sharpness bound for MLPs (smooth, or ReLU a.e.)

Usage: hessbound <command> [options]     (hessbound help <command> or hessbound <command> --help for its options)
       hessbound --version                (version, backend, BLAS, threads)

Commands:
${SUBCOMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
  ${'help'.padEnd(width)}  this text`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${await versionLine()}\n`);
    return 0;
  }
  if (name === 'help' && rest[0] !== undefined) {
    const topic = SUBCOMMANDS.find((c) => c.name === rest[0]);
    if (topic) {
      process.stdout.write(`${topic.help}\n`);
      return 0;
    }
    process.stderr.write(`hessbound: no command '${rest[0]}'${didYouMean(rest[0], SUBCOMMANDS.map((c) => c.name))}\n\n${usage()}\n`);
    return 2;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = SUBCOMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`hessbound: unknown command '${name}'${didYouMean(name, SUBCOMMANDS.map((c) => c.name))}\n\n${usage()}\n`);
    return 2;
  }
  setCommandName(command.name);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  const status = await command.run(rest);
  return typeof status === 'number' ? status : 0;
}

/** Library defaults that name API options, said the command line's way. */
const CLI_HINTS: Partial<Record<ErrorCode, string>> = {
  BAD_OPTION: 'hessbound help <command> lists its options',
  BACKEND: 'build the native addon (npm run build:native) or use WebAssembly: --backend wasm',
};

/** The error's message with its hint in command-line terms: the error's own CLI hint, else the CLI default. */
function withCliHint(error: HessboundError): string {
  const cli = error.cliHint ?? (error.hint === DEFAULT_HINTS[error.code] ? CLI_HINTS[error.code] : undefined);
  if (cli === undefined || !error.message.endsWith(error.hint)) return error.message;
  return `${error.message.slice(0, error.message.length - error.hint.length)}${cli}`;
}

installExitSignals();
// Falling back to WebAssembly is fine, but not silently: one line, once (details: hessbound info).
let fallbackNoted = false;
onBackendFallback((reason, backend) => {
  if (fallbackNoted) return;
  fallbackNoted = true;
  const which = backend === 'wasm-threads' ? 'WebAssembly on worker threads (wasm-threads)' : 'WebAssembly (wasm)';
  process.stderr.write(`hessbound: note: native addon not loaded, using ${which} (${reason.split('\n')[0]}); see hessbound info\n`);
});

/**
 * Errors of the operating system that reach here unwrapped (a full disk under a write, stdout
 * closed or /dev/full): an IO error naming the cause, not a stack trace.
 */
const SYSTEM_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EIO: 'input/output error',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EPIPE: 'the reader of the output went away',
  EBADF: 'the output is closed',
};

function systemError(error: unknown): HessboundError | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !(code in SYSTEM_ERRORS)) return null;
  const path = (error as NodeJS.ErrnoException).path;
  return new HessboundError('IO', `cannot write${path ? ` ${path}` : ''}: ${SYSTEM_ERRORS[code]} (${code})`, 'free some space or choose another output (--out), then run again (sweeps: --resume)');
}

// stdout/stderr write errors arrive as events (EPIPE, ENOSPC on /dev/full): exit with a message, not a crash.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error) => {
    const io = systemError(error) ?? new HessboundError('IO', `cannot write the output: ${(error as Error).message}`);
    if (stream === process.stdout) process.stderr.write(`\nhessbound: error [IO]: ${io.message}\n`);
    process.exit(1);
  });

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (caught: unknown) => {
    const error = systemError(caught) ?? caught;
    if (error instanceof HessboundError && error.code === 'ABORTED' && process.exitCode) return; // Ctrl-C/SIGTERM: exit code set
    if (error instanceof HessboundError) {
      process.stderr.write(`\nhessbound: error [${error.code}]: ${withCliHint(error)}\n`);
      process.exitCode = error.code === 'BAD_OPTION' ? 2 : 1;
    } else {
      process.stderr.write(`\nhessbound: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 70;
    }
  },
);
