/** The study's training-set-size axis: a seeded subsample of the training split. Pure. */
import { fail } from '../errors.js';
import { createRng } from '../rng.js';
import type { Dataset } from '../types.js';
import { classOf, selectSamples } from '../analysis/split.js';

/**
 * The first `size` samples of one seeded shuffle of the training split (ascending order), so the
 * subsets of one seed are nested: a larger size adds samples and never swaps them. Every class of
 * the training split must keep a sample (else a network could not be trained on it).
 */
export function subsampleTraining(data: Dataset, size: number, seed: number): Dataset {
  if (!Number.isSafeInteger(size) || size < 1 || size > data.n)
    fail('BAD_OPTION', `a training-set size must be an integer from 1 to ${data.n} (the training split), got ${String(size)}`, `e.g. train sizes ${Math.max(1, Math.floor(data.n / 4))},${data.n}`);
  if (size === data.n) return data;
  const order = createRng(seed).shuffle(Array.from({ length: data.n }, (_, i) => i));
  const kept = order.slice(0, size).sort((a, b) => a - b);
  const classes = classOf(data);
  const present = new Set(Array.from(classes));
  const keptClasses = new Set(kept.map((i) => classes[i] as number));
  const missing = [...present].filter((k) => !keptClasses.has(k)).sort((a, b) => a - b);
  if (missing.length > 0)
    fail('BAD_OPTION', `a training subsample of ${size} of ${data.n} samples (seed ${seed}) has no sample of class ${missing.join(', ')}`, 'use a larger training-set size');
  return selectSamples(data, kept, `n${size}`);
}
