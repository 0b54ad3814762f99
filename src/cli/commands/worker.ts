/** hessbound worker: serve sweep points from a Redis (BullMQ) queue until stopped. */
import { availableParallelism } from 'node:os';
import { fail } from '../../errors.js';
import { int, num, parse, str } from '../args.js';
import type { Subcommand } from '../registry.js';
import { backendOf } from '../sources.js';
import { releaseExitSignals } from '../signals.js';
import { exitProcessNow } from '../../backend/native.js';

const HELP = `hessbound worker — run sweep points from a queue, on this machine, until stopped

Usage: hessbound worker --queue URL [--concurrency N] [--threads T] [--quiet]

  --queue URL             redis://HOST:PORT/DB, or rediss:// for TLS; a password in the URL
                          (redis://:PASSWORD@HOST:6379/0) or in HESSBOUND_REDIS_PASSWORD
  --concurrency N         points at once, each on its own thread (default: one per core, ${availableParallelism()} here)
  --threads T             BLAS threads per point (default: cores / concurrency, as a local sweep)
  --backend B             native | wasm | wasm-threads: backend for points whose sweep did not choose one
  --lock-duration MS      a point whose worker stops answering goes back to the queue after MS
                          milliseconds (default 30000)
  --max-steps N           refuse jobs asking for more training steps (default 100000)
  --max-seconds S         stop and fail a point that runs longer (default 3600)
  --max-memory GB         refuse jobs whose memory plan needs more (default: 80% of free memory)
  --quiet                 no line per point

Jobs are checked before anything is fetched or run: data only by content hash or by name (a path in
a job is refused, never opened), the limits above, and with HESSBOUND_QUEUE_KEY set, only jobs
signed with that key (the coordinator signs with the same variable). Failure reasons quote no input.

Start the sweep with 'hessbound sweep ... --queue URL' (on any machine that reaches Redis). The
worker also computes the sample-pair tiles of a single point split by 'hessbound bound --queue URL'
or 'analyze --queue URL' (each tile's sums stored once in Redis, whoever computes it). Ctrl-C or
SIGTERM: the running points go back to the queue (another worker takes them) and the worker exits
within a second; a second signal exits at once. A worker killed outright loses nothing: its points go to another worker once the lock expires.
Same results as a local sweep, to the bit, for the same backend and --threads. See docs/distributed.md.`;

const OPTIONS = {
  queue: { type: 'string' },
  concurrency: { type: 'string' },
  threads: { type: 'string' },
  backend: { type: 'string' },
  'lock-duration': { type: 'string' },
  'max-steps': { type: 'string' },
  'max-seconds': { type: 'string' },
  'max-memory': { type: 'string' },
  quiet: { type: 'boolean' },
} as const;

async function run(argv: string[]): Promise<void> {
  const values = parse(argv, OPTIONS);
  const url = str(values, 'queue');
  if (url === undefined) fail('BAD_OPTION', 'no --queue given', 'e.g. hessbound worker --queue redis://localhost:6379/0');
  const concurrency = int(values, 'concurrency', undefined, 1);
  const threads = int(values, 'threads', undefined, 1);
  const lockDuration = int(values, 'lock-duration', undefined, 100);
  const backend = backendOf(values);
  const maxSteps = int(values, 'max-steps', undefined, 1);
  const maxSeconds = int(values, 'max-seconds', undefined, 1);
  const maxMemoryGb = num(values, 'max-memory');
  if (maxMemoryGb !== undefined && !(maxMemoryGb > 0)) fail('BAD_OPTION', `--max-memory must be a positive number of gigabytes, got ${maxMemoryGb}`);
  const quiet = values['quiet'] === true;
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const { startQueueWorker } = await import('../../queue/worker.js');
  const worker = await startQueueWorker({
    url,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(backend ? { backend } : {}),
    ...(lockDuration !== undefined ? { lockDuration } : {}),
    limits: {
      ...(maxSteps !== undefined ? { maxSteps } : {}),
      ...(maxSeconds !== undefined ? { maxSeconds } : {}),
      ...(maxMemoryGb !== undefined ? { maxMemoryBytes: maxMemoryGb * 1e9 } : {}),
    },
    ...(quiet ? {} : { log }),
  });
  log(`hessbound worker: serving ${worker.connection.display} with ${worker.concurrency} point(s) at once x ${worker.blasThreads} BLAS thread(s)`);

  // The worker handles its own signals. The first hands the running points back to the queue
  // (another worker takes them at once; nothing is lost, results are the same bits) and exits within
  // a second; a second exits at once. Finishing a point first could take hours, and a point still
  // computing after it was handed back would run twice.
  releaseExitSignals();
  await new Promise<void>((resolve) => {
    let signals = 0;
    const stop = (signal: string) => {
      signals++;
      if (signals > 1) {
        log(`${signal} again: exiting now`);
        exitProcessNow(0);
      }
      log(`${signal}: handing the running point(s) back to the queue and exiting`);
      // Redis may be slow or gone, or a thread inside LAPACK (which polls no cancel flag): exit within
      // a second regardless, without joining threads (an unacknowledged point returns when its lock
      // expires; process.exit() would wait for the LAPACK call).
      setTimeout(() => {
        log('hessbound worker: stopped (hand-back or thread stop not confirmed within 0.9 s)');
        exitProcessNow(0);
      }, 900).unref();
      worker.handBack().then(resolve, resolve);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  log('hessbound worker: stopped');
  // The points are back in the queue and the pool's threads have ended (their kernel calls stopped
  // at the raised cancel word): nothing is left for process.exit() to wait for.
  process.exit(0);
}

export const workerCommand: Subcommand = { name: 'worker', summary: 'serve sweep points from a Redis queue (hessbound sweep --queue)', help: HELP, run };
