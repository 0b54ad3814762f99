/**
 * Train/test splits: stratified (each class keeps its share), seeded, and checked so that every
 * class present in the data keeps at least one training sample. Pure.
 */
import { fail } from '../errors.js';
import { createRng } from '../rng.js';
import type { Dataset } from '../types.js';

export interface DataSplit {
  train: Dataset;
  test: Dataset;
  /** Indices into the original data, ascending. */
  trainIndices: number[];
  testIndices: number[];
  /** What produced the split, for the record. */
  fraction: number;
  seed: number;
}

/** The class of each sample: its label, or the argmax of its soft target. */
export function classOf(data: Dataset): Int32Array {
  if (data.labels) return data.labels;
  const out = new Int32Array(data.n);
  for (let i = 0; i < data.n; i++) {
    let best = 0;
    for (let k = 1; k < data.classes; k++) if ((data.targets[i * data.classes + k] as number) > (data.targets[i * data.classes + best] as number)) best = k;
    out[i] = best;
  }
  return out;
}

/** The samples at `indices` (in that order), same classes. */
export function selectSamples(data: Dataset, indices: readonly number[], suffix: string): Dataset {
  const { d, classes } = data;
  const x = new Float64Array(indices.length * d);
  const targets = new Float64Array(indices.length * classes);
  const labels = data.labels ? new Int32Array(indices.length) : null;
  indices.forEach((source, i) => {
    x.set(data.x.subarray(source * d, (source + 1) * d), i * d);
    targets.set(data.targets.subarray(source * classes, (source + 1) * classes), i * classes);
    if (labels && data.labels) labels[i] = data.labels[source] as number;
  });
  return { n: indices.length, d, classes, x, targets, labels, ...(data.name ? { name: `${data.name}-${suffix}` } : {}) };
}

export function checkTestFraction(fraction: unknown): number {
  if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction <= 0 || fraction >= 1)
    fail('BAD_OPTION', `testFraction must be a number strictly between 0 and 1, got ${String(fraction)}`, 'e.g. 0.2 holds out a fifth of each class for testing');
  return fraction;
}

/**
 * Holds out round(fraction x count) samples of each class (seeded shuffle within the class).
 * Throws when the split leaves a class without training samples or takes no test sample at all.
 */
export function stratifiedSplit(data: Dataset, fraction: number, seed: number): DataSplit {
  checkTestFraction(fraction);
  if (!Number.isSafeInteger(seed) || seed < 0) fail('BAD_OPTION', `the split seed must be a non-negative integer, got ${String(seed)}`);
  const cls = classOf(data);
  const rng = createRng(seed);
  const byClass = new Map<number, number[]>();
  cls.forEach((k, i) => {
    const list = byClass.get(k) ?? [];
    list.push(i);
    byClass.set(k, list);
  });
  const test: number[] = [];
  for (const [k, members] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
    const take = Math.round(fraction * members.length);
    if (take >= members.length)
      fail('BAD_OPTION', `a test fraction of ${fraction} leaves class ${k} (${members.length} sample${members.length === 1 ? '' : 's'}) with no training sample`, 'lower --test-fraction, or give a separate test file with --test-data');
    test.push(...rng.shuffle([...members]).slice(0, take));
  }
  if (test.length === 0) fail('BAD_OPTION', `a test fraction of ${fraction} of ${data.n} samples holds out no sample`, 'raise --test-fraction');
  const testIndices = test.sort((a, b) => a - b);
  const held = new Set(testIndices);
  const trainIndices = Array.from({ length: data.n }, (_, i) => i).filter((i) => !held.has(i));
  return { train: selectSamples(data, trainIndices, 'train'), test: selectSamples(data, testIndices, 'test'), trainIndices, testIndices, fraction, seed };
}

/** Checks that a separate test set fits the training data (features and classes). */
export function checkTestData(train: Dataset, test: Dataset): Dataset {
  if (test.d !== train.d)
    fail('SHAPE_MISMATCH', `the test data has ${test.d} feature${test.d === 1 ? '' : 's'}, the training data ${train.d}`, 'the test file must have the same feature columns as the training data');
  if (test.classes !== train.classes) {
    if (test.labels && test.classes < train.classes) {
      // A test file that happens to lack the highest labels: widen its one-hot targets.
      const targets = new Float64Array(test.n * train.classes);
      test.labels.forEach((k, i) => (targets[i * train.classes + k] = 1));
      return { ...test, classes: train.classes, targets };
    }
    fail('SHAPE_MISMATCH', `the test data has ${test.classes} classes, the training data ${train.classes}`, 'the test labels must use the training classes 0..C-1');
  }
  return test;
}
