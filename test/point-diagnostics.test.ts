/**
 * The point's diagnostics as the kernel measures them (command "diagnose",
 * native/kernel/analysis/point_diagnostics.cpp; what analyze() and wsBound() use) against the TypeScript
 * reference (measurePoint: the backend's loss and gradient plus a forward pass in TypeScript), on
 * every backend: objective, gradient norm and theta . grad F to 1e-12 relative (with and without
 * weight decay), the parameter norm, and the saturation fraction and collapsed cells exactly — on
 * healthy nets, two hidden layers, each activation, and a net built to saturate with colliding
 * codes (inputs repeated with different labels and near-duplicates). Cancellation and bad options.
 */
import { describe, expect, it } from 'vitest';

import { measurePointInKernel } from '../src/analysis/point-diagnostics.js';
import { measurePoint } from '../src/analysis/diagnostics.js';
import { analyze } from '../src/analyze.js';
import { getBackend } from '../src/backend/select.js';
import { lossAndGradient } from '../src/curvature.js';
import { randomModel } from '../src/model.js';
import { toProblemSpec } from '../src/problem.js';
import { createRng } from '../src/rng.js';
import type { Activation, Dataset, Model } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';

function dataset(n: number, d: number, classes: number, seed: number, repeats = false): Dataset {
  const rng = createRng(seed);
  const x = new Float64Array(n * d);
  const labels = new Int32Array(n);
  const targets = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    // With repeats, every third sample copies an earlier input (its label may differ), and every
    // fifth nearly copies one: equal codes, equal or distinct inputs.
    const from = repeats && i >= 3 && i % 3 === 0 ? rng.int(i) : -1;
    for (let j = 0; j < d; j++) {
      const base = from >= 0 ? (x[from * d + j] as number) : rng.normal();
      x[i * d + j] = repeats && i % 5 === 0 && from >= 0 ? base + 1e-9 : base;
    }
    labels[i] = rng.int(classes);
    targets[i * classes + (labels[i] as number)] = 1;
  }
  return { n, d, classes, x, targets, labels };
}

/** randomModel with its weights scaled (large scales saturate the hidden units). */
function scaledModel(d: number, hidden: number[], classes: number, activation: Activation, seed: number, scale: number): Model {
  const m = randomModel({ inputs: d, hidden, classes, activation, seed });
  const rng = createRng(seed + 100);
  return {
    ...m,
    layers: m.layers.map((layer) => ({ ...layer, weight: layer.weight.map((w) => w * scale), bias: layer.bias ? layer.bias.map(() => 0.3 * rng.normal()) : null })),
  };
}

const CASES: { name: string; model: Model; data: Dataset }[] = [
  { name: 'tanh 6-9-3', model: scaledModel(6, [9], 3, 'tanh', 1, 1), data: dataset(57, 6, 3, 1) },
  { name: 'gelu 5-7-4-3 (two hidden layers)', model: scaledModel(5, [7, 4], 3, 'gelu', 2, 1.5), data: dataset(41, 5, 3, 2) },
  { name: 'sigmoid 4-6-2', model: scaledModel(4, [6], 2, 'sigmoid', 3, 2), data: dataset(33, 4, 2, 3) },
  { name: 'softplus 3-5-3', model: scaledModel(3, [5], 3, 'softplus', 4, 3), data: dataset(29, 3, 3, 4) },
  { name: 'silu 3-4-2', model: scaledModel(3, [4], 2, 'silu', 5, 1), data: dataset(25, 3, 2, 5) },
  { name: 'identity 3-4-2', model: scaledModel(3, [4], 2, 'identity', 6, 1), data: dataset(25, 3, 2, 6) },
  { name: 'saturated tanh 2-3-3 with colliding codes', model: scaledModel(2, [3], 3, 'tanh', 7, 400), data: dataset(90, 2, 3, 7, true) },
  { name: 'saturated sigmoid 3-4-5-2, codes in the second layer', model: scaledModel(3, [4, 5], 2, 'sigmoid', 8, 300), data: dataset(60, 3, 2, 8, true) },
];

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe.each(BACKENDS)('point diagnostics in the kernel (%s)', (backendName) => {
  it.each(CASES)('$name: equal to the TypeScript reference', async ({ model, data }) => {
    const backend = await getBackend(backendName);
    const spec = toProblemSpec(model, data);
    const { loss, gradient } = await lossAndGradient(model, data, { backend: backendName });
    for (const weightDecay of [0, 0.01]) {
      const kernel = await measurePointInKernel(backend, spec, model, weightDecay);
      const reference = measurePoint({ model, data, loss, gradient, weightDecay });
      expect(rel(kernel.objective, reference.objective)).toBeLessThan(1e-12);
      expect(rel(kernel.parameterNorm, reference.parameterNorm)).toBeLessThan(1e-14);
      expect(rel(kernel.gradNorm, reference.gradNorm)).toBeLessThan(1e-10);
      expect(Math.abs(kernel.thetaDotGrad - reference.thetaDotGrad)).toBeLessThanOrEqual(1e-10 * reference.parameterNorm * reference.gradNorm);
      expect(kernel.saturatedFraction).toBe(reference.saturatedFraction);
      expect(kernel.collapsedCells).toBe(reference.collapsedCells);
      expect(kernel.collapsedSamples).toBe(reference.collapsedSamples);
    }
  });

  it('the saturated cases exercise the counts (the reference is not trivially zero)', async () => {
    const [tanh, sigmoid] = CASES.slice(-2).map(({ model, data }) => measurePoint({ model, data, loss: 1, gradient: new Float64Array(0) }));
    expect(tanh!.saturatedFraction).toBeGreaterThan(0.5);
    expect(tanh!.collapsedCells).toBeGreaterThan(0);
    expect(sigmoid!.collapsedCells).toBeGreaterThan(0);
    expect(sigmoid!.collapsedSamples).toBeGreaterThan(sigmoid!.collapsedCells);
  });

  it("analyze() reports the kernel's diagnostics, flags included", async () => {
    const { model, data } = CASES.at(-2)!;
    const r = await analyze(model, data, { backend: backendName, method: 'dense', bound: false });
    expect(r.diagnostics.flags).toEqual(expect.arrayContaining(['saturated', 'collapsed-cells']));
    expect(r.seconds['diagnostics']).toBeGreaterThanOrEqual(0);
  });

  it('is cancellable and rejects bad options', async () => {
    const backend = await getBackend(backendName);
    const { model, data } = CASES[0]!;
    const spec = toProblemSpec(model, data);
    const controller = new AbortController();
    controller.abort();
    await expect(measurePointInKernel(backend, spec, model, 0, controller.signal)).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(backend.run('diagnose', spec, { weightDecay: -1 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});
