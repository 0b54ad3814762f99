/** `--queue URL` for hessbound sweep: the points run on queue workers (src/queue/) instead of local threads. */
import { fail } from '../errors.js';
import type { QueueExecutor } from '../queue/coordinator.js';
import type { BackendName } from '../types.js';
import { str, type ParsedValues } from './args.js';
import type { SweepFileData } from './sweep-data.js';

export const QUEUE_OPTIONS = { queue: { type: 'string' } } as const;

export const QUEUE_HELP = `  --queue URL             run the points on 'hessbound worker' processes through Redis (BullMQ):
                          redis://HOST:PORT/DB or rediss:// (TLS); password in the URL or HESSBOUND_REDIS_PASSWORD`;

export async function queueExecutorOf(values: ParsedValues, workers: number | undefined, backend: BackendName | undefined, fileData: readonly (SweepFileData | undefined)[] = []): Promise<QueueExecutor | undefined> {
  const url = str(values, 'queue');
  if (url === undefined) return undefined;
  if (workers !== undefined) fail('BAD_OPTION', '--workers does not apply with --queue', "the queue's workers decide: start more 'hessbound worker' processes, or give them --concurrency");
  // Loaded only when asked for: BullMQ and ioredis are not needed otherwise.
  const { openQueueExecutor } = await import('../queue/coordinator.js');
  return openQueueExecutor({ url, ...(backend ? { backend } : {}), datasets: new Map(fileData.filter((f): f is SweepFileData => f !== undefined).map((f) => [f.id, f.text])) });
}

/** Where the points ran, for the summary line (the URL without its password). */
export function queueSummary(executor: QueueExecutor, workersAtStart: number): string {
  return `on the queue ${executor.connection.display} (${workersAtStart} worker process(es) connected at the start)`;
}
