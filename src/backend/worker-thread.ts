/**
 * Worker threads for the WebAssembly kernel (its call thread and Emscripten's pthreads) that start
 * under any node flags: `node --input-type=module -e ...` and `node --expose-gc` used to stop them.
 */
import { Worker } from 'node:worker_threads';

type WorkerOptions = ConstructorParameters<typeof Worker>[1];

/**
 * Flags of this process that worker threads refuse. An explicit `execArgv` is checked flag by flag,
 * and V8 and per-process flags (`node --expose-gc`, `--max-old-space-size=...`) are refused with
 * ERR_WORKER_INVALID_EXEC_ARGV; inherited (no `execArgv` given) they are not. Filled from the first
 * refusal, which lists them.
 */
const refusedFlags = new Set<string>();

function refused(arg: string): boolean {
  for (const flag of refusedFlags) if (arg === flag || arg.startsWith(`${flag}=`)) return true;
  return false;
}

/**
 * A worker thread with this process's flags inherited as they are, unless one must go:
 * `--input-type` (node --input-type=module -e ...), which makes a worker that loads a file fail.
 */
export function startWorkerThread(file: string | URL, options: WorkerOptions = {}): Worker {
  if (!process.execArgv.some((a) => a.startsWith('--input-type'))) return new Worker(file, options);
  for (let attempt = 0; ; attempt++) {
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type') && !refused(a));
    try {
      return new Worker(file, { execArgv, ...options });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const listed = e.code === 'ERR_WORKER_INVALID_EXEC_ARGV' ? /flags: (.+)$/.exec(e.message)?.[1]?.split(', ') : undefined;
      if (!listed || attempt > 0) throw err;
      for (const flag of listed) refusedFlags.add(flag.split('=')[0] as string);
    }
  }
}

