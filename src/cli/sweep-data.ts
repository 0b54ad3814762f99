/**
 * `hessbound sweep --data FILE`: file data enters a sweep by content, not by path. The data set is
 * read (standardized as everywhere in the CLI), serialized canonically, and named
 * `sha256:<hash>` (src/queue/content-data.ts); that id is the jobs' dataset, so the job keys depend
 * on the data itself. The local pool's threads load it from the local content cache; with --queue,
 * the coordinator stores it in Redis once and each worker fetches and verifies it.
 */
import { contentDatasetId, serializeDataset, writeContentCache } from '../queue/content-data.js';
import { fail } from '../errors.js';
import type { Dataset } from '../types.js';
import { str, type ParsedValues } from './args.js';
import { loadData, loadTestData } from './sources.js';

export const SWEEP_DATA_OPTIONS = { data: { type: 'string' }, 'no-standardize': { type: 'boolean' } } as const;

export const SWEEP_DATA_HELP = `  --data FILE             or a data file (JSON {"x","y"} / {"x","targets"}, CSV with the label last, or
                          .npz; standardized unless --no-standardize); it enters the jobs by content hash`;

export interface SweepFileData {
  id: string;
  text: string;
}

function byContent(data: Dataset): SweepFileData {
  const text = serializeDataset(data);
  const id = contentDatasetId(text);
  writeContentCache(id, text);
  return { id, text };
}

/** --data FILE by content (else undefined: the grid names its data sets). */
export function sweepFileData(values: ParsedValues): SweepFileData | undefined {
  if (str(values, 'data') === undefined) return undefined;
  if (str(values, 'dataset') !== undefined || str(values, 'datasets') !== undefined) fail('BAD_OPTION', 'give one of --dataset, --datasets and --data');
  return byContent(loadData(values));
}

/**
 * --test-data FILE by content, standardized with the training data's statistics (as train
 * --test-data does), so that a worker on another machine gets exactly the test set.
 */
export function sweepTestData(values: ParsedValues): SweepFileData | undefined {
  const test = loadTestData(values);
  return test ? byContent(test) : undefined;
}
