/**
 * Diagnostics must not accuse healthy points (issue 21): GELU/SiLU saturation from |sigma'| (their
 * negative-slope region is curvature, not flatness), 'rank-one' only from eigenvalues that show it
 * (never from tr(H)^2/tr(H^2), which an indefinite H meets at any rank), and no lambda_2/lambda_1
 * from unconverged Ritz values.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { wsBound } from '../src/bound.js';
import { computeDiagnostics } from '../src/analysis/diagnostics.js';
import { activationSlope } from '../src/analysis/forward.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import type { Activation, Model } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';

const iris = loadDataset('iris');

/** Every hidden pre-activation within 1e-3 of `u` (tiny input weights, bias u), a random output layer. */
function pinnedModel(activation: Activation, u: number): Model {
  const base = randomModel({ inputs: 4, hidden: [8], classes: 3, activation, seed: 5 });
  const [first, output] = base.layers as [Model['layers'][0], Model['layers'][0]];
  return {
    activation,
    layers: [{ ...first, weight: first.weight.map((w) => 1e-4 * w), bias: new Float64Array(8).fill(u) }, output],
  };
}

describe.each(BACKENDS)('diagnostics on the %s backend', (backend) => {
  it.each([
    ['gelu', -1.5],
    ['silu', -2.5],
  ] as const)('%s with every pre-activation at %s is live (negative slope), not saturated', async (activation, u) => {
    // The premise: sigma'(u) is negative there and far from 0 in magnitude.
    expect(activationSlope(activation, u)).toBeLessThan(-0.05);
    const r = await analyze(pinnedModel(activation, u), iris, { backend, method: 'dense' });
    expect(r.diagnostics.saturatedFraction).toBe(0);
    expect(r.diagnostics.collapsedCells).toBe(0);
    expect(r.diagnostics.flags).not.toContain('saturated');
    expect(r.diagnostics.flags).not.toContain('collapsed-cells');
  });

  it.each([
    ['gelu', -12],
    ['silu', -40],
  ] as const)('%s with every pre-activation at %s is still saturated', async (activation, u) => {
    expect(Math.abs(activationSlope(activation, u))).toBeLessThan(1e-8);
    const r = await analyze(pinnedModel(activation, u), iris, { backend, method: 'dense' });
    expect(r.diagnostics.saturatedFraction).toBe(1);
    expect(r.diagnostics.flags).toContain('saturated');
  });

  it('does not flag rank-one from the traces of an indefinite Hessian (bound --dataset iris --hidden 16 --seed 0)', async () => {
    const model = randomModel({ inputs: 4, hidden: [16], classes: 3, activation: 'tanh', seed: 0 });
    const bound = await wsBound(model, iris, { backend });
    const spectrum = await analyze(model, iris, { backend, method: 'dense', k: 2 });
    // What fooled the old rule: a participation ratio below 1, from an indefinite H far from rank one.
    expect(bound.diagnostics.effectiveRank!).toBeLessThan(1.001);
    expect(spectrum.lambdaMin!).toBeLessThan(-0.5 * spectrum.lambdaMax!);
    expect(spectrum.diagnostics.lambdaRatio!).toBeGreaterThan(0.5);
    expect(bound.diagnostics.flags).not.toContain('rank-one');
    expect(spectrum.diagnostics.flags).not.toContain('rank-one');
  });

  it('reports no lambda_2 / lambda_1 from unconverged Ritz values', async () => {
    const model = randomModel({ inputs: 4, hidden: [16], classes: 3, activation: 'tanh', seed: 0 });
    const r = await analyze(model, iris, { backend, method: 'lanczos', which: 'largest', k: 2, maxIterations: 4 });
    expect(r.converged).toBe(false);
    expect(r.lambdaMax).toBeNull();
    expect(r.topEigenvalues.length).toBe(2);
    expect(r.diagnostics.lambdaRatio).toBeNull();
    expect(r.diagnostics.flags).toContain('eigensolver-not-converged');
    expect(r.diagnostics.flags).not.toContain('rank-one');
    // Converged, the same call does report it.
    const done = await analyze(model, iris, { backend, method: 'lanczos', which: 'largest', k: 2 });
    expect(done.converged).toBe(true);
    expect(done.diagnostics.lambdaRatio).toBeCloseTo(done.topEigenvalues[1]! / done.topEigenvalues[0]!, 12);
  });
});

describe('the rank-one rule', () => {
  const model = randomModel({ inputs: 4, hidden: [3], classes: 3, activation: 'tanh', seed: 1 });
  const at = (topEigenvalues: number[], lambdaMin?: number) =>
    computeDiagnostics({ model, data: iris, loss: 1, gradient: new Float64Array(27), topEigenvalues, ...(lambdaMin !== undefined ? { lambdaMin } : {}), trace: 1, traceOfSquare: 1 }).flags;

  it('flags a Hessian whose other eigenvalues are all tiny next to lambda_1', () => {
    expect(at([2, 1e-4], -1e-5)).toContain('rank-one');
    expect(at([2, 1e-4])).toContain('rank-one');
  });

  it('does not flag a large negative lambda_2 or lambda_min', () => {
    expect(at([2, -1])).not.toContain('rank-one');
    expect(at([2, 1e-4], -1)).not.toContain('rank-one');
  });

  it('does not flag from tr(H)^2 / tr(H^2) = 1 alone', () => {
    expect(at([])).not.toContain('rank-one');
  });
});
