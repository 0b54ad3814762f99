/** `--queue URL` for bound and analyze: one point's closed-form tiles on queue workers (src/queue/tile-coordinator.ts). */
import type { TileSource } from '../split/tile-sums.js';
import type { BackendName } from '../types.js';
import { fail } from '../errors.js';
import { int, str, type ParsedValues } from './args.js';

export const SPLIT_OPTIONS = { queue: { type: 'string' }, 'tiles-per-job': { type: 'string' } } as const;

export const SPLIT_HELP = `  --queue URL             split the closed-form traces (one hidden layer, dual evaluation) into
                          sample-pair tiles computed by 'hessbound worker' processes through Redis
                          (BullMQ): redis://HOST:PORT/DB or rediss://; the result has the bits of a
                          local --trace-method dual run (docs/distributed.md). Rerun the same command
                          after a crash: tiles already computed are reused
  --tiles-per-job K       tiles per queue job (default 8; each job repeats the O(N d h) forward pass)`;

/** The queue's TileSource when --queue is given (BullMQ loaded only then). */
export async function tileSourceOf(values: ParsedValues, backend: BackendName | undefined, log: (line: string) => void): Promise<TileSource | undefined> {
  const url = str(values, 'queue');
  const perJob = int(values, 'tiles-per-job', undefined, 1);
  if (url === undefined) {
    if (perJob !== undefined) fail('BAD_OPTION', '--tiles-per-job applies only with --queue', 'add --queue URL, or leave --tiles-per-job out');
    return undefined;
  }
  const { queueTileSource } = await import('../queue/tile-coordinator.js');
  return queueTileSource({ url, ...(perJob !== undefined ? { tilesPerJob: perJob } : {}), ...(backend ? { backend } : {}), log });
}
