/**
 * HSR bench (issue 13, docs/hsr.md): plain training against HSR training (objective + beta x the WS
 * upper bound, its closed-form gradient) from the same starts, on wine and breast_cancer.
 *
 * Per data set and seed: a seeded stratified holdout (30% test; features standardized with the
 * training part's mean and deviation), a tanh MLP with one hidden layer of 16 at its seeded Glorot
 * initialisation, then train() twice from that start with the same options (weight decay 1e-3,
 * gradTol 1e-6, maxSteps 3000), once plain and once with `hsr: { beta }`. At each end point:
 * lambda_max and lambda_min of the training-loss Hessian (dense, exact), the WS upper bound, training
 * and test cross-entropy and accuracy, steps and seconds. Native backend.
 *
 *   node --import tsx bench/hsr.ts [--seeds 5] [--beta 0.01] [--width 16] [--json FILE] [--md FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { analyze } from '../src/analyze.js';
import { wsBound } from '../src/bound.js';
import { loadDataset } from '../src/node/datasets.js';
import { randomModel } from '../src/model.js';
import { createRng } from '../src/rng.js';
import { train, type TrainResult } from '../src/train.js';
import type { Dataset, Model } from '../src/types.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '5' },
    beta: { type: 'string', default: '0.01' },
    width: { type: 'string', default: '16' },
    'test-fraction': { type: 'string', default: '0.3' },
    'weight-decay': { type: 'string', default: '1e-3' },
    'max-steps': { type: 'string', default: '3000' },
    datasets: { type: 'string', default: 'wine,breast_cancer' },
    json: { type: 'string' },
    md: { type: 'string' },
  },
});
const SEEDS = Number(values.seeds);
const BETA = Number(values.beta);
const WIDTH = Number(values.width);
const TEST_FRACTION = Number(values['test-fraction']);
const WEIGHT_DECAY = Number(values['weight-decay']);
const MAX_STEPS = Number(values['max-steps']);

/** Seeded stratified split: each class keeps about the same test fraction. */
function stratifiedSplit(data: Dataset, fraction: number, seed: number): { train: number[]; test: number[] } {
  const rng = createRng(seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < data.n; i++) {
    const label = data.labels![i]!;
    byClass.set(label, [...(byClass.get(label) ?? []), i]);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const idx of byClass.values()) {
    const shuffled = rng.shuffle(idx);
    const k = Math.round(fraction * shuffled.length);
    test.push(...shuffled.slice(0, k));
    train.push(...shuffled.slice(k));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

/** Rows `rows` of raw data, standardized with the mean and deviation of `fit` rows. */
function take(data: Dataset, rows: number[], fit: number[]): Dataset {
  const { d, classes } = data;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const i of fit) for (let j = 0; j < d; j++) mean[j]! += data.x[i * d + j]! / fit.length;
  for (const i of fit) for (let j = 0; j < d; j++) std[j]! += (data.x[i * d + j]! - mean[j]!) ** 2 / fit.length;
  const x = new Float64Array(rows.length * d);
  const targets = new Float64Array(rows.length * classes);
  const labels = new Int32Array(rows.length);
  rows.forEach((src, r) => {
    for (let j = 0; j < d; j++) {
      const s = Math.sqrt(std[j]!);
      x[r * d + j] = s > 1e-12 ? (data.x[src * d + j]! - mean[j]!) / s : 0;
    }
    targets.set(data.targets.subarray(src * classes, (src + 1) * classes), r * classes);
    labels[r] = data.labels![src]!;
  });
  return { ...data, n: rows.length, x, targets, labels };
}

/** Mean cross-entropy and accuracy of a tanh MLP with one hidden layer. */
function evaluate(model: Model, data: Dataset): { loss: number; accuracy: number } {
  const [l1, l2] = model.layers as [Model['layers'][0], Model['layers'][0]];
  let loss = 0;
  let correct = 0;
  const z = new Float64Array(l1.out);
  const v = new Float64Array(l2.out);
  for (let n = 0; n < data.n; n++) {
    for (let j = 0; j < l1.out; j++) {
      let u = l1.bias ? l1.bias[j]! : 0;
      for (let i = 0; i < l1.in; i++) u += l1.weight[j * l1.in + i]! * data.x[n * data.d + i]!;
      z[j] = Math.tanh(u);
    }
    let max = -Infinity;
    for (let k = 0; k < l2.out; k++) {
      let s = l2.bias ? l2.bias[k]! : 0;
      for (let j = 0; j < l2.in; j++) s += l2.weight[k * l2.in + j]! * z[j]!;
      v[k] = s;
      max = Math.max(max, s);
    }
    let sum = 0;
    for (let k = 0; k < l2.out; k++) sum += Math.exp(v[k]! - max);
    const logZ = max + Math.log(sum);
    let best = 0;
    for (let k = 0; k < l2.out; k++) {
      loss -= data.targets[n * data.classes + k]! * (v[k]! - logZ);
      if (v[k]! > v[best]!) best = k;
    }
    if (best === data.labels![n]) correct++;
  }
  return { loss: loss / data.n, accuracy: correct / data.n };
}

interface Row {
  dataset: string;
  seed: number;
  run: 'plain' | 'hsr';
  lambdaMax: number;
  lambdaMin: number;
  bound: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss: number;
  testAccuracy: number;
  steps: number;
  seconds: number;
  converged: boolean;
  stopReason: string;
  penaltyShare: number | null;
}

async function endPoint(dataset: string, seed: number, run: Row['run'], r: TrainResult, trainSet: Dataset, testSet: Dataset): Promise<Row> {
  const spectrum = await analyze(r.model, trainSet, { method: 'dense', backend: 'native' });
  const bound = await wsBound(r.model, trainSet, { backend: 'native', orthogonality: false });
  const tr = evaluate(r.model, trainSet);
  const te = evaluate(r.model, testSet);
  return {
    dataset, seed, run,
    lambdaMax: spectrum.lambdaMax!, lambdaMin: spectrum.lambdaMin!, bound: bound.bound.upper,
    trainLoss: tr.loss, trainAccuracy: tr.accuracy, testLoss: te.loss, testAccuracy: te.accuracy,
    steps: r.steps.adam + r.steps.lbfgs, seconds: r.seconds, converged: r.converged, stopReason: r.stopReason,
    penaltyShare: r.hsr ? r.hsr.share : null,
  };
}

const rows: Row[] = [];
for (const name of values.datasets.split(',')) {
  const raw = loadDataset(name, { standardize: false });
  for (let seed = 0; seed < SEEDS; seed++) {
    const split = stratifiedSplit(raw, TEST_FRACTION, 1000 + seed);
    const trainSet = take(raw, split.train, split.train);
    const testSet = take(raw, split.test, split.train);
    const start = randomModel({ inputs: raw.d, hidden: [WIDTH], classes: raw.classes, activation: 'tanh', seed });
    const common = { weightDecay: WEIGHT_DECAY, gradTol: 1e-6, maxSteps: MAX_STEPS, backend: 'native' as const };
    const plain = await train(start, trainSet, common);
    rows.push(await endPoint(name, seed, 'plain', plain, trainSet, testSet));
    const hsr = await train(start, trainSet, { ...common, hsr: { beta: BETA, target: 'upper' } });
    rows.push(await endPoint(name, seed, 'hsr', hsr, trainSet, testSet));
    for (const r of rows.slice(-2))
      process.stderr.write(`${name} seed ${seed} ${r.run}: lmax ${r.lambdaMax.toFixed(4)} bound ${r.bound.toFixed(4)} train ${r.trainLoss.toFixed(4)}/${r.trainAccuracy.toFixed(3)} test ${r.testLoss.toFixed(4)}/${r.testAccuracy.toFixed(3)} steps ${r.steps} ${r.seconds.toFixed(1)} s ${r.stopReason}\n`);
  }
}

// ---- summary: per data set and run, median [min, max] over seeds; paired HSR/plain ratios.
function stats(v: number[]): string {
  const s = [...v].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  const f = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3));
  return `${f(med)} [${f(s[0]!)}, ${f(s[s.length - 1]!)}]`;
}

const lines: string[] = [];
lines.push(`HSR bench: tanh 1 hidden layer of ${WIDTH}, weight decay ${WEIGHT_DECAY}, gradTol 1e-6, maxSteps ${MAX_STEPS}, beta ${BETA} (target upper), ${SEEDS} seeds, stratified ${TEST_FRACTION * 100}% test holdout; native backend.`);
lines.push('Cells: median [min, max] over seeds. Ratios are paired (same seed: same split and start).');
lines.push('');
lines.push('| data | run | λmax | WS bound | train loss | train acc | test loss | test acc | steps | seconds | penalty share |');
lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
const datasets = [...new Set(rows.map((r) => r.dataset))];
for (const ds of datasets)
  for (const run of ['plain', 'hsr'] as const) {
    const rs = rows.filter((r) => r.dataset === ds && r.run === run);
    const col = (f: (r: Row) => number) => stats(rs.map(f));
    lines.push(`| ${ds} | ${run} | ${col((r) => r.lambdaMax)} | ${col((r) => r.bound)} | ${col((r) => r.trainLoss)} | ${col((r) => r.trainAccuracy)} | ${col((r) => r.testLoss)} | ${col((r) => r.testAccuracy)} | ${col((r) => r.steps)} | ${col((r) => r.seconds)} | ${run === 'hsr' ? col((r) => r.penaltyShare ?? 0) : '—'} |`);
  }
lines.push('');
lines.push('| data | HSR/plain λmax | HSR/plain bound | Δ train loss | Δ test acc (HSR − plain) | seeds with smaller λmax and bound | not converged (plain, hsr) |');
lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const ds of datasets) {
  const p = rows.filter((r) => r.dataset === ds && r.run === 'plain');
  const h = rows.filter((r) => r.dataset === ds && r.run === 'hsr');
  const both = p.filter((r, i) => h[i]!.lambdaMax < r.lambdaMax && h[i]!.bound < r.bound).length;
  lines.push(`| ${ds} | ${stats(p.map((r, i) => h[i]!.lambdaMax / r.lambdaMax))} | ${stats(p.map((r, i) => h[i]!.bound / r.bound))} | ${stats(p.map((r, i) => h[i]!.trainLoss - r.trainLoss))} | ${stats(p.map((r, i) => h[i]!.testAccuracy - r.testAccuracy))} | ${both} / ${p.length} | ${p.filter((r) => !r.converged).length}, ${h.filter((r) => !r.converged).length} |`);
}
const text = lines.join('\n');
process.stdout.write(`${text}\n`);
if (values.md) writeFileSync(values.md, `${text}\n`);
if (values.json) writeFileSync(values.json, `${JSON.stringify(rows, null, 1)}\n`);
