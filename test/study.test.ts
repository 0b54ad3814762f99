/**
 * The study protocol (issue 24): label noise, every network trained to the target loss, those
 * that miss it left out and counted, tau over the rest equal to tau recomputed from the rows,
 * and clear errors for an empty grid, an unknown measure and a target no network reaches.
 */
import { describe, expect, it } from 'vitest';
import { kendallTau } from '../src/analysis/rank-correlation.js';
import { loadDataset } from '../src/node/datasets.js';
import { corruptLabels } from '../src/study/label-noise.js';
import { parseMeasures } from '../src/study/measure-registry.js';
import { study } from '../src/study/study.js';
import { BACKENDS } from './helpers/backends.js';

const iris = loadDataset('iris');

describe('label noise', () => {
  it('changes exactly round(fraction n) labels, each to another class, seeded', () => {
    const { data, changed } = corruptLabels(iris, 0.1, 4);
    expect(changed.length).toBe(15);
    let differ = 0;
    for (let i = 0; i < iris.n; i++) if (data.labels![i] !== iris.labels![i]) differ++;
    expect(differ).toBe(15);
    for (const i of changed) expect(data.targets[i * 3 + data.labels![i]!]).toBe(1);
    expect(corruptLabels(iris, 0.1, 4).changed).toEqual(changed);
    expect(corruptLabels(iris, 0.1, 5).changed).not.toEqual(changed);
    expect(corruptLabels(iris, 0, 4).data).toBe(iris);
    expect(() => corruptLabels(iris, 1.5, 0)).toThrow(/label-noise/);
  });
});

describe('measure names', () => {
  it('all, a list, and an unknown name refused with the known ones', () => {
    expect(parseMeasures('all')).toContain('pacBayesMagnitude');
    expect(parseMeasures('pathNorm, lambdaMax')).toEqual(['pathNorm', 'lambdaMax']);
    expect(() => parseMeasures('pathNorm,sharpest')).toThrow(/unknown measure 'sharpest'[\s\S]*lambdaMax/);
    expect(() => parseMeasures('')).toThrow(/no measure/);
  });
});

describe.each(BACKENDS)('study on iris, %s backend', (backend) => {
  it('trains a 2 x 2 x 2 grid to the target, measures the reached networks, tau equals tau over the rows', async () => {
    const r = await study(iris, {
      grid: { widths: [3, 6], seeds: [0, 1], labelNoise: [0, 0.2] },
      targetLoss: 0.25, measures: ['lambdaMax', 'pathNorm', 'epsSharpness', 'inverseMarginSquared'], backend, resamples: 50, maxSteps: 3000,
    });
    expect(r.networks.length).toBe(8);
    expect(r.reached + r.excluded).toBe(8);
    expect(r.protocol.axes).toEqual(['width', 'seed', 'labelNoise']);
    for (const n of r.networks) {
      expect(n.reached).toBe(n.trainLoss <= 0.25);
      if (!n.reached) expect(Object.values(n.measures).every((v) => v === null)).toBe(true);
    }
    expect(r.reached).toBeGreaterThanOrEqual(3);
    const reached = r.networks.filter((n) => n.reached);
    for (const s of r.statistics) {
      const rows = reached.filter((n) => n.measures[s.measure] !== null);
      expect(s.networks).toBe(rows.length);
      expect(s.tau).toBe(kendallTau(rows.map((n) => n.measures[s.measure]!), rows.map((n) => n.gap)));
    }
    expect(reached.every((n) => n.measures['pathNorm']! > 0)).toBe(true);
  }, 120_000);

  it('a target no network reaches: every network excluded, statistics empty and said so (no tau over nothing)', async () => {
    const r = await study(iris, { grid: { widths: [2], seeds: [0, 1] }, targetLoss: 1e-9, measures: 'pathNorm', backend, maxSteps: 20 });
    expect(r.reached).toBe(0);
    expect(r.excluded).toBe(2);
    expect(r.statistics[0]).toMatchObject({ measure: 'pathNorm', networks: 0, tau: null, granulated: null, tauInterval: { low: null, high: null, resamples: 0 } });
    expect(r.note).toMatch(/no network reached/);
  });

  it('empty grid axes and bad targets are BAD_OPTION errors', async () => {
    await expect(study(iris, { grid: { widths: [], seeds: [0] }, targetLoss: 0.1, backend })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/widths list is empty/) });
    await expect(study(iris, { grid: { widths: [2], seeds: [0], labelNoise: [] }, targetLoss: 0.1, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(study(iris, { grid: { widths: [2], seeds: [0] }, targetLoss: 0, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(study(iris, { grid: { widths: [2], seeds: [0] }, targetLoss: 0.1, measures: 'nope', backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});
