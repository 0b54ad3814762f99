/**
 * Study axes and data sources from the command line (issue 8): the rho axis with orthogonality
 * columns, --save-models, synthetic ids in analyze and bound, --test-data checked against an
 * independent evaluation of the saved model, and clear errors for bad splits and test files.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stratifiedSplit } from '../src/analysis/split.js';
import { analyze } from '../src/analyze.js';
import { standardize } from '../src/data.js';
import { lossAndGradient } from '../src/curvature.js';
import { loadDatasetById } from '../src/sweep/dataset-id.js';
import { pairwiseCosines, syntheticDataset } from '../src/synthetic.js';
import { parseCsvRow } from '../src/sweep/csv.js';
import { loadDataset, readModelFile } from '../src/node/datasets.js';
import type { Model } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hb-study-'));

/** Accuracy written out here, independently of src/analysis (tanh only). */
function accuracyByHand(model: Model, x: number[][], y: number[]): number {
  let correct = 0;
  x.forEach((row, s) => {
    let a = row;
    model.layers.forEach((layer, l) => {
      const out: number[] = [];
      for (let j = 0; j < layer.out; j++) {
        let sum = layer.bias ? (layer.bias[j] as number) : 0;
        for (let i = 0; i < layer.in; i++) sum += (layer.weight[j * layer.in + i] as number) * (a[i] as number);
        out.push(l < model.layers.length - 1 ? Math.tanh(sum) : sum);
      }
      a = out;
    });
    if (a.indexOf(Math.max(...a)) === y[s]) correct++;
  });
  return correct / x.length;
}

function irisParts(dir: string): { train: string; test: string; testX: number[][]; testY: number[] } {
  const iris = loadDataset('iris');
  const rows = Array.from({ length: iris.n }, (_, i) => Array.from(iris.x.subarray(i * 4, i * 4 + 4)));
  const labels = Array.from(iris.labels as Int32Array);
  const isTest = (i: number) => i % 5 === 0;
  const pick = (test: boolean) => ({ x: rows.filter((_, i) => isTest(i) === test), y: labels.filter((_, i) => isTest(i) === test) });
  const train = join(dir, 'train.json');
  const test = join(dir, 'test.json');
  writeFileSync(train, JSON.stringify(pick(false)));
  writeFileSync(test, JSON.stringify(pick(true)));
  return { train, test, testX: pick(true).x, testY: pick(true).y };
}

describe.each(BACKENDS)('study axes and data sources, %s backend', (backend) => {
  it('sweeps the rho axis with orthogonality columns and saves every model by key', async () => {
    const dir = tmp();
    const csv = join(dir, 'rho.csv');
    const models = join(dir, 'models');
    const r = runCli(['sweep', '--dataset', 'synthetic:n=24,d=32,classes=3', '--rhos', '0,0.5', '--widths', '4', '--seeds', '1', '--test-fraction', '0.25',
      '--out', csv, '--plot', join(dir, 'rho.svg'), '--save-models', models, '--workers', '1', '--backend', backend, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rows = readFileSync(csv, 'utf8').trimEnd().split('\n').slice(1).map(parseCsvRow);
    expect(rows.map((row) => row.rho).sort()).toEqual([0, 0.5]);
    const at0 = rows.find((row) => row.rho === 0)!;
    const at5 = rows.find((row) => row.rho === 0.5)!;
    expect(at0.meanAbsCosine).toBeLessThan(1e-12);
    expect(at5.meanAbsCosine).toBeCloseTo(0.5, 12);
    for (const row of rows) {
      expect(row.orthogonalCounterfactual).toBeGreaterThan(0);
      const split = stratifiedSplit(loadDatasetById(row.dataset), 0.25, 0);
      expect(row.samples).toBe(split.train.n);
      expect(row.testSamples).toBe(split.test.n);
      expect(row.samples + row.testSamples).toBe(24);
      expect(row.testAccuracy).not.toBeNull();
      const file = join(models, `${row.key}.json`);
      expect(existsSync(file)).toBe(true);
      // The saved model is the measured one: the same lambda_max on the training part.
      const a = await analyze(readModelFile(file), split.train, { method: 'dense', backend });
      expect(a.lambdaMax).toBeCloseTo(row.lambdaMax, 10);
    }
    expect(readFileSync(join(dir, 'rho.svg'), 'utf8')).toContain('rho 0.5');
  });

  it('sweep takes a data file and a separate test file', () => {
    const dir = tmp();
    const { train, test } = irisParts(dir);
    const csv = join(dir, 'files.csv');
    const r = runCli(['sweep', '--data', train, '--test-data', test, '--widths', '4', '--seeds', '1', '--out', csv, '--workers', '1', '--backend', backend, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [row] = readFileSync(csv, 'utf8').trimEnd().split('\n').slice(1).map(parseCsvRow);
    // File data enters the jobs by content (the key depends on the data, not on a path).
    expect(row?.dataset).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(row?.testData).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(row?.testData).not.toBe(row?.dataset);
    expect(row?.samples).toBe(120);
    expect(row?.testSamples).toBe(30);
    expect(row?.testAccuracy).toBeGreaterThan(0.8);
  });

  it('analyze and bound take synthetic ids', () => {
    for (const command of ['analyze', 'bound']) {
      const r = runCli([command, '--dataset', 'synthetic:n=12,d=16,classes=3,rho=0.3', '--hidden', '5', '--backend', backend, '--json', '--quiet']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as { samples: number; diagnostics: { flags: string[] } };
      expect(out.samples).toBe(12);
      expect(Array.isArray(out.diagnostics.flags)).toBe(true);
    }
  });

  it('train --test-data reports figures equal to an independent evaluation of the saved model', async () => {
    const dir = tmp();
    const { train, test, testX, testY } = irisParts(dir);
    const out = join(dir, 'model.json');
    // The files hold standardized iris already: used as they are (--no-standardize), testX is the test set.
    const r = runCli(['train', '--data', train, '--test-data', test, '--no-standardize', '--hidden', '6', '--weight-decay', '1e-3', '--out', out, '--backend', backend, '--json', '--quiet']);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as { trainAccuracy: number; testAccuracy: number; testLoss: number; gap: number; testSamples: number; diagnostics: { flags: string[] } };
    expect(s.testSamples).toBe(30);
    const model = readModelFile(out);
    const kernel = await lossAndGradient(model, { x: testX, y: testY, classes: 3 }, { backend });
    expect(s.testLoss).toBeCloseTo(kernel.loss, 12);
    expect(s.testAccuracy).toBe(accuracyByHand(model, testX, testY));
    expect(s.gap).toBeCloseTo(s.trainAccuracy - s.testAccuracy, 15);
    expect(s.diagnostics.flags).toEqual([]);
  });

  it('train --test-data on CSV files (any case) standardizes the test set with the training statistics', async () => {
    const dir = tmp();
    const { testX, testY } = irisParts(dir);
    const raw = loadDataset('iris', { standardize: false });
    const rawRows = Array.from({ length: raw.n }, (_, i) => Array.from(raw.x.subarray(i * 4, i * 4 + 4)));
    const labels = Array.from(raw.labels as Int32Array);
    const csv = (pickTest: boolean) => rawRows.map((r, i) => (i % 5 === 0) === pickTest ? `${r.join(',')},${labels[i]}\n` : '').join('');
    const train = join(dir, 'train.CSV');
    const test = join(dir, 'test.csv');
    writeFileSync(train, `a,b,c,d,label\n${csv(false)}`);
    writeFileSync(test, `a,b,c,d,label\n${csv(true)}`);
    const out = join(dir, 'model.json');
    const r = runCli(['train', '--data', train, '--test-data', test, '--hidden', '6', '--weight-decay', '1e-3', '--out', out, '--backend', backend, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as { testLoss: number; testAccuracy: number };
    // By hand: the raw training rows' mean and population standard deviation, applied to the test rows.
    const trainRows = rawRows.filter((_, i) => i % 5 !== 0);
    const mean = [0, 1, 2, 3].map((j) => trainRows.reduce((a, row) => a + row[j]!, 0) / trainRows.length);
    const std = [0, 1, 2, 3].map((j) => Math.sqrt(trainRows.reduce((a, row) => a + (row[j]! - mean[j]!) ** 2, 0) / trainRows.length));
    const byHand = testX.map((_, i) => rawRows.filter((__, k) => k % 5 === 0)[i]!.map((v, j) => (v - mean[j]!) / std[j]!));
    const model = readModelFile(out);
    const kernel = await lossAndGradient(model, { x: byHand, y: testY, classes: 3 }, { backend });
    expect(s.testLoss).toBeCloseTo(kernel.loss, 10);
    expect(s.testAccuracy).toBe(accuracyByHand(model, byHand, testY));
    // Standardized with its own statistics instead, the loss differs: the check above can tell them apart.
    const own = standardize({ x: Float64Array.from(byHand.flat()), n: byHand.length, d: 4, classes: 3, labels: Int32Array.from(testY) } as never);
    const ownRows = byHand.map((_, i) => Array.from((own.x as Float64Array).subarray(i * 4, i * 4 + 4)));
    const ownLoss = (await lossAndGradient(model, { x: ownRows, y: testY, classes: 3 }, { backend })).loss;
    expect(Math.abs(ownLoss - s.testLoss)).toBeGreaterThan(1e-6);
  });

  it('gives clear errors for bad fractions, unfit test files and splits that empty a class', () => {
    const dir = tmp();
    const bad = runCli(['train', '--dataset', 'iris', '--hidden', '4', '--test-fraction', '1.5', '--out', join(dir, 'm.json'), '--backend', backend]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--test-fraction must be strictly between 0 and 1/);
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ x: [[1, 2], [3, 4]], y: [0, 1] }));
    const unfit = runCli(['train', '--dataset', 'iris', '--hidden', '4', '--test-data', wrong, '--out', join(dir, 'm.json'), '--backend', backend]);
    expect(unfit.status).not.toBe(0);
    expect(unfit.stderr).toMatch(/test data has 2 features, the training data 4/);
    const classes = join(dir, 'classes.json');
    writeFileSync(classes, JSON.stringify({ x: [[1, 2, 3, 4]], y: [5] }));
    const unfitClasses = runCli(['train', '--dataset', 'iris', '--hidden', '4', '--test-data', classes, '--out', join(dir, 'm.json'), '--backend', backend]);
    expect(unfitClasses.status).not.toBe(0);
    expect(unfitClasses.stderr).toMatch(/test data has 6 classes, the training data 3/);
    const small = join(dir, 'small.json');
    writeFileSync(small, JSON.stringify({ x: [[0], [1], [2], [3]], y: [0, 0, 0, 1] }));
    const empty = runCli(['train', '--data', small, '--hidden', '2', '--test-fraction', '0.5', '--out', join(dir, 'm.json'), '--backend', backend]);
    expect(empty.status).not.toBe(0);
    expect(empty.stderr).toMatch(/leaves class 1 \(1 sample\) with no training sample/);
  });
});

describe('synthetic data for a rho study', () => {
  it('has the same labels at every rho for a seed, and exactly orthogonal inputs at rho = 0 up to n = d', () => {
    for (const [n, d] of [[24, 32], [32, 32], [40, 32]] as const) {
      const labels = [0, 0.3, 0.9].map((rho) => Array.from(syntheticDataset({ n, d, classes: 3, rho, seed: 4 }).labels as Int32Array));
      expect(labels[1]).toEqual(labels[0]);
      expect(labels[2]).toEqual(labels[0]);
      const zero = syntheticDataset({ n, d, classes: 3, rho: 0, seed: 4 });
      const c = pairwiseCosines(zero);
      if (n <= d) {
        expect(zero.exactCorrelation).toBe(true);
        expect(Math.max(Math.abs(c.min), Math.abs(c.max))).toBeLessThan(1e-12);
      } else expect(zero.exactCorrelation).toBe(false);
    }
  });
});
