/** Seeded label noise for the study's label-noise axis: a fraction of training labels set to another class. Pure. */
import { fail } from '../errors.js';
import { createRng } from '../rng.js';
import type { Dataset } from '../types.js';
import { classOf } from '../analysis/split.js';

/**
 * round(fraction x n) samples, chosen by a seeded shuffle, get a label drawn uniformly from the
 * other classes (so every chosen label really changes); targets become their one-hot rows.
 */
export function corruptLabels(data: Dataset, fraction: number, seed: number): { data: Dataset; changed: number[] } {
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1))
    fail('BAD_OPTION', `the label-noise fraction must be in [0, 1], got ${String(fraction)}`, 'e.g. 0.1 corrupts a tenth of the training labels');
  if (fraction === 0) return { data, changed: [] };
  if (data.classes < 2) fail('BAD_DATA', 'label noise needs at least two classes');
  const rng = createRng(seed);
  const order = rng.shuffle(Array.from({ length: data.n }, (_, i) => i));
  const changed = order.slice(0, Math.round(fraction * data.n)).sort((a, b) => a - b);
  const labels = Int32Array.from(classOf(data));
  for (const i of changed) {
    const shift = 1 + rng.int(data.classes - 1);
    labels[i] = ((labels[i] as number) + shift) % data.classes;
  }
  const targets = new Float64Array(data.n * data.classes);
  labels.forEach((y, i) => (targets[i * data.classes + y] = 1));
  return { data: { ...data, targets, labels, ...(data.name ? { name: `${data.name}-noise${fraction}` } : {}) }, changed };
}
