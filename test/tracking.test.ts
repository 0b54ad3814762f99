/**
 * train({track: K}): the tracked lambda_max and WS bound equal separate analyze / wsBound runs on
 * the same intermediate parameters (recorded with trackParameters, and reproduced by training with
 * maxSteps = that step); tracking does not change the training path; points fall every K steps plus
 * the last one; the JSON lines and the plot are well formed.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { trackJsonLines } from '../src/analysis/tracking.js';
import { wsBound } from '../src/bound.js';
import { flattenParams, randomModel, unflattenParams } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { trackPlotSvg } from '../src/plot/track-plot.js';
import { train } from '../src/train.js';
import { makeJob } from '../src/sweep/job.js';
import { runPoint } from '../src/sweep/run-point.js';
import { BACKENDS } from './helpers/backends.js';
import { relErr } from './helpers/fixtures.js';
import { checkSvg } from './helpers/svg.js';

const iris = loadDataset('iris');
const shallow = randomModel({ inputs: iris.d, hidden: [6], classes: iris.classes, activation: 'tanh', seed: 2 });
const deep = randomModel({ inputs: iris.d, hidden: [4, 3], classes: iris.classes, activation: 'softplus', seed: 1 });

describe.each(BACKENDS)('lambda_max along training on %s', (backend) => {
  it.each([
    ['one hidden layer', shallow],
    ['two hidden layers', deep],
  ] as const)('tracked values equal separate analyze runs on the same parameters (%s)', async (_name, model) => {
    const options = { maxSteps: 23, adamSteps: 15, backend, track: 5 } as const;
    const tracked = await train(model, iris, { ...options, trackParameters: true });
    const points = tracked.track!.points;
    // Every 5 steps from the start, and the last step (23) although it is not a multiple of 5.
    expect(points.map((p) => p.step)).toEqual([0, 5, 10, 15, 20, 23]);
    // The start point is the initial model; the last is the trained one.
    expect(Array.from(points[0]!.parameters!)).toEqual(Array.from(flattenParams(model)));
    expect(Array.from(points.at(-1)!.parameters!)).toEqual(Array.from(flattenParams(tracked.model)));
    for (const p of points) {
      const at = unflattenParams(model, Array.from(p.parameters!));
      const exact = await analyze(at, iris, { method: 'dense', backend });
      expect(relErr(p.lambdaMax, exact.lambdaMax!)).toBeLessThan(1e-9);
      expect(p.lanczosConverged).toBe(true);
      expect(p.lambdaMaxResidual).toBeLessThan(1e-9);
      expect(relErr(p.loss, exact.loss)).toBeLessThan(1e-12);
      const b = await wsBound(at, iris, { backend, orthogonality: false });
      expect(relErr(p.bound, b.bound.upper)).toBeLessThan(1e-10);
      expect(relErr(p.trace, exact.trace!)).toBeLessThan(1e-9);
      expect(p.bound).toBeGreaterThanOrEqual(p.lambdaMax * (1 - 1e-12));
    }
    expect(tracked.track!.boundMethod).toMatch(model === shallow ? /^(dual|primal)$/ : /^dense$/);
    expect(tracked.track!.boundEstimated).toBe(false);

    // Tracking only reads: the tracked run ends where an untracked one does, bit for bit.
    const plain = await train(model, iris, { maxSteps: 23, adamSteps: 15, backend });
    expect(Array.from(flattenParams(plain.model))).toEqual(Array.from(flattenParams(tracked.model)));
    expect(plain.track).toBeUndefined();
  });

  it('the intermediate parameters are reproducible: training with maxSteps = step gives the same lambda_max', async () => {
    const tracked = await train(shallow, iris, { maxSteps: 30, adamSteps: 10, backend, track: 10 });
    for (const p of tracked.track!.points.filter((q) => q.step > 0)) {
      const upTo = await train(shallow, iris, { maxSteps: p.step, adamSteps: 10, backend });
      const exact = await analyze(upTo.model, iris, { method: 'dense', backend });
      expect(relErr(p.lambdaMax, exact.lambdaMax!)).toBeLessThan(1e-9);
      expect(p.loss).toBe(upTo.loss);
    }
  });

  it('writes JSON lines and a valid SVG plot', async () => {
    const r = await train(shallow, iris, { maxSteps: 40, adamSteps: 20, backend, track: 4 });
    const lines = trackJsonLines(r.track!).trim().split('\n');
    expect(lines).toHaveLength(r.track!.points.length);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    for (const key of ['step', 'loss', 'gradNorm', 'lambdaMax', 'bound', 'ratio', 'boundMethod']) expect(first).toHaveProperty(key);
    const svg = trackPlotSvg(r.track!);
    const doc = checkSvg(svg);
    expect(doc.root).toBe('svg');
    expect(doc.count('polyline')).toBeGreaterThanOrEqual(4);
    expect(svg).toContain('training step');
    expect(svg).toContain('WS bound');
  });

  it('sweeps track too: the job field is optional (old keys unchanged) and the record carries the track', async () => {
    const base = { dataset: 'iris', width: 4, seed: 0, maxSteps: 12, adamSteps: 12 };
    expect(makeJob(base).key).toBe(makeJob({ ...base, track: 0 }).key);
    expect(makeJob(base).key).not.toBe(makeJob({ ...base, track: 4 }).key);
    const record = await runPoint({ ...base, track: 4 }, { backend, loadData: () => iris });
    expect(record.track!.points.map((p) => p.step)).toEqual([0, 4, 8, 12]);
    const last = record.track!.points.at(-1)!;
    expect(relErr(last.lambdaMax, record.result.lambdaMax)).toBeLessThan(1e-9);
    expect(relErr(last.bound, record.result.bound)).toBeLessThan(1e-10);
    await expect(runPoint({ ...base, track: -1 }, { backend, loadData: () => iris })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });

  it('refuses bad track options', async () => {
    await expect(train(shallow, iris, { track: 0.5, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(train(shallow, iris, { track: -2, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(train(shallow, iris, { trackParameters: true, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});
