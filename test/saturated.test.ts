/**
 * Near-critical points of separable data have nearly one-hot softmax outputs, where 1 - p and p - t
 * cancel catastrophically if computed naively. Three independent evaluations — Kronecker blocks,
 * Hessian-vector products and the closed-form traces — must still agree to ~1e-10.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { wsBound } from '../src/bound.js';
import { hessian, lossAndGradient } from '../src/curvature.js';
import { randomModel } from '../src/model.js';
import { train } from '../src/train.js';
import type { Model } from '../src/types.js';
import { loadDataset } from '../src/node/datasets.js';
import { BACKENDS } from './helpers/backends.js';
import { relErr } from './helpers/fixtures.js';
import { maxRelativeDifference } from './helpers/expect.js';

const iris = loadDataset('iris');

let trained: Model | undefined;

/** A tanh net trained on iris, then its output layer scaled until the mean loss is about `targetLoss`. */
async function confidentNet(targetLoss: number, backend: 'native' | 'wasm'): Promise<Model> {
  trained ??= (await train(randomModel({ inputs: 4, hidden: [6], classes: 3, activation: 'tanh', seed: 3 }), iris, { backend, gradTol: 1e-6, weightDecay: 0 })).model;
  const base = trained;
  const scaled = (factor: number): Model => ({
    ...base,
    layers: base.layers.map((layer, l) =>
      l === base.layers.length - 1 ? { ...layer, weight: layer.weight.map((v) => v * factor), bias: layer.bias?.map((v) => v * factor) ?? null } : layer,
    ),
  });
  let lo = 1;
  let hi = 1e3;
  for (let i = 0; i < 60; i++) {
    const mid = Math.sqrt(lo * hi);
    const { loss } = await lossAndGradient(scaled(mid), iris, { backend });
    if (loss > targetLoss) lo = mid;
    else hi = mid;
  }
  return scaled(hi);
}

describe.each(BACKENDS)('nearly one-hot softmax on the %s backend', (backend) => {
  it.each([1e-6, 1e-10, 1e-14])('loss %s: Kronecker, HVP and closed form agree', async (targetLoss) => {
    const model = await confidentNet(targetLoss, backend);
    const kron = await analyze(model, iris, { backend, method: 'dense', assembly: 'kronecker' });
    expect(kron.loss).toBeGreaterThan(0);
    expect(kron.loss).toBeLessThan(targetLoss * 2);
    const hvp = await analyze(model, iris, { backend, method: 'dense', assembly: 'hvp' });
    const closed = await wsBound(model, iris, { backend, method: 'dual' });
    for (const [name, r] of [['hvp', hvp], ['closed', closed]] as const) {
      expect(relErr(r.trace!, kron.trace!), `${name} trace`).toBeLessThan(1e-9);
      expect(relErr(r.traceOfSquare!, kron.traceOfSquare!), `${name} trace of square`).toBeLessThan(1e-9);
    }
    expect(relErr(hvp.lambdaMax!, kron.lambdaMax!)).toBeLessThan(1e-9);
    const a = await hessian(model, iris, { backend, assembly: 'kronecker' });
    const b = await hessian(model, iris, { backend, assembly: 'hvp' });
    expect(maxRelativeDifference(a.matrix, b.matrix)).toBeLessThan(1e-9);
  });
});
