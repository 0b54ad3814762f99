/**
 * HSR (docs/hsr.md): `bound --gradient` on the fixtures, `train` with `hsr` (the penalty enters the
 * objective and its gradient: a smaller WS bound than plain training from the same start, the
 * report adds up, the gradient at the end is the full objective's), and the errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wsBoundGradient } from '../src/analysis/bound-gradient.js';
import { wsBound } from '../src/bound.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { subsample } from '../src/data.js';
import { train } from '../src/train.js';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { FIXTURE_DIR, loadFixtures, relErr } from './helpers/fixtures.js';

const fixtures = loadFixtures().filter((f) => f.hiddenLayers === 1);

describe.each(BACKENDS)('HSR on the %s backend', (backend) => {
  it.each(fixtures)('wsBoundGradient on $name: values equal the fixture, gradients are consistent', async (f) => {
    const r = await wsBoundGradient(f.model, f.data, { backend, reduction: f.reduction });
    expect(relErr(r.trace, f.expected.trace)).toBeLessThan(1e-10);
    expect(relErr(r.traceOfSquare, f.expected.traceOfSquare)).toBeLessThan(1e-10);
    expect(r.gradient.trace.length).toBe(r.parameters);
    expect(r.defined).toBe(true);
    // The chain rule: upper = m + s r, lowerOfMin = m - s r, so their mean is grad m = grad tr / P.
    const P = r.parameters;
    r.gradient.trace.forEach((g, i) => {
      const mid = (r.gradient.upper![i]! + r.gradient.lowerOfMin![i]!) / 2;
      expect(Math.abs(mid - g / P)).toBeLessThanOrEqual(1e-12 * (Math.abs(r.gradient.upper![i]!) + Math.abs(g / P)) + 1e-300);
    });
  });

  it('hessbound bound --gradient --json adds the gradients in parameter order', () => {
    const name = 'iris-tanh-h8';
    const args = ['bound', '--model', join(FIXTURE_DIR, `${name}.model.json`), '--data', join(FIXTURE_DIR, `${name}.data.json`), '--no-standardize', '--backend', backend, '--json', '--quiet'];
    const r = runCli([...args, '--gradient']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { parameters: number; bound: { upper: number }; gradient: Record<string, number[]> };
    for (const key of ['upper', 'trace', 'traceOfSquare', 'lowerOfMin', 'spread']) expect(out.gradient[key]!.length).toBe(out.parameters);
    const plain = JSON.parse(runCli(args).stdout) as Record<string, unknown>;
    expect(plain).not.toHaveProperty('gradient');
    expect(relErr(out.bound.upper, (plain['bound'] as { upper: number }).upper)).toBeLessThan(1e-12);
    const table = runCli(['bound', '--model', join(FIXTURE_DIR, `${name}.model.json`), '--data', join(FIXTURE_DIR, `${name}.data.json`), '--no-standardize', '--backend', backend, '--gradient', '--quiet']);
    expect(table.stdout).toMatch(/\|grad WS upper bound\|/);
  });

  it('train with hsr reaches a smaller WS bound than plain training from the same start', async () => {
    const data = subsample(loadDataset('wine'), 60, 3);
    const start = randomModel({ inputs: data.d, hidden: [6], classes: data.classes, activation: 'tanh', seed: 4 });
    const common = { backend, weightDecay: 1e-2, maxSteps: 400, gradTol: 1e-7 } as const;
    const plain = await train(start, data, common);
    const hsr = await train(start, data, { ...common, hsr: { beta: 0.05 } });
    const bPlain = await wsBound(plain.model, data, { backend, orthogonality: false });
    const bHsr = await wsBound(hsr.model, data, { backend, orthogonality: false });
    expect(bHsr.bound.upper).toBeLessThan(bPlain.bound.upper);
    expect(plain.hsr).toBeUndefined();
    const report = hsr.hsr!;
    expect(report.target).toBe('upper');
    expect(relErr(report.value, bHsr.bound.upper)).toBeLessThan(1e-10);
    expect(relErr(report.penalty, 0.05 * report.value)).toBeLessThan(1e-14);
    expect(report.share).toBeGreaterThan(0);
    expect(report.share).toBeLessThan(1);
    // objective = loss + weight decay + penalty at the returned point.
    let sq = 0;
    for (const layer of hsr.model.layers) {
      for (const v of layer.weight) sq += v * v;
      for (const v of layer.bias ?? []) sq += v * v;
    }
    expect(relErr(hsr.objective, hsr.loss + 0.005 * sq + report.penalty)).toBeLessThan(1e-10);
  });

  it('train with the spread target penalises the spread bound', async () => {
    const data = subsample(loadDataset('iris'), 40, 1);
    const start = randomModel({ inputs: data.d, hidden: [4], classes: data.classes, activation: 'sigmoid', seed: 2 });
    const r = await train(start, data, { backend, maxSteps: 60, hsr: { beta: 0.1, target: 'spread' } });
    const b = await wsBound(r.model, data, { backend, orthogonality: false });
    expect(r.hsr!.target).toBe('spread');
    expect(relErr(r.hsr!.value, b.bound.spread)).toBeLessThan(1e-10);
  });

  it('the penalty is the WS bound whichever form the hook picks (primal: many samples; dual: few samples, wide)', async () => {
    const wine = loadDataset('wine');
    for (const [n, width] of [[120, 3], [12, 40]] as const) {
      const data = subsample(wine, n, 5);
      const start = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation: 'tanh', seed: 3 });
      const r = await train(start, data, { backend, maxSteps: 20, gradTol: 0, hsr: { beta: 0.01 } });
      const b = await wsBound(r.model, data, { backend, orthogonality: false });
      expect(b.method).toBe(n === 120 ? 'primal' : 'dual');
      expect(relErr(r.hsr!.value, b.bound.upper), `${n} samples, width ${width}`).toBeLessThan(1e-10);
    }
  });
});

describe('HSR errors and CLI', () => {
  it('refuses deeper nets and bad options with hints', async () => {
    const data = loadDataset('iris');
    const deep = randomModel({ inputs: 4, hidden: [3, 3], classes: 3, activation: 'tanh', seed: 0 });
    await expect(train(deep, data, { hsr: { beta: 0.1 } })).rejects.toMatchObject({ code: 'BAD_MODEL', hint: expect.stringMatching(/one hidden layer/) });
    const one = randomModel({ inputs: 4, hidden: [3], classes: 3, activation: 'tanh', seed: 0 });
    await expect(train(one, data, { hsr: { beta: -1 } })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(train(one, data, { hsr: { beta: 1, target: 'lower' as 'upper' } })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    const cli = runCli(['bound', '--dataset', 'iris', '--hidden', '3,3', '--gradient']);
    expect(cli.status).not.toBe(0);
    expect(cli.stderr).toMatch(/BAD_MODEL/);
    expect(cli.stderr).toMatch(/hint: .*one hidden layer/);
  });

  it('hessbound train --hsr reports the penalty and its share', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hsr-'));
    try {
      const out = join(dir, 'm.json');
      const r = runCli(['train', '--dataset', 'iris', '--hidden', '4', '--max-steps', '30', '--hsr', '0.01', '--hsr-target', 'spread', '--out', out, '--json', '--quiet']);
      expect(r.status, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as { hsr: { beta: number; target: string; value: number; penalty: number; share: number } };
      expect(j.hsr.beta).toBe(0.01);
      expect(j.hsr.target).toBe('spread');
      expect(j.hsr.value).toBeGreaterThan(0);
      const text = runCli(['train', '--dataset', 'iris', '--hidden', '4', '--max-steps', '30', '--hsr', '0.01', '--out', out, '--quiet']);
      expect(text.stdout).toMatch(/HSR penalty/);
      const bad = runCli(['train', '--dataset', 'iris', '--hidden', '4', '--hsr-target', 'upper', '--out', out]);
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/--hsr-target needs --hsr/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
