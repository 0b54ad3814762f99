/** Training to a near-critical point: convergence on iris, determinism, monotone progress, option checks. */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { HessboundError } from '../src/errors.js';
import { flattenParams, randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { train, type TrainOptions } from '../src/train.js';
import { BACKENDS } from './helpers/backends.js';

const iris = loadDataset('iris');
const model = randomModel({ inputs: iris.d, hidden: [16], classes: iris.classes, activation: 'tanh', seed: 0 });

describe.each(BACKENDS)('train on the %s backend', (backend) => {
  it("evaluates the loss and gradient as analyze() does, to rounding (two hidden layers, gelu and tanh, digits)", async () => {
    // Training has its own evaluation (train_eval.cpp: chunked sums, its own tanh); at the start
    // point (maxSteps 0) it must agree with the Hessian path's forward/backward pass.
    const digits = loadDataset('digits');
    for (const activation of ['gelu', 'tanh'] as const) {
      const start = randomModel({ inputs: digits.d, hidden: [24, 12], classes: digits.classes, activation, seed: 3 });
      const r = await train(start, digits, { backend, maxSteps: 0, weightDecay: 0 });
      const check = await analyze(start, digits, { backend, method: 'lanczos', which: 'largest', bound: false });
      expect(Math.abs(r.loss - check.loss)).toBeLessThanOrEqual(1e-12 * check.loss);
      expect(Math.abs(r.gradNorm - check.gradNorm)).toBeLessThanOrEqual(1e-12 * check.gradNorm);
    }
  });

  it('reaches the gradient tolerance on iris (hidden [16], tanh, seed 0, no weight decay)', async () => {
    const fractions: number[] = [];
    const r = await train(model, iris, { backend, gradTol: 1e-8, weightDecay: 0, onProgress: (f) => fractions.push(f) });
    expect(r.backend).toBe(backend);
    expect(r.converged).toBe(true);
    expect(r.stopReason).toBe('gradTol');
    expect(r.gradNorm).toBeLessThanOrEqual(1e-8);
    expect(r.steps.adam).toBe(200);
    expect(r.steps.lbfgs).toBeGreaterThan(0);
    // The kernel's claim is checked independently by analyze() on the returned model.
    const check = await analyze(r.model, iris, { backend, method: 'lanczos', which: 'largest' });
    expect(check.gradNorm).toBeLessThanOrEqual(1e-8);
    expect(Math.abs(check.loss - r.loss)).toBeLessThanOrEqual(1e-15 + 1e-12 * r.loss);
    // Progress reports rise monotonically and end at 1.
    expect(fractions.at(-1)).toBe(1);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]!).toBeGreaterThanOrEqual(fractions[i - 1]!);
  });

  it('is deterministic: two runs agree to the bit', async () => {
    const options: TrainOptions = { backend, gradTol: 1e-7 };
    const [a, b] = [await train(model, iris, options), await train(model, iris, options)];
    expect(Array.from(flattenParams(a.model))).toEqual(Array.from(flattenParams(b.model)));
    expect(a.loss).toBe(b.loss);
    expect(a.gradNorm).toBe(b.gradNorm);
    expect(a.steps).toEqual(b.steps);
    expect(a.history).toEqual(b.history);
  });

  it('different seeds give different trained models', async () => {
    const other = randomModel({ inputs: iris.d, hidden: [16], classes: iris.classes, activation: 'tanh', seed: 1 });
    const [a, b] = [await train(model, iris, { backend, maxSteps: 50 }), await train(other, iris, { backend, maxSteps: 50 })];
    expect(a.loss).not.toBe(b.loss);
  });

  it('decreases the loss; the L-BFGS phase never increases it', async () => {
    const r = await train(model, iris, { backend, gradTol: 1e-8, weightDecay: 0 });
    const h = r.history;
    expect(h[0]!.step).toBe(0);
    expect(h.at(-1)!.step).toBe(r.steps.adam + r.steps.lbfgs);
    expect(h.length).toBeLessThanOrEqual(200);
    expect(r.loss).toBeLessThan(h[0]!.loss / 100);
    const lbfgs = h.filter((e) => e.step >= r.steps.adam);
    for (let i = 1; i < lbfgs.length; i++) expect(lbfgs[i]!.loss).toBeLessThanOrEqual(lbfgs[i - 1]!.loss * (1 + 1e-9));
  });

  it('does not modify the input model', async () => {
    const before = Array.from(flattenParams(model));
    await train(model, iris, { backend, maxSteps: 20 });
    expect(Array.from(flattenParams(model))).toEqual(before);
  });

  it('stops at maxSteps and reports it', async () => {
    const r = await train(model, iris, { backend, maxSteps: 30, gradTol: 0 });
    expect(r.converged).toBe(false);
    expect(r.stopReason).toBe('maxSteps');
    expect(r.steps.adam + r.steps.lbfgs).toBe(30);
    // The loop's wall and processor time (the kernel's clocks): finite, and some work was timed.
    expect(Number.isFinite(r.seconds) && r.seconds > 0).toBe(true);
    expect(Number.isFinite(r.cpuSeconds) && r.cpuSeconds > 0).toBe(true);
    const none = await train(model, iris, { backend, maxSteps: 0 });
    expect(Array.from(flattenParams(none.model))).toEqual(Array.from(flattenParams(model)));
  });

  it('runs L-BFGS alone (adamSteps 0) and with weight decay to a finite minimiser', async () => {
    const r = await train(model, iris, { backend, adamSteps: 0, gradTol: 1e-8, weightDecay: 0 });
    expect(r.steps.adam).toBe(0);
    expect(r.converged).toBe(true);
    const wd = 1e-3;
    const d = await train(model, iris, { backend, weightDecay: wd, gradTol: 1e-9 });
    expect(d.converged).toBe(true);
    const params = flattenParams(d.model);
    const half = 0.5 * wd * params.reduce((s, v) => s + v * v, 0);
    expect(d.objective).toBeCloseTo(d.loss + half, 14);
    // A finite minimiser: the loss stays well above zero, unlike the separable unregularised run.
    expect(d.loss).toBeGreaterThan(1e-3);
  });

  it('trains deeper nets and sum reduction (no weight decay: the gradient analyze() checks)', async () => {
    const deep = randomModel({ inputs: iris.d, hidden: [8, 8], classes: iris.classes, activation: 'gelu', seed: 3 });
    const r = await train(deep, iris, { backend, reduction: 'sum', gradTol: 1e-6, weightDecay: 0 });
    expect(r.converged).toBe(true);
    const check = await analyze(r.model, iris, { backend, reduction: 'sum', method: 'lanczos', which: 'largest' });
    expect(check.gradNorm).toBeLessThanOrEqual(1e-6);
  });

  it('rejects bad options with clear messages', async () => {
    const bad: Array<[TrainOptions, RegExp]> = [
      [{ gradTol: -1 }, /gradTol must be a number >= 0/],
      [{ gradTol: Number.NaN }, /gradTol/],
      [{ maxSteps: 1.5 }, /maxSteps must be an integer/],
      [{ maxSteps: -1 }, /maxSteps/],
      [{ adamSteps: 2 ** 40 }, /adamSteps/],
      [{ lr: 0 }, /lr must be a positive number/],
      [{ weightDecay: -1e-3 }, /weightDecay/],
      [{ memory: 0 }, /memory/],
      [{ gradtol: 1e-6 } as unknown as TrainOptions, /unknown train option 'gradtol'/],
      [{ reduction: 'max' } as unknown as TrainOptions, /reduction/],
    ];
    for (const [options, message] of bad) {
      const p = train(model, iris, { backend, ...options });
      await expect(p, JSON.stringify(options)).rejects.toThrow(message);
      await expect(p).rejects.toBeInstanceOf(HessboundError);
    }
    const wrongShape = randomModel({ inputs: 3, hidden: [4], classes: 3, activation: 'tanh', seed: 0 });
    await expect(train(wrongShape, iris, { backend })).rejects.toThrow(/input features/);
  });

  it('reports divergence instead of returning NaNs', async () => {
    // Linear activations and a huge step overflow the logits (tanh would saturate instead).
    const linear = randomModel({ inputs: iris.d, hidden: [4], classes: iris.classes, activation: 'identity', seed: 0 });
    const p = train(linear, iris, { backend, lr: 1e200, adamSteps: 50, maxSteps: 50 });
    await expect(p).rejects.toThrow(/diverged|lower the learning rate/);
  });
});
