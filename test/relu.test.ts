/**
 * ReLU and leaky-ReLU networks (issue 23): the almost-everywhere Hessian, traces and WS bounds
 * against PyTorch autograd in float64 (test/fixtures/interop/make_relu_fixtures.py: nets with every
 * pre-activation at least 1e-3 away from its kink, relatively) to 1e-10; finite differences away
 * from kinks; the near-kink and dead-units flags; the leaky slope travelling with the model; and
 * every analysis running on a ReLU net. Every test runs on every backend.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { computeDiagnostics } from '../src/analysis/diagnostics.js';
import { forwardPass } from '../src/analysis/forward.js';
import { KINK_DISTANCE, kinkSummary } from '../src/analysis/kinks.js';
import { KinkCounter, smoothRadius } from '../src/analysis/landscape-kinks.js';
import { landscape } from '../src/analysis/landscape.js';
import { landscapePlotSvg } from '../src/plot/landscape-plot.js';
import { spectrum } from '../src/analysis/spectrum.js';
import { wsBoundGradient } from '../src/analysis/bound-gradient.js';
import { wsBound } from '../src/bound.js';
import { hessian, hvp, lossAndGradient } from '../src/curvature.js';
import { toDataset } from '../src/data.js';
import { modelFromSafetensors, modelToSafetensors } from '../src/io/safetensors.js';
import { flattenParams, modelToJson, parseModelJson, randomModel, unflattenParams } from '../src/model.js';
import { createRng } from '../src/rng.js';
import { train } from '../src/train.js';
import type { Dataset, Model } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { expectError } from './helpers/expect.js';
import { loadFixtures, relErr } from './helpers/fixtures.js';

const TOL = 1e-10;
const RELU_FIXTURES = loadFixtures().filter((f) => f.model.activation === 'relu' || f.model.activation === 'leaky_relu');

/** A model with layer 1 replaced: unit 0 exactly on its kink for sample 0, unit 1 dead on all samples. */
function kinkedModel(): { model: Model; data: Dataset } {
  const data = toDataset([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]], [0, 1, 2, 0, 1, 2], { classes: 3 });
  const base = randomModel({ inputs: 3, hidden: [4], classes: 3, activation: 'relu', seed: 5 });
  const w = Float64Array.from(base.layers[0]!.weight);
  const b = Float64Array.of(-0.5, -100, 0.3, 0.2);
  w.set([0.5, 0.25, -0.75], 0);  // u_00 = 0.5 * 1 - 0.5 = 0 exactly
  w.set([0.1, 0.2, 0.3], 3);     // u_n1 = ... - 100 < 0 on every sample: a dead unit
  const layers = [{ ...base.layers[0]!, weight: w, bias: b }, base.layers[1]!];
  return { model: { activation: 'relu', layers }, data };
}

describe('PyTorch autograd fixtures (float64, no sample near a kink)', () => {
  it('cover relu and leaky_relu, one and two hidden layers, soft targets and no biases', () => {
    expect(RELU_FIXTURES.map((f) => f.name).sort()).toEqual(['iris-relu-h8', 'synth-leaky_relu-h6x5', 'synth-relu-h7-soft', 'wine-leaky_relu-h5']);
    const slopes = RELU_FIXTURES.filter((f) => f.model.activation === 'leaky_relu').map((f) => [f.hiddenLayers, f.model.negativeSlope]);
    expect(slopes.sort()).toEqual([[1, 0.05], [2, 0.2]]);
    for (const f of RELU_FIXTURES) {
      const kinks = kinkSummary(f.model, f.data)!;
      expect(kinks.closestKink, f.name).toBeGreaterThanOrEqual(1e-3);
      expect(kinks.nearKinkFraction).toBe(0);
    }
  });

  describe.each(BACKENDS)('%s backend', (backend) => {
    it.each(RELU_FIXTURES.map((f) => [f.name, f] as const))('%s: Hessian eigenvalues, traces and WS bounds to 1e-10', async (_name, f) => {
      const e = f.expected;
      const r = await analyze(f.model, f.data, { backend, method: 'dense', reduction: f.reduction, k: 10 });
      for (const key of ['loss', 'gradNorm', 'trace', 'traceOfSquare', 'lambdaMax', 'lambdaMin'] as const)
        expect(relErr(r[key] as number, e[key]), key).toBeLessThan(TOL);
      const radius = Math.max(Math.abs(e.lambdaMax), Math.abs(e.lambdaMin));
      for (const key of ['upper', 'lowerOfMax', 'lowerOfMin', 'upperOfMin', 'spread'] as const)
        expect(relErr(r.bound![key], e.bound[key], radius), `bound.${key}`).toBeLessThan(TOL);
      r.eigenvalues!.forEach((v, i) => expect(relErr(v, e.eigenvalues[i]!, radius), `eigenvalue ${i}`).toBeLessThan(TOL));
      expect(r.diagnostics.flags).not.toContain('near-kink');
      expect(r.diagnostics.closestKink).toBeGreaterThanOrEqual(1e-3);
    });

    it.each(RELU_FIXTURES.filter((f) => f.hiddenLayers === 1).map((f) => [f.name, f] as const))('%s: the closed form (dual and primal) to 1e-10, its sigma\'\' residual 0 and said so', async (_name, f) => {
      for (const method of ['dual', 'primal'] as const) {
        const r = await wsBound(f.model, f.data, { backend, method, reduction: f.reduction });
        expect(r.closedForm).toBe(true);
        expect(relErr(r.trace, f.expected.trace), `${method} trace`).toBeLessThan(TOL);
        expect(relErr(r.traceOfSquare, f.expected.traceOfSquare), `${method} traceOfSquare`).toBeLessThan(TOL);
        expect(relErr(r.bound.upper, f.expected.bound.upper), `${method} upper`).toBeLessThan(TOL);
        const d = r.decomposition!;
        expect(d.sigmaSecondVanishes).toBe(true);
        expect(d.residual.sigmaSecond).toEqual({ trace: 0, traceOfSquare: 0 });
        expect(d.residual.trace).toBe(0);
      }
    });
  });
});

describe.each(BACKENDS)('finite differences away from kinks (%s)', (backend) => {
  it.each(RELU_FIXTURES.map((f) => [f.name, f] as const))('%s: the Hessian-vector product matches central differences of the gradient', async (_name, f) => {
    const theta = flattenParams(f.model);
    const rng = createRng(3);
    const v = Float64Array.from(theta, () => rng.normal());
    const h = 1e-4;
    // Both evaluation points stay in theta's linear region: no pair changes side.
    const counter = new KinkCounter(f.model, f.data);
    for (const sign of [1, -1]) expect(counter.changesAt(theta.map((t, i) => t + sign * h * v[i]!))).toBe(0);
    const gradientAt = async (step: number) => (await lossAndGradient(unflattenParams(f.model, theta.map((t, i) => t + step * v[i]!)), f.data, { backend, reduction: f.reduction })).gradient;
    const [plus, minus] = [await gradientAt(h), await gradientAt(-h)];
    const [plus2, minus2] = [await gradientAt(h / 2), await gradientAt(-h / 2)];
    const exact = await hvp(f.model, f.data, v, { backend, reduction: f.reduction });
    const scale = exact.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    exact.forEach((x, i) => {
      const coarse = (plus[i]! - minus[i]!) / (2 * h);
      const fine = (plus2[i]! - minus2[i]!) / h;
      expect(Math.abs((4 * fine - coarse) / 3 - x) / scale).toBeLessThan(1e-8);
    });
  });

  it('across a kink they do not: the one-sided Hessians differ, and the point is flagged', async () => {
    const { model, data } = kinkedModel();
    const theta = flattenParams(model);
    // Move along b_0 (index 12: after the 4 x 3 weights): u_00 = b_0 + 0.5 changes side at 0.
    const e = new Float64Array(theta.length);
    e[12] = 1;
    const h = 1e-5;
    const at = async (step: number) => (await lossAndGradient(unflattenParams(model, theta.map((t, i) => t + step * e[i]!)), data, { backend })).gradient[12]!;
    const right = ((await at(2 * h)) - (await at(h))) / h;
    const left = ((await at(-h)) - (await at(-2 * h))) / h;
    expect(Math.abs(right - left)).toBeGreaterThan(1e-3);
    const r = await analyze(model, data, { backend, method: 'dense' });
    expect(r.diagnostics.flags).toEqual(expect.arrayContaining(['near-kink', 'dead-units']));
    expect(r.diagnostics.closestKink).toBe(0);
    expect(r.diagnostics.deadUnits).toBe(1);
  });
});

describe('diagnostics of kinks', () => {
  it('a sample exactly on a kink is flagged near-kink; a unit off on every sample is a dead unit', () => {
    const { model, data } = kinkedModel();
    const k = kinkSummary(model, data)!;
    expect(k.nearKinkPairs).toBe(1);
    expect(k.nearKinkFraction).toBe(1 / (6 * 4));
    expect(k.closestKink).toBe(0);
    expect(k.deadUnits).toBe(1);
    const d = computeDiagnostics({ model, data, loss: 1, gradient: new Float64Array(flattenParams(model).length) });
    expect(d.flags).toEqual(expect.arrayContaining(['near-kink', 'dead-units']));
    // Moving the sample off the kink by more than KINK_DISTANCE clears the flag; the dead unit stays.
    const moved = { ...model, layers: [{ ...model.layers[0]!, bias: Float64Array.of(-0.5 + 1e-3, -100, 0.3, 0.2) }, model.layers[1]!] };
    const d2 = computeDiagnostics({ model: moved, data, loss: 1, gradient: new Float64Array(flattenParams(model).length) });
    expect(d2.flags).not.toContain('near-kink');
    expect(d2.flags).toContain('dead-units');
    expect(d2.nearKinkFraction).toBe(0);
    expect(d2.closestKink!).toBeGreaterThan(KINK_DISTANCE);
  });

  it('leaky_relu units are never dead (sigma\' = slope); smooth activations have no kink numbers', () => {
    const { model, data } = kinkedModel();
    expect(kinkSummary({ ...model, activation: 'leaky_relu', negativeSlope: 0.1 }, data)!.deadUnits).toBe(0);
    const d = computeDiagnostics({ model: { ...model, activation: 'tanh' }, data, loss: 1, gradient: new Float64Array(flattenParams(model).length) });
    expect([d.nearKinkFraction, d.closestKink, d.deadUnits]).toEqual([null, null, null]);
  });

  it('a healthy ReLU net with half its pairs off is not flagged saturated', () => {
    const f = RELU_FIXTURES.find((x) => x.name === 'iris-relu-h8')!;
    const d = computeDiagnostics({ model: f.model, data: f.data, loss: f.expected.loss, gradient: new Float64Array(f.expected.parameters) });
    expect(d.saturatedFraction).toBeGreaterThan(0.3);
    expect(d.flags).not.toContain('saturated');
  });
});

describe('the leaky slope travels with the model', () => {
  const model = randomModel({ inputs: 3, hidden: [5], classes: 3, activation: 'leaky_relu', negativeSlope: 0.3, seed: 2 });
  const data = toDataset([[1, -2, 0.5], [-1, 0.3, 2], [0.2, 0.1, -1], [2, 2, -2]], [0, 1, 2, 1], { classes: 3 });

  it('model JSON and safetensors metadata keep it; 0.01 when absent; refused when meaningless or not finite', () => {
    expect(model.negativeSlope).toBe(0.3);
    expect(modelToJson(model).negativeSlope).toBe(0.3);
    expect(parseModelJson(JSON.stringify(modelToJson(model))).negativeSlope).toBe(0.3);
    const back = modelFromSafetensors(modelToSafetensors(model));
    expect([back.activation, back.negativeSlope]).toEqual(['leaky_relu', 0.3]);
    const { negativeSlope: _dropped, ...withoutSlope } = modelToJson(model);
    expect(parseModelJson(withoutSlope).negativeSlope).toBe(0.01);
    expect(parseModelJson({ ...modelToJson(model), activation: 'nn.LeakyReLU' }).activation).toBe('leaky_relu');
    expect(parseModelJson({ ...withoutSlope, activation: 'nn.ReLU' }).activation).toBe('relu');
    expectError(() => parseModelJson({ ...withoutSlope, activation: 'tanh', negativeSlope: 0.2 }), 'BAD_ACTIVATION', /leaky_relu only/);
    expectError(() => parseModelJson({ ...modelToJson(model), negativeSlope: 'steep' }), 'BAD_ACTIVATION', /finite number/);
    expectError(() => randomModel({ inputs: 2, hidden: [2], classes: 2, activation: 'leaky_relu', negativeSlope: Number.NaN, seed: 0 }), 'BAD_ACTIVATION', /finite number/);
  });

  it.each(BACKENDS)('the kernel uses it (%s): its loss is the TypeScript forward pass\'s with that slope', async (backend) => {
    const crossEntropy = (m: Model) => {
      const { logits } = forwardPass(m, data);
      let total = 0;
      for (let n = 0; n < data.n; n++) {
        const row = Array.from(logits.subarray(3 * n, 3 * n + 3));
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
        total += lse - row[data.labels![n]!]!;
      }
      return total / data.n;
    };
    const steep = await lossAndGradient(model, data, { backend });
    const shallow = await lossAndGradient({ ...model, negativeSlope: 0.01 }, data, { backend });
    expect(relErr(steep.loss, crossEntropy(model))).toBeLessThan(1e-13);
    expect(relErr(shallow.loss, crossEntropy({ ...model, negativeSlope: 0.01 }))).toBeLessThan(1e-13);
    expect(Math.abs(steep.loss - shallow.loss)).toBeGreaterThan(1e-6);
  });
});

describe.each(BACKENDS)('every analysis runs on ReLU nets (%s)', (backend) => {
  const f = () => RELU_FIXTURES.find((x) => x.name === 'iris-relu-h8')!;

  it('training (relu and leaky_relu), with tracking', async () => {
    for (const activation of ['relu', 'leaky_relu'] as const) {
      const model = randomModel({ inputs: 4, hidden: [6], classes: 3, activation, seed: 1, init: 'he' });
      const r = await train(model, f().data, { backend, maxSteps: 60, weightDecay: 1e-3, track: 20 });
      expect(r.model.activation).toBe(activation);
      if (activation === 'leaky_relu') expect(r.model.negativeSlope).toBe(0.01);
      expect(r.loss).toBeLessThan((await lossAndGradient(model, f().data, { backend })).loss);
      expect(r.track!.points.length).toBeGreaterThanOrEqual(2);
      for (const p of r.track!.points) expect(p.bound).toBeGreaterThanOrEqual(p.lambdaMax * (1 - 1e-9));
      expect(r.diagnostics.nearKinkFraction).not.toBeNull();
    }
  });

  it('blocks, SLQ and Lanczos agree with the dense Hessian', async () => {
    const { model, data, expected } = f();
    const dense = await hessian(model, data, { backend });
    const r = await analyze(model, data, { backend, method: 'dense', blocks: true });
    let offset = 0;
    for (const block of r.blocks!) {
      let trace = 0;
      for (let i = offset; i < offset + block.parameters; i++) trace += dense.matrix[i * dense.n + i]!;
      expect(relErr(block.trace!, trace), `layer ${block.layer}`).toBeLessThan(TOL);
      offset += block.parameters;
    }
    // SLQ's extreme Ritz values lie inside the true range and, with 30 of 67 steps, reach its ends.
    const slq = await spectrum(model, data, { backend, method: 'slq', probes: 4, steps: 30 });
    expect(slq.method).toBe('slq');
    expect(slq.lambdaMax).toBeLessThanOrEqual(expected.lambdaMax * (1 + 1e-12));
    expect(relErr(slq.lambdaMax, expected.lambdaMax)).toBeLessThan(1e-6);
    const lanczos = await analyze(model, data, { backend, method: 'lanczos', k: 1 });
    expect(relErr(lanczos.lambdaMax!, expected.lambdaMax)).toBeLessThan(1e-9);
  });

  it('the HSR gradient of the bound is defined and matches finite differences away from kinks', async () => {
    const { model, data } = f();
    const g = await wsBoundGradient(model, data, { backend });
    const theta = flattenParams(model);
    const rng = createRng(9);
    const v = Float64Array.from(theta, () => rng.normal());
    const h = 1e-5;
    const counter = new KinkCounter(model, data);
    expect(counter.changesAt(theta.map((t, i) => t + 2 * h * v[i]!)) + counter.changesAt(theta.map((t, i) => t - 2 * h * v[i]!))).toBe(0);
    const upper = async (s: number) => (await wsBound(unflattenParams(model, theta.map((t, i) => t + s * v[i]!)), data, { backend })).bound.upper;
    const fd = (8 * ((await upper(h)) - (await upper(-h))) - ((await upper(2 * h)) - (await upper(-2 * h)))) / (12 * h);
    const exact = g.gradient.upper!.reduce((s, x, i) => s + x * v[i]!, 0);
    expect(relErr(exact, fd)).toBeLessThan(1e-7);
  });

  it('the landscape counts the pairs that cross a kink along each line', async () => {
    const { model, data } = f();
    const r = await landscape(model, data, { backend, radius: 1, points: 201 });
    const c = r.curves![0]!;
    const mid = (r.alphas.length - 1) / 2;
    expect(c.kinkChanges![mid]).toBe(0);
    expect(Math.max(...c.kinkChanges!)).toBeGreaterThan(0);
    expect(c.smoothRadius).toBe(smoothRadius(r.alphas, c.kinkChanges!));
    expect(c.smoothRadius!).toBeGreaterThan(0);
    expect(c.smoothRadius!).toBeLessThan(1);
    expect(landscapePlotSvg(r)).toContain("no sample crosses a kink (|a| &lt;=");
    const plane = await landscape(model, data, { backend, dimensions: 2, points: 5, radius: 2 });
    expect(plane.kinkSurface![2]![2]).toBe(0);
    const smooth = await landscape(randomModel({ inputs: 4, hidden: [3], classes: 3, activation: 'tanh', seed: 0 }), data, { backend, points: 5 });
    expect(smooth.curves![0]!.kinkChanges).toBeNull();
    expect(landscapePlotSvg(smooth)).not.toContain('crosses a kink');
  });
});

describe('smoothRadius', () => {
  it('is the largest grid radius before the first change (0 when the nearest points changed)', () => {
    const alphas = [-2, -1, 0, 1, 2];
    expect(smoothRadius(alphas, [3, 0, 0, 0, 1])).toBe(1);
    expect(smoothRadius(alphas, [0, 0, 0, 0, 0])).toBe(2);
    expect(smoothRadius(alphas, [0, 1, 0, 0, 0])).toBe(0);
  });
});

describe.each(BACKENDS)('the CLI (%s)', (backend) => {
  it('sweep --activations relu,leaky_relu: both activations, test accuracy and the kink flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hessbound-relu-'));
    const csv = join(dir, 's.csv');
    const r = runCli(['sweep', '--dataset', 'iris', '--activations', 'relu,leaky_relu', '--widths', '3,6', '--seeds', '1', '--test-fraction', '0.2', '--backend', backend, '--out', csv, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const [header, ...lines] = readFileSync(csv, 'utf8').trim().split('\n');
    const columns = header!.split(',');
    const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [columns[i], v])));
    expect(new Set(rows.map((row) => row['activation']))).toEqual(new Set(['relu', 'leaky_relu']));
    for (const row of rows) expect(Number(row['testAccuracy'])).toBeGreaterThan(0.5);
    // The JSON lines carry the kink numbers; the flags column says whether a point sits on a kink.
    const records = readFileSync(join(dir, 's.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { result: { flags: string }; diagnostics: { nearKinkFraction: number } });
    for (const rec of records) expect(rec.result.flags.includes('near-kink')).toBe(rec.diagnostics.nearKinkFraction > 0);
  }, 120_000);

  it('bound says the sigma\'\' residual of a ReLU net vanishes; --negative-slope reaches a random leaky_relu model', () => {
    const b = runCli(['bound', '--hidden', '5', '--activation', 'relu', '--dataset', 'iris', '--backend', backend]);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toContain("sigma'' = 0, not computed");
    expect(b.stdout).toMatch(/near a kink/);
    const json = (slope: string) => JSON.parse(runCli(['analyze', '--hidden', '5', '--activation', 'leaky_relu', '--negative-slope', slope, '--dataset', 'iris', '--backend', backend, '--json']).stdout) as { loss: number };
    expect(json('0.5').loss).not.toBe(json('0.01').loss);
  }, 120_000);
});
