/**
 * The training protocol (issue 8): defined points under the sweep defaults, target-loss stopping,
 * test splits and their errors, diagnostics flags, and summaries that leave flagged points out.
 */
import { describe, expect, it } from 'vitest';
import { evaluateModel } from '../src/analysis/evaluate.js';
import { stratifiedSplit, checkTestData } from '../src/analysis/split.js';
import { summaryLine } from '../src/cli/commands/demo.js';
import { loadDataset } from '../src/node/datasets.js';
import { randomModel } from '../src/model.js';
import { runPoint } from '../src/sweep/run-point.js';
import { JOB_DEFAULTS } from '../src/sweep/job.js';
import type { SweepResult } from '../src/sweep/result.js';
import { analyze } from '../src/analyze.js';
import { lossAndGradient } from '../src/curvature.js';
import { train } from '../src/train.js';
import { BACKENDS } from './helpers/backends.js';

const iris = loadDataset('iris');
const loadData = (id: string) => loadDataset(id);

describe.each(BACKENDS)('training protocol, %s backend', (backend) => {
  it('under the sweep defaults lambda_max does not depend on the tolerance (1e-6 vs 1e-10, to 1e-4)', async () => {
    expect(JOB_DEFAULTS.weightDecay).toBe(1e-3);
    const at = async (gradTol: number) => (await runPoint({ dataset: 'iris', width: 16, seed: 1, gradTol, maxSteps: 50000 }, { backend, loadData })).result;
    const loose = await at(1e-6);
    const tight = await at(1e-10);
    expect(loose.stopReason).toBe('gradTol');
    expect(tight.stopReason).toBe('gradTol');
    expect(Math.abs(loose.lambdaMax - tight.lambdaMax) / tight.lambdaMax).toBeLessThan(1e-4);
    expect(loose.flags).toBe('');
    // The objective's Hessian is H + wd I: its lambda_max and bound shift by exactly the decay.
    expect(loose.objectiveLambdaMax - loose.lambdaMax).toBeCloseTo(1e-3, 14);
    expect(loose.objectiveBound - loose.bound).toBeCloseTo(1e-3, 14);
  });

  it('without weight decay the trained lambda_max is set by the tolerance (why the default changed)', async () => {
    const at = async (gradTol: number) => (await runPoint({ dataset: 'iris', width: 16, seed: 1, gradTol, weightDecay: 0 }, { backend, loadData })).result;
    const loose = await at(1e-6);
    const tight = await at(1e-9);
    expect(loose.lambdaMax / tight.lambdaMax).toBeGreaterThan(10);
    expect(loose.flags).toContain('scale-diverging');
  });

  it('flags the degenerate iris width-4 seed-0 point without weight decay, not the weight-decay point', async () => {
    const bare = (await runPoint({ dataset: 'iris', width: 4, seed: 0, weightDecay: 0 }, { backend, loadData })).result;
    expect(bare.lambdaMax).toBeCloseTo(0.08, 4);
    const flags = bare.flags.split(' ');
    expect(flags).toEqual(expect.arrayContaining(['saturated', 'collapsed-cells', 'rank-one']));
    expect(bare.collapsedCells).toBeGreaterThan(0);
    const decayed = (await runPoint({ dataset: 'iris', width: 4, seed: 0 }, { backend, loadData })).result;
    expect(decayed.flags).toBe('');
    expect(decayed.saturatedFraction).toBeLessThan(0.5);
  });

  it('stops at the target loss and says so', async () => {
    const model = randomModel({ inputs: 4, hidden: [16], classes: 3, activation: 'tanh', seed: 0 });
    const r = await train(model, iris, { targetLoss: 0.2, backend });
    expect(r.stopReason).toBe('targetLoss');
    expect(r.converged).toBe(true);
    expect(r.loss).toBeLessThanOrEqual(0.2);
    expect(r.gradNorm).toBeGreaterThan(1e-6);
    const full = await train(model, iris, { backend, weightDecay: 1e-3 });
    expect(full.stopReason).toBe('gradTol');
    await expect(train(model, iris, { targetLoss: -1, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });

  it('a test fraction trains on the rest; the test figures match an independent evaluation', async () => {
    const model = randomModel({ inputs: 4, hidden: [8], classes: 3, activation: 'tanh', seed: 2 });
    const r = await train(model, iris, { testFraction: 0.2, splitSeed: 3, weightDecay: 1e-3, backend });
    expect(r.trainSamples).toBe(120);
    expect(r.testSamples).toBe(30);
    const split = stratifiedSplit(iris, 0.2, 3);
    const kernel = await lossAndGradient(r.model, split.test, { backend });
    expect(r.testLoss).toBeCloseTo(kernel.loss, 12);
    expect(r.gap).toBeCloseTo(r.trainAccuracy - (r.testAccuracy as number), 15);
    // The Hessian is the training set's: analyze on the training part gives the same loss as training.
    const a = await analyze(r.model, split.train, { backend, method: 'dense', weightDecay: 1e-3 });
    expect(a.loss).toBeCloseTo(r.loss, 12);
    expect(a.hessian).toBe('cross-entropy');
    expect(a.objective?.lambdaMax).toBeCloseTo((a.lambdaMax as number) + 1e-3, 14);
  });
});

describe('test splits', () => {
  it('is stratified and seeded', () => {
    const a = stratifiedSplit(iris, 0.2, 0);
    const b = stratifiedSplit(iris, 0.2, 0);
    const c = stratifiedSplit(iris, 0.2, 1);
    expect(a.testIndices).toEqual(b.testIndices);
    expect(a.testIndices).not.toEqual(c.testIndices);
    const perClass = [0, 1, 2].map((k) => Array.from(a.test.labels as Int32Array).filter((l) => l === k).length);
    expect(perClass).toEqual([10, 10, 10]);
    expect(a.train.n + a.test.n).toBe(150);
  });

  it('refuses fractions outside (0, 1), splits that empty a class, and test data that does not fit', () => {
    for (const f of [0, 1, -0.1, 1.5, Number.NaN]) expect(() => stratifiedSplit(iris, f, 0)).toThrow(/strictly between 0 and 1/);
    const tiny = { n: 3, d: 1, classes: 2, x: Float64Array.from([0, 1, 2]), targets: Float64Array.from([1, 0, 1, 0, 0, 1]), labels: Int32Array.from([0, 0, 1]) };
    expect(() => stratifiedSplit(tiny, 0.6, 0)).toThrow(/class 1 .* no training sample/);
    const wrongFeatures = { ...tiny, d: 3, n: 1 };
    expect(() => checkTestData(iris, wrongFeatures)).toThrow(/3 features, the training data 4/);
    const wrongClasses = { n: 1, d: 4, classes: 5, x: new Float64Array(4), targets: Float64Array.from([0, 0, 0, 0, 1]), labels: Int32Array.from([4]) };
    expect(() => checkTestData(iris, wrongClasses)).toThrow(/5 classes, the training data 3/);
  });

  it('evaluates accuracy and mean cross-entropy', () => {
    const model = randomModel({ inputs: 4, hidden: [3], classes: 3, activation: 'gelu', seed: 1 });
    const e = evaluateModel(model, iris);
    expect(e.samples).toBe(150);
    expect(e.accuracy).toBeGreaterThanOrEqual(0);
    expect(e.loss).toBeGreaterThan(0);
  });
});

describe('summaries', () => {
  const row = (ratio: number, flags: string, testAccuracy: number) => ({ ratio, flags, testAccuracy }) as unknown as SweepResult;
  it('leave flagged points out and say how many', () => {
    const line = summaryLine([row(1.0, 'rank-one saturated', 0.5), row(1.2, '', 0.9), row(1.4, '', 0.95), row(1.3, '', 1)]);
    expect(line).toContain('3 unflagged networks (1 flagged, left out)');
    expect(line).toContain('median bound / lambda_max 1.300');
    expect(line).toContain('median test accuracy 95.0%');
  });
});
