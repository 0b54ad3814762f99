/** Synthetic data with controlled pairwise correlation rho between samples. */
import { describe, expect, it } from 'vitest';
import { HessboundError } from '../src/errors.js';
import { pairwiseCosines, syntheticDataset, type SyntheticOptions } from '../src/synthetic.js';

describe('syntheticDataset', () => {
  it.each([0, 0.1, 0.5, 0.9, 0.99])('every pair has cosine exactly rho = %s when n + 1 <= d', (rho) => {
    const data = syntheticDataset({ n: 20, d: 24, classes: 3, rho, seed: 7 });
    expect(data.exactCorrelation).toBe(true);
    const c = pairwiseCosines(data);
    expect(Math.abs(c.mean - rho)).toBeLessThan(1e-13);
    expect(Math.abs(c.min - rho)).toBeLessThan(1e-13);
    expect(Math.abs(c.max - rho)).toBeLessThan(1e-13);
  });

  it('rho = 0 is exact up to n = d (an orthogonal basis scaled by the norm)', () => {
    const data = syntheticDataset({ n: 10, d: 10, classes: 2, rho: 0, seed: 1, norm: 3 });
    expect(data.exactCorrelation).toBe(true);
    const c = pairwiseCosines(data);
    expect(Math.max(Math.abs(c.min), Math.abs(c.max))).toBeLessThan(1e-13);
    for (let i = 0; i < data.n; i++) {
      let sq = 0;
      for (let j = 0; j < data.d; j++) sq += data.x[i * data.d + j]! ** 2;
      expect(Math.sqrt(sq)).toBeCloseTo(3, 12);
    }
  });

  it('default norm is sqrt(d)', () => {
    const data = syntheticDataset({ n: 5, d: 16, classes: 2, rho: 0.3, seed: 2 });
    let sq = 0;
    for (let j = 0; j < data.d; j++) sq += data.x[j]! ** 2;
    expect(Math.sqrt(sq)).toBeCloseTo(4, 12);
  });

  it.each([0, 0.3, 0.8])('has mean cosine rho = %s (in expectation) when n > d', (rho) => {
    const data = syntheticDataset({ n: 200, d: 50, classes: 4, rho, seed: 3 });
    expect(data.exactCorrelation).toBe(false);
    const c = pairwiseCosines(data);
    // Cosines scatter by (1 - rho)/sqrt(d - 1) ~ 0.14 around rho; the mean of ~20000 pairs far less.
    expect(Math.abs(c.mean - rho)).toBeLessThan(0.02);
    expect(c.max - c.min).toBeGreaterThan(0.1);
  });

  it('is deterministic by seed and differs across seeds', () => {
    const opts: SyntheticOptions = { n: 30, d: 12, classes: 3, rho: 0.4, seed: 11 };
    const a = syntheticDataset(opts);
    const b = syntheticDataset(opts);
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(Array.from(a.labels!)).toEqual(Array.from(b.labels!));
    const c = syntheticDataset({ ...opts, seed: 12 });
    expect(Array.from(c.x)).not.toEqual(Array.from(a.x));
  });

  it.each(['mlp', 'centroids'] as const)('%s teacher gives valid, non-degenerate labels even at rho near 1', (teacher) => {
    for (const rho of [0, 0.5, 0.99]) {
      const data = syntheticDataset({ n: 60, d: 80, classes: 3, rho, seed: 5, teacher });
      const counts = [0, 0, 0];
      data.labels!.forEach((l) => counts[l]!++);
      expect(counts.every((c) => c > 0), `${teacher} rho=${rho}: ${counts.join(',')}`).toBe(true);
      for (let i = 0; i < data.n; i++) {
        let sum = 0;
        for (let k = 0; k < data.classes; k++) sum += data.targets[i * data.classes + k]!;
        expect(sum).toBe(1);
        expect(data.targets[i * data.classes + data.labels![i]!]).toBe(1);
      }
    }
  });

  it('gives the same labels for every rho > 0 with the same seed (only the geometry changes)', () => {
    const a = syntheticDataset({ n: 15, d: 20, classes: 3, rho: 0.2, seed: 9 });
    const b = syntheticDataset({ n: 15, d: 20, classes: 3, rho: 0.9, seed: 9 });
    expect(Array.from(a.labels!)).toEqual(Array.from(b.labels!));
  });

  it('rejects bad arguments', () => {
    const base: SyntheticOptions = { n: 10, d: 5, classes: 2, rho: 0.5, seed: 0 };
    const bad: Array<[Partial<SyntheticOptions> & Record<string, unknown>, RegExp]> = [
      [{ n: 1 }, /n must be an integer >= 2/],
      [{ n: 2.5 }, /n must be an integer/],
      [{ d: 0 }, /d must be an integer >= 1/],
      [{ classes: 1 }, /classes must be an integer >= 2/],
      [{ rho: 1 }, /rho must be a number in \[0, 1\)/],
      [{ rho: -0.1 }, /rho/],
      [{ rho: Number.NaN }, /rho/],
      [{ d: 1, rho: 0.5 }, /rho > 0 needs d >= 2/],
      [{ seed: 0.5 }, /seed must be a safe integer/],
      [{ teacher: 'oracle' }, /teacher must be 'mlp' or 'centroids'/],
      [{ norm: 0 }, /norm must be a positive number/],
    ];
    for (const [change, message] of bad) {
      const call = () => syntheticDataset({ ...base, ...change } as SyntheticOptions);
      expect(call, JSON.stringify(change)).toThrow(message);
      expect(call).toThrow(HessboundError);
    }
  });
});
