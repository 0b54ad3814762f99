/**
 * Data set ids in Node: embedded names, synthetic:..., and file:PATH. Embedded data sets and CSV
 * files are standardized per feature (as the CLI's --dataset and --data do); a test set is
 * standardized with its training set's means and deviations, never its own.
 */
import { standardize } from '../data.js';
import { parseDatasetId, loadDatasetById } from '../sweep/dataset-id.js';
import type { Dataset } from '../types.js';
import { isContentDatasetId, loadContentDataset } from '../queue/content-data.js';
import { loadDataset, readDataFile } from './datasets.js';

/** The raw data of an id and whether the CLI would standardize it. */
function raw(id: string): { data: Dataset; standardized: boolean } {
  // sha256:<hash> ids: file data a queue worker fetched into its local cache, already prepared by the coordinator.
  if (isContentDatasetId(id)) return { data: loadContentDataset(id), standardized: false };
  const parsed = parseDatasetId(id);
  if (parsed.kind === 'embedded') return { data: loadDataset(parsed.name, { standardize: false }), standardized: true };
  // Every data file format is standardized, as in the CLI (docs/formats.md).
  if (parsed.kind === 'file') return { data: readDataFile(parsed.path), standardized: true };
  return { data: loadDatasetById(id), standardized: false };
}

/** Per-feature mean and deviation, with constant features mapped to 0 (as standardize does). */
function featureStats(data: Dataset): { mean: Float64Array; std: Float64Array } {
  const { n, d, x } = data;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let m = 0;
    let largest = 0;
    for (let i = 0; i < n; i++) (m += x[i * d + j] as number), (largest = Math.max(largest, Math.abs(x[i * d + j] as number)));
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += ((x[i * d + j] as number) - m) ** 2;
    const s = Math.sqrt(v / n);
    mean[j] = m;
    std[j] = s <= 1e-12 * largest ? 0 : s;
  }
  return { mean, std };
}

/** `target` standardized with the statistics of `reference` (same feature count). */
export function standardizeLike(reference: Dataset, target: Dataset): Dataset {
  if (reference.d !== target.d) return target; // checkTestData reports the mismatch
  const { mean, std } = featureStats(reference);
  const x = target.x.map((v, k) => {
    const j = k % target.d;
    return std[j] === 0 ? 0 : (v - (mean[j] as number)) / (std[j] as number);
  });
  return { ...target, x };
}

/** A training data set by id, as the sweep loads it. */
export function loadDataById(id: string): Dataset {
  const { data, standardized } = raw(id);
  return standardized ? standardize(data) : data;
}

/** A test data set by id, transformed like the training data set `trainId`. */
export function loadTestDataById(id: string, trainId: string): Dataset {
  const train = raw(trainId);
  const test = raw(id).data;
  return train.standardized ? standardizeLike(train.data, test) : test;
}
