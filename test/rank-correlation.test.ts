/**
 * Kendall's tau-b, Jiang's granulated tau and bootstrap intervals against a reference written here
 * by the textbook definition (concordant/discordant pairs and tie counts), hand-computed cases and
 * the example of scipy.stats.kendalltau's documentation.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapInterval, granulatedTau, kendallTau, type Network } from '../src/analysis/rank-correlation.js';
import { createRng } from '../src/rng.js';

/** tau-b = (nc - nd) / sqrt((n0 - n1)(n0 - n2)), n1, n2: pairs tied in x, in y (textbook form). */
function referenceTauB(x: number[], y: number[]): number {
  let nc = 0, nd = 0, tiesX = 0, tiesY = 0;
  const n = x.length;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const dx = x[i]! - x[j]!;
      const dy = y[i]! - y[j]!;
      if (dx === 0) tiesX++;
      if (dy === 0) tiesY++;
      if (dx * dy > 0) nc++;
      else if (dx * dy < 0) nd++;
    }
  const n0 = (n * (n - 1)) / 2;
  return (nc - nd) / Math.sqrt((n0 - tiesX) * (n0 - tiesY));
}

describe('Kendall tau-b', () => {
  it('hand-computed cases and the scipy documentation example', () => {
    expect(kendallTau([1, 2, 3, 4], [1, 2, 3, 4])).toBe(1);
    expect(kendallTau([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
    // pairs: (1,2)+ (1,3)+ (2,3)- -> (2 - 1)/3
    expect(kendallTau([1, 2, 3], [1, 3, 2])).toBeCloseTo(1 / 3, 15);
    // scipy.stats.kendalltau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]) -> -0.47140452079103173
    expect(kendallTau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])).toBeCloseTo(-0.47140452079103173, 14);
  });

  it('equals the textbook definition on random data with many ties', () => {
    const rng = createRng(3);
    for (let trial = 0; trial < 50; trial++) {
      const n = 2 + rng.int(40);
      const x = Array.from({ length: n }, () => rng.int(5));
      const y = Array.from({ length: n }, () => rng.int(4) + 0.5 * x[0]!);
      const constant = new Set(x).size === 1 || new Set(y).size === 1;
      if (constant) expect(kendallTau(x, y)).toBeNull();
      else expect(kendallTau(x, y)).toBeCloseTo(referenceTauB(x, y), 14);
    }
  });

  it('undefined over fewer than two networks or a constant measure: null, never NaN', () => {
    expect(kendallTau([], [])).toBeNull();
    expect(kendallTau([1], [2])).toBeNull();
    expect(kendallTau([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(() => kendallTau([1, 2], [1])).toThrow(/same length/);
    expect(() => kendallTau([1, Number.NaN], [1, 2])).toThrow(/finite/);
  });
});

describe("Jiang's granulated tau", () => {
  // Axes width in {1, 2} and seed in {a, b, c}: six networks.
  const nets: Network[] = [
    { axes: { width: 1, seed: 'a' }, measure: 1, gap: 1 },
    { axes: { width: 2, seed: 'a' }, measure: 2, gap: 3 }, // width group a: concordant
    { axes: { width: 1, seed: 'b' }, measure: 5, gap: 2 },
    { axes: { width: 2, seed: 'b' }, measure: 4, gap: 4 }, // width group b: discordant
    { axes: { width: 1, seed: 'c' }, measure: 3, gap: 0 },
    { axes: { width: 2, seed: 'c' }, measure: 6, gap: 5 }, // width group c: concordant
  ];

  it('per axis the mean tau over groups equal in the other axes, then the mean over axes (by hand)', () => {
    const g = granulatedTau(nets, ['width', 'seed']);
    const width = g.perAxis.find((a) => a.axis === 'width')!;
    expect(width.groups).toBe(3);
    expect(width.tau).toBeCloseTo((1 - 1 + 1) / 3, 15);
    // seed axis, width 1: measures 1,5,3 vs gaps 1,2,0 -> pairs (+,-... ) by the reference
    const seed1 = referenceTauB([1, 5, 3], [1, 2, 0]);
    const seed2 = referenceTauB([2, 4, 6], [3, 4, 5]);
    const seed = g.perAxis.find((a) => a.axis === 'seed')!;
    expect(seed.tau).toBeCloseTo((seed1 + seed2) / 2, 15);
    expect(g.tau).toBeCloseTo((width.tau! + seed.tau!) / 2, 15);
  });

  it('no group with two networks: null with zero groups; no axes: an error', () => {
    const g = granulatedTau(nets.slice(0, 1), ['width', 'seed']);
    expect(g.tau).toBeNull();
    expect(g.perAxis.every((a) => a.tau === null && a.groups === 0)).toBe(true);
    expect(() => granulatedTau(nets, [])).toThrow(/axis/);
  });
});

describe('bootstrap intervals', () => {
  it('resamples networks, seeded: a perfect ranking gives [1, 1]; intervals contain the point estimate here', () => {
    const perfect: Network[] = Array.from({ length: 12 }, (_, i) => ({ axes: { i }, measure: i, gap: 2 * i }));
    const stat = (s: readonly Network[]) => kendallTau(s.map((n) => n.measure), s.map((n) => n.gap));
    const p = bootstrapInterval(perfect, stat, { resamples: 200, seed: 1 });
    expect(p).toMatchObject({ low: 1, high: 1 });
    const rng = createRng(8);
    const noisy: Network[] = Array.from({ length: 40 }, (_, i) => ({ axes: { i }, measure: i + 10 * rng.normal(), gap: i }));
    const point = stat(noisy)!;
    const a = bootstrapInterval(noisy, stat, { resamples: 500, seed: 2 });
    const b = bootstrapInterval(noisy, stat, { resamples: 500, seed: 2 });
    expect(a).toEqual(b);
    expect(a.low!).toBeLessThan(point);
    expect(a.high!).toBeGreaterThan(point);
    expect(a.resamples).toBe(500);
  });

  it('over fewer than two networks: no interval (null), not an interval over nothing', () => {
    const stat = (s: readonly Network[]) => kendallTau(s.map((n) => n.measure), s.map((n) => n.gap));
    expect(bootstrapInterval([], stat)).toEqual({ low: null, high: null, resamples: 0 });
    expect(() => bootstrapInterval([], stat, { level: 2 })).toThrow(/level/);
  });
});
