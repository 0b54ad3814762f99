/**
 * One training protocol (issue 21): train() defaults to weight decay 1e-3 like sweeps; the trained
 * model carries its objective (weight decay, HSR) in JSON and safetensors; analyze and bound judge
 * the point by that objective unless told otherwise, and say where the decay came from.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { wsBound } from '../src/bound.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { flattenParams, modelToJson, parseModelJson, randomModel } from '../src/model.js';
import { loadDataset, readModelFile, writeModelFile } from '../src/node/datasets.js';
import { train, TRAIN_DEFAULTS } from '../src/train.js';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';

const iris = loadDataset('iris');
const tmp = mkdtempSync(join(tmpdir(), 'hessbound-objective-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(BACKENDS)('the training objective on the %s backend', (backend) => {
  const start = randomModel({ inputs: 4, hidden: [16], classes: 3, activation: 'tanh', seed: 0 });

  it('train() defaults to weight decay 1e-3 (the sweeps\' protocol) and records it in the model', async () => {
    expect(TRAIN_DEFAULTS.weightDecay).toBe(1e-3);
    const byDefault = await train(start, iris, { backend, maxSteps: 40 });
    const explicit = await train(start, iris, { backend, maxSteps: 40, weightDecay: 1e-3 });
    expect(flattenParams(byDefault.model)).toEqual(flattenParams(explicit.model));
    const theta = flattenParams(byDefault.model);
    const sq = theta.reduce((s, v) => s + v * v, 0);
    expect(Math.abs(byDefault.objective - (byDefault.loss + 0.5e-3 * sq)) / byDefault.objective).toBeLessThan(1e-12);
    expect(byDefault.model.objective).toEqual({ weightDecay: 1e-3 });
    const bare = await train(start, iris, { backend, maxSteps: 40, weightDecay: 0 });
    expect(bare.model.objective).toEqual({ weightDecay: 0 });
    expect(bare.objective).toBe(bare.loss);
    const hsr = await train(start, iris, { backend, maxSteps: 5, weightDecay: 0, hsr: { beta: 0.01 } });
    expect(hsr.model.objective).toEqual({ weightDecay: 0, hsr: { beta: 0.01, target: 'upper' } });
  });

  it('analyze and bound use the recorded decay, say so, and an explicit weightDecay overrides it', async () => {
    const trained = await train(start, iris, { backend });
    expect(trained.converged).toBe(true);
    expect(trained.diagnostics.flags).toEqual([]);
    const saved = readModelFile(writeAndPath(trained.model, `iris16-${backend}.json`));
    const recorded = await analyze(saved, iris, { backend, method: 'dense' });
    expect(recorded.objective).toMatchObject({ weightDecay: 1e-3, source: 'model' });
    expect(recorded.objective!.lambdaMax! - recorded.lambdaMax!).toBeCloseTo(1e-3, 13);
    expect(recorded.diagnostics.flags).toEqual([]);
    expect(Math.abs(recorded.diagnostics.scaleDerivative!)).toBeLessThan(1e-3);
    // Judged as bare cross-entropy, the same point's loss still falls as the weights grow.
    const overridden = await analyze(saved, iris, { backend, method: 'dense', weightDecay: 0 });
    expect(overridden.objective).toBeNull();
    expect(overridden.diagnostics.flags).toContain('scale-diverging');
    const bound = await wsBound(saved, iris, { backend });
    expect(bound.objective).toMatchObject({ weightDecay: 1e-3, source: 'model' });
    expect(bound.objective!.bound! - bound.bound.upper).toBeCloseTo(1e-3, 13);
    expect(bound.diagnostics.flags).toEqual([]);
    const given = await wsBound(saved, iris, { backend, weightDecay: 0.01 });
    expect(given.objective).toMatchObject({ weightDecay: 0.01, source: 'option' });
  });
});

function writeAndPath(model: Parameters<typeof writeModelFile>[1], name: string): string {
  const path = join(tmp, name);
  writeModelFile(path, model);
  return path;
}

describe('the model files carry the objective', () => {
  const model = { ...randomModel({ inputs: 4, hidden: [3], classes: 3, activation: 'gelu', seed: 2 }), objective: { weightDecay: 2e-3, hsr: { beta: 0.05, target: 'spread' as const } } };

  it('JSON and safetensors round trips keep it; models without it load as before', () => {
    expect(parseModelJson(JSON.stringify(modelToJson(model))).objective).toEqual(model.objective);
    const st = readModelFile(writeAndPath(model, 'o.safetensors'));
    expect(st.objective).toEqual(model.objective);
    expect(JSON.parse(parseSafetensors(readFileSync(join(tmp, 'o.safetensors'))).metadata['objective']!)).toEqual(model.objective);
    const { objective: _o, ...plain } = model;
    expect(parseModelJson(JSON.stringify(modelToJson(plain))).objective).toBeUndefined();
  });

  it('refuses a malformed objective with a clear error', () => {
    const json = modelToJson(model) as unknown as Record<string, unknown>;
    for (const objective of [{ weightDecay: -1 }, { weightDecay: 'x' }, 3, { weightDecay: 0, hsr: { beta: 1, target: 'lower' } }])
      expect(() => parseModelJson({ ...json, objective })).toThrow(expect.objectContaining({ code: 'BAD_MODEL', message: expect.stringMatching(/objective/) }));
  });
});

describe('the CLI', () => {
  it('train saves the decay; analyze uses it and says so; --weight-decay 0 overrides it', () => {
    const out = join(tmp, 'wine.json');
    const t = runCli(['train', '--dataset', 'wine', '--hidden', '32', '--out', out, '--quiet']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/objective \(cross-entropy \+ weight decay 0\.001\)/);
    expect(t.stdout).toMatch(/flags\s+none/);
    expect(t.stderr).not.toMatch(/flagged/);
    expect((JSON.parse(readFileSync(out, 'utf8')) as { objective: unknown }).objective).toEqual({ weightDecay: 1e-3 });
    const a = runCli(['analyze', '--model', out, '--dataset', 'wine', '--quiet']);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/objective \(wd 0\.001 saved with the model\)/);
    expect(a.stdout).toMatch(/flags\s+none/);
    const bare = runCli(['analyze', '--model', out, '--dataset', 'wine', '--quiet', '--weight-decay', '0', '--json']);
    expect((JSON.parse(bare.stdout) as { diagnostics: { flags: string[] } }).diagnostics.flags).toContain('scale-diverging');
  });

  it('train --hsr without weight decay does not claim weight decay', () => {
    const out = join(tmp, 'hsr.json');
    const t = runCli(['train', '--dataset', 'iris', '--hidden', '4', '--max-steps', '30', '--hsr', '0.01', '--weight-decay', '0', '--out', out, '--quiet']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/objective \(cross-entropy \+ HSR penalty\)/);
    expect(t.stdout).not.toMatch(/weight decay/);
    // analyze says the saved objective had an HSR term, whose curvature it does not include.
    const a = runCli(['analyze', '--model', out, '--dataset', 'iris', '--quiet']);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/trained with HSR\s+beta 0\.01 x the WS upper bound: the objective's Hessian also holds the penalty's, not included above/);
  });
});
