/**
 * Mini-batch training (issue 25, item 5): the kernel's trajectory against an independent TypeScript
 * reference (same documented shuffle), bit-identical results for any thread count, convergence to a
 * target loss and, with the polish, to a critical point; progress, cancellation and bad input.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/select.js';
import { toDataset } from '../src/data.js';
import { toProblemSpec } from '../src/problem.js';
import { HessboundError } from '../src/errors.js';
import { flattenParams, randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { createRng } from '../src/rng.js';
import { makeJob, normalizeJob } from '../src/sweep/job.js';
import { runPoint } from '../src/sweep/run-point.js';
import { CSV_COLUMNS, CSV_COLUMNS_BEFORE_MINIBATCH, csvRow, parseCsvRow, parseCsvRowOf } from '../src/sweep/csv.js';
import { train, type TrainOptions } from '../src/train.js';
import { BACKENDS } from './helpers/backends.js';
import { runCliAsync } from './helpers/cli-async.js';
import { maxRelativeDifference } from './helpers/expect.js';
import { referenceMinibatch, type ReferenceOptions } from './helpers/minibatch-reference.js';

/** 23 samples (prime: the last batch of 5 is short), 4 features, 3 classes, soft targets in part. */
function tinyData() {
  const rng = createRng(7);
  const n = 23;
  const x = Array.from({ length: n }, () => Array.from({ length: 4 }, () => rng.normal()));
  const targets = x.map((row, i) => {
    if (i % 4 === 0) return [0.2, 0.5, 0.3];
    const k = row[0]! + row[1]! > 0.5 ? 0 : row[2]! > 0 ? 1 : 2;
    return [0, 1, 2].map((c) => (c === k ? 1 : 0));
  });
  return toDataset(x, targets);
}

const tiny = tinyData();
const tinyModel = randomModel({ inputs: 4, hidden: [5, 3], classes: 3, activation: 'tanh', seed: 2 });
const oneHidden = randomModel({ inputs: 4, hidden: [5], classes: 3, activation: 'tanh', seed: 0 });
const digits = loadDataset('digits');
const iris = loadDataset('iris');

const CASES: Array<{ name: string; options: ReferenceOptions }> = [
  { name: 'Adam, mean, batch 5', options: { batchSize: 5, epochs: 3, optimizer: 'adam', lr: 0.05, momentum: 0, shuffleSeed: 11, weightDecay: 0, reduction: 'mean' } },
  { name: 'SGD with momentum, weight decay, sum, batch 6', options: { batchSize: 6, epochs: 3, optimizer: 'sgd', lr: 0.01, momentum: 0.8, shuffleSeed: 3, weightDecay: 1e-2, reduction: 'sum' } },
];

function apiOptions(o: ReferenceOptions): TrainOptions {
  return {
    batchSize: o.batchSize,
    epochs: o.epochs,
    optimizer: o.optimizer,
    lr: o.lr,
    ...(o.optimizer === 'sgd' ? { momentum: o.momentum } : {}),
    shuffleSeed: o.shuffleSeed,
    weightDecay: o.weightDecay,
    reduction: o.reduction,
    gradTol: 0,
  };
}

describe.each(BACKENDS)('mini-batch training on the %s backend', (backend) => {
  it.each(CASES)('follows the TypeScript reference step for step ($name, two hidden layers)', async ({ options }) => {
    const r = await train(tinyModel, tiny, { ...apiOptions(options), backend });
    const ref = referenceMinibatch(tinyModel, flattenParams(tinyModel), tiny, options);
    const batches = Math.ceil(tiny.n / options.batchSize);
    expect(r.steps).toMatchObject({ adam: 0, lbfgs: 0, minibatch: options.epochs * batches, epochs: options.epochs });
    expect(r.stopReason).toBe('epochs');
    expect(r.converged).toBe(false);
    expect(r.minibatch).toMatchObject({ optimizer: options.optimizer, batchSize: options.batchSize, batchesPerEpoch: batches, shuffleSeed: options.shuffleSeed, polish: false });
    expect(maxRelativeDifference(ref.params, flattenParams(r.model))).toBeLessThan(1e-11);
    // The full-batch check after every epoch is the history (step 0: the start).
    expect(r.history.map((h) => h.step)).toEqual([0, ...ref.epochLosses.map((_, e) => (e + 1) * batches)]);
    r.history.slice(1).forEach((h, e) => expect(Math.abs(h.loss - ref.epochLosses[e]!)).toBeLessThan(1e-12 * ref.epochLosses[e]!));
    // The shuffle matters: another seed is another trajectory (so the comparison above can fail).
    const other = referenceMinibatch(tinyModel, flattenParams(tinyModel), tiny, { ...options, shuffleSeed: options.shuffleSeed + 1 });
    expect(maxRelativeDifference(other.params, ref.params)).toBeGreaterThan(1e-6);
  });

  it('reaches a target loss on digits, and with the polish a critical point of the regularised objective', async () => {
    const model = randomModel({ inputs: digits.d, hidden: [16], classes: digits.classes, activation: 'tanh', seed: 0 });
    const fractions: number[] = [];
    const target = await train(model, digits, { backend, batchSize: 64, epochs: 40, targetLoss: 0.05, onProgress: (f) => fractions.push(f) });
    expect(target.stopReason).toBe('targetLoss');
    expect(target.converged).toBe(true);
    expect(target.loss).toBeLessThanOrEqual(0.05);
    expect(target.steps.epochs).toBeLessThan(40);
    expect(target.steps.minibatch).toBe(target.steps.epochs * 29);
    expect(fractions.length).toBeGreaterThan(2);
    fractions.forEach((f, i) => i > 0 && expect(f).toBeGreaterThanOrEqual(fractions[i - 1]!));
    expect(fractions.at(-1)).toBe(1);

    const polished = await train(model, digits, { backend, batchSize: 128, epochs: 5, optimizer: 'sgd', lr: 0.1, weightDecay: 1e-3, polish: true, gradTol: 1e-6 });
    expect(polished.steps.epochs).toBe(5);
    expect(polished.steps.lbfgs).toBeGreaterThan(0);
    expect(polished.stopReason).toBe('gradTol');
    expect(polished.gradNorm).toBeLessThanOrEqual(1e-6);
    // Checked outside the training code: the cross-entropy's gradient by the Hessian path's
    // forward/backward pass, plus weight decay x params.
    const params = flattenParams(polished.model);
    const { gradient } = (await getBackend(backend)).lossGrad(toProblemSpec(polished.model, digits));
    const norm = Math.hypot(...Array.from(gradient, (g, i) => g + 1e-3 * params[i]!));
    expect(norm).toBeLessThanOrEqual(1.001e-6);
    expect(polished.diagnostics.flags).not.toContain('not-converged');
  }, 120_000);

  it('gives the same result for checkEvery 0 as for 1 without stopping rules (the checks do not move the point)', async () => {
    const model = randomModel({ inputs: digits.d, hidden: [8], classes: digits.classes, activation: 'tanh', seed: 1 });
    const base = { backend, batchSize: 100, epochs: 3, gradTol: 0 } as const;
    const every = await train(model, digits, { ...base, checkEvery: 1 });
    const end = await train(model, digits, { ...base, checkEvery: 0 });
    expect(Array.from(flattenParams(end.model))).toEqual(Array.from(flattenParams(every.model)));
    expect(end.history.length).toBe(2);
    expect(every.history.length).toBe(4);
  });

  it('tracks lambda_max at the first full-batch check past every multiple of track', async () => {
    const model = randomModel({ inputs: digits.d, hidden: [8], classes: digits.classes, activation: 'tanh', seed: 0 });
    // 15 updates per epoch, checks at 15, 30, 45, 60: past 20 at 30, past 40 at 45, 60 itself.
    const r = await train(model, digits, { backend, batchSize: 128, epochs: 4, gradTol: 0, track: 20 });
    expect(r.track?.points.map((p) => p.step)).toEqual([0, 30, 45, 60]);
  });

  it('is cancelled by an AbortSignal inside the epochs', async () => {
    const model = randomModel({ inputs: digits.d, hidden: [32], classes: digits.classes, activation: 'tanh', seed: 0 });
    const controller = new AbortController();
    const pending = train(model, digits, { backend, batchSize: 16, epochs: 1_000_000, checkEvery: 0, gradTol: 0, maxSteps: 1_000_000_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  }, 60_000);

  it('rejects bad batch sizes and stray options with BAD_OPTION', async () => {
    const bad: Array<[TrainOptions, RegExp]> = [
      [{ batchSize: 0 }, /batchSize must be an integer from 1/],
      [{ batchSize: 2.5 }, /batchSize must be an integer/],
      [{ batchSize: tiny.n + 1 }, /batchSize 24 is larger than the 23 training samples/],
      [{ epochs: 3 }, /epochs need\(s\) batchSize/],
      [{ batchSize: 4, epochs: 0 }, /epochs must be an integer from 1/],
      [{ batchSize: 4, momentum: 0.9 }, /momentum applies to optimizer 'sgd' only/],
      [{ batchSize: 4, optimizer: 'sgd', momentum: 1 }, /momentum must be a number in \[0, 1\)/],
      [{ batchSize: 4, optimizer: 'rmsprop' as 'adam' }, /optimizer must be one of adam, sgd/],
      [{ batchSize: 4, hsr: { beta: 0.1 } }, /full-batch only/],
    ];
    for (const [options, message] of bad) {
      const error = await train(oneHidden, tiny, { backend, ...options }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HessboundError);
      expect((error as HessboundError).code).toBe('BAD_OPTION');
      expect((error as HessboundError).message).toMatch(message);
    }
    // The batch size is checked against the training samples after a test split.
    const split = await train(tinyModel, tiny, { backend, batchSize: 20, testFraction: 0.3 }).catch((e: unknown) => e);
    expect((split as HessboundError).code).toBe('BAD_OPTION');
  });
});

describe('mini-batch training is bit-identical for any thread count', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hessbound-minibatch-'));
  async function trained(name: string, args: string[], threads: string): Promise<string> {
    const out = join(dir, `${name}-${threads}.json`);
    const r = await runCliAsync(['train', ...args, '--quiet', '--out', out], { OPENBLAS_NUM_THREADS: threads, HESSBOUND_THREADS: threads });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    return readFileSync(out, 'utf8');
  }
  // Batches of 512 split into 4 chunks (train_minibatch.cpp: at least 128 samples each), so 2 and 3
  // threads really share them (the last batch of 261: 2 chunks).
  const args = ['--dataset', 'digits', '--hidden', '32', '--seed', '1', '--batch-size', '512', '--epochs', '4', '--weight-decay', '1e-3'];
  describe.each(BACKENDS.filter((b) => b === 'native' || b === 'wasm-threads'))('%s: HESSBOUND_THREADS 1, 2 and 3', (backend) => {
    it('Adam, then the full-batch polish', async () => {
      const a = [...args, '--polish', '--max-steps', '200', '--backend', backend];
      const one = await trained(`adam-${backend}`, a, '1');
      expect(await trained(`adam-${backend}`, a, '2')).toBe(one);
      expect(await trained(`adam-${backend}`, a, '3')).toBe(one);
    }, 180_000);
    it('SGD with momentum', async () => {
      const a = [...args, '--optimizer', 'sgd', '--lr', '0.05', '--momentum', '0.9', '--backend', backend];
      expect(await trained(`sgd-${backend}`, a, '2')).toBe(await trained(`sgd-${backend}`, a, '1'));
    }, 120_000);
  });
  if (BACKENDS.includes('wasm') && BACKENDS.includes('wasm-threads'))
    it('wasm and wasm-threads (one thread and the cores) give the same model bit for bit', async () => {
      const model = randomModel({ inputs: digits.d, hidden: [32], classes: digits.classes, activation: 'tanh', seed: 4 });
      const options: TrainOptions = { batchSize: 256, epochs: 3, weightDecay: 1e-3, gradTol: 0 };
      const single = await train(model, digits, { ...options, backend: 'wasm' });
      const threaded = await train(model, digits, { ...options, backend: 'wasm-threads' });
      expect(Array.from(flattenParams(threaded.model))).toEqual(Array.from(flattenParams(single.model)));
    }, 120_000);

  it('the CLI rejects --batch-size 0, non-integers and sizes above N', async () => {
    for (const [value, message] of [['0', /--batch-size must be a positive integer/], ['12.5', /--batch-size must be a positive integer/], ['1798', /batchSize 1798 is larger than the 1797 training samples/]] as const) {
      const r = await runCliAsync(['train', '--dataset', 'digits', '--hidden', '4', '--batch-size', value, '--out', join(dir, 'never.json'), '--quiet']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/BAD_OPTION/);
    }
  }, 60_000);
});

describe('mini-batch sweep points', () => {
  it('are other points than full-batch ones: their own key, polished by default, shuffled by the seed', () => {
    const full = makeJob({ dataset: 'iris', width: 4, seed: 0 });
    const mini = makeJob({ dataset: 'iris', width: 4, seed: 0, batchSize: 32 });
    expect(mini.key).not.toBe(full.key);
    expect(full.spec).not.toHaveProperty('batchSize');
    expect(mini.spec).toMatchObject({ batchSize: 32, epochs: 10, optimizer: 'adam', polish: true, checkEvery: 1 });
    expect(mini.spec).not.toHaveProperty('momentum');
    expect(makeJob({ dataset: 'iris', width: 4, seed: 0, batchSize: 32, optimizer: 'sgd' }).spec).toMatchObject({ momentum: 0.9 });
    expect(makeJob({ dataset: 'iris', width: 4, seed: 0, batchSize: 32, polish: false }).key).not.toBe(mini.key);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, epochs: 5 })).toThrow(/need\(s\) batchSize/);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, batchSize: 0 })).toThrow(/batchSize must be an integer from 1/);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, batchSize: 8, hsr: 0.1 })).toThrow(/full-batch only/);
  });

  it.each(BACKENDS)('run with their columns in the row and the CSV (%s)', async (backend) => {
    const record = await runPoint({ dataset: 'iris', width: 4, seed: 1, batchSize: 32, epochs: 3 }, { backend, loadData: () => iris });
    expect(record.result).toMatchObject({ batchSize: 32, optimizer: 'adam', epochs: 3, converged: true, stopReason: 'gradTol' });
    expect(record.result.trainSteps).toBeGreaterThan(3 * 5);
    expect(parseCsvRow(csvRow(record.result))).toEqual(record.result);
    // A row of a CSV written before these columns reads as a full-batch point.
    const cut = csvRow(record.result).split(',').slice(0, CSV_COLUMNS_BEFORE_MINIBATCH.length - CSV_COLUMNS.length).join(',');
    expect(parseCsvRowOf(cut, CSV_COLUMNS_BEFORE_MINIBATCH)).toMatchObject({ batchSize: 0, optimizer: '', epochs: 0, hsr: 0 });
  }, 60_000);

  it('come from the CLI: hessbound sweep --batch-size --epochs (and --no-polish) on iris', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hessbound-minibatch-sweep-'));
    const out = join(dir, 'r.csv');
    const r = await runCliAsync(['sweep', '--dataset', 'iris', '--widths', '4', '--seeds', '1', '--batch-size', '32', '--epochs', '2', '--no-polish', '--out', out, '--no-jsonl', '--quiet', '--workers', '1']);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n').slice(1).map((l) => parseCsvRow(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ batchSize: 32, optimizer: 'adam', epochs: 2, stopReason: 'epochs', converged: false, trainSteps: 10 });
    const bad = await runCliAsync(['sweep', '--dataset', 'iris', '--widths', '4', '--seeds', '1', '--epochs', '2', '--out', join(dir, 'bad.csv'), '--quiet']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/epochs need\(s\) batchSize/);
  }, 120_000);
});
