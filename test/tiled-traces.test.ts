/**
 * The dual closed form walks the sample pairs in tiles on the kernel's own threads, sums each tile
 * on its own and adds the tiles' sums in a fixed order (closed_form_dual.cpp). Checked here:
 * - at awkward sample counts around a small tile (1, 2, tile - 1, tile, tile + 1, primes, several
 *   tiles a side) the tiled traces and their decomposition equal the one-tile evaluation (the
 *   pre-tiling summation order) to 1e-13 relative, and the primal evaluation (independent
 *   arithmetic) to 1e-10;
 * - on a network whose softmax saturates (1 - p below 1e-15 for every sample: output weights scaled
 *   up, labels = its own predictions), where the dual forms e_d - p from its small entries, every
 *   term equals the primal to 1e-12 relative to the term itself (no floor);
 * - the result (dual tiles, and the primal's panel blocks) is bit-identical for 1, 2 and 3 kernel threads (native and threaded WebAssembly;
 *   HESSBOUND_THREADS is read once per process, so each count runs in a child process), and the
 *   threaded runs did run on that many threads;
 * - natively, every SIMD path this CPU runs (HESSBOUND_SIMD, also read once per process) gives the
 *   same terms to 1e-13 and its own bits for 1 and 2 threads.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/select.js';
import { closedFormTraces } from '../src/bound.js';
import { randomModel } from '../src/model.js';
import { toProblemSpec } from '../src/problem.js';
import { syntheticDataset } from '../src/synthetic.js';
import type { Dataset, Model } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';
import { ROOT } from './helpers/cli.js';
import { traceTerms, workBytesForTile as tileWorkBytes } from './helpers/tiles.js';

const D = 6;
const H = 7;
const C = 4;
const TILE = 16;

/** workBytes whose tile side is `b` (for c = C, h = H unless given). */
const workBytesForTile = (b: number, c = C, h = H): number => tileWorkBytes(b, c, h);

function firstRows(data: Dataset, n: number): Dataset {
  return { ...data, n, x: data.x.slice(0, n * data.d), targets: data.targets.slice(0, n * data.classes), labels: data.labels ? data.labels.slice(0, n) : null };
}

const terms = traceTerms;

/**
 * The model with its output layer scaled by `factor`, the data relabelled with its predictions, and
 * the smallest logit margin (best - second best) over the samples: 1 - p < (classes - 1) e^-margin.
 */
function saturated(model: Model, data: Dataset, factor: number): { model: Model; data: Dataset; margin: number } {
  const [hidden, output] = model.layers as [Model['layers'][0], Model['layers'][0]];
  const scaled = { ...output, weight: output.weight.map((w) => w * factor), bias: output.bias ? output.bias.map((b) => b * factor) : null };
  const targets = new Float64Array(data.n * data.classes);
  const labels = new Int32Array(data.n);
  let margin = Infinity;
  for (let n = 0; n < data.n; n++) {
    const z = Array.from({ length: hidden.out }, (_, j) => {
      let u = hidden.bias ? hidden.bias[j]! : 0;
      for (let i = 0; i < data.d; i++) u += hidden.weight[j * data.d + i]! * data.x[n * data.d + i]!;
      return Math.tanh(u);
    });
    const logits = Array.from({ length: data.classes }, (_, k) => {
      let u = scaled.bias ? scaled.bias[k]! : 0;
      for (let j = 0; j < hidden.out; j++) u += scaled.weight[k * hidden.out + j]! * z[j]!;
      return u;
    });
    const best = logits.indexOf(Math.max(...logits));
    const sorted = [...logits].sort((a, b) => b - a);
    margin = Math.min(margin, sorted[0]! - sorted[1]!);
    targets[n * data.classes + best] = 1;
    labels[n] = best;
  }
  return { model: { ...model, layers: [hidden, scaled] }, data: { ...data, targets, labels }, margin };
}

const full = syntheticDataset({ n: 70, d: D, classes: C, rho: 0.3, seed: 5, teacher: 'centroids' });

describe.each(BACKENDS)('tiled dual traces on %s', (backendName) => {
  it.each([1, 2, TILE - 1, TILE, TILE + 1, 2 * TILE + 1, 37, 53, 70])('N = %i: equal the one-tile evaluation to 1e-13 and the primal to 1e-10', async (N) => {
    const backend = await getBackend(backendName);
    const data = firstRows(full, N);
    const model = randomModel({ inputs: D, hidden: [H], classes: C, activation: 'tanh', seed: 7 });
    const spec = toProblemSpec(model, data, 'mean');
    const tiled = await closedFormTraces(backend, spec, { method: 'dual', workBytes: workBytesForTile(TILE), orthogonality: false });
    const whole = await closedFormTraces(backend, spec, { method: 'dual', orthogonality: false });
    const primal = await closedFormTraces(backend, spec, { method: 'primal', orthogonality: false });
    expect(tiled.tiles!.size).toBe(Math.min(TILE, N));
    const side = Math.ceil(N / Math.min(TILE, N));
    expect(tiled.tiles!.count).toBe((side * (side + 1)) / 2);
    expect(whole.tiles!.count).toBe(1);
    const scale = Math.abs(tiled.traceOfSquare);
    terms(tiled).forEach((v, i) => {
      const one = terms(whole)[i]!;
      const other = terms(primal)[i]!;
      expect(Number.isFinite(v)).toBe(true);
      // Relative to the term itself; terms far below tr(H^2) (which cancel) relative to 1e-3 tr(H^2).
      const floor = Math.max(Math.abs(one), 1e-3 * scale, 1e-300);
      expect(Math.abs(v - one) / floor, `term ${i}: ${v} vs one tile ${one}`).toBeLessThan(1e-13);
      expect(Math.abs(v - other) / Math.max(Math.abs(other), 1e-3 * scale, 1e-300), `term ${i}: ${v} vs primal ${other}`).toBeLessThan(1e-10);
    });
  });

  it('relu (sigma\'\' = 0, the e Grams skipped): tiled = one tile to 1e-13 and = primal to 1e-10', async () => {
    const backend = await getBackend(backendName);
    const data = firstRows(full, 2 * TILE + 3);
    const model = randomModel({ inputs: D, hidden: [H], classes: C, activation: 'relu', seed: 8 });
    const spec = toProblemSpec(model, data, 'mean');
    const tiled = await closedFormTraces(backend, spec, { method: 'dual', workBytes: workBytesForTile(TILE), orthogonality: false });
    const whole = await closedFormTraces(backend, spec, { method: 'dual', orthogonality: false });
    const primal = await closedFormTraces(backend, spec, { method: 'primal', orthogonality: false });
    expect(tiled.tiles!.count).toBe(6);
    const scale = Math.abs(whole.traceOfSquare);
    terms(tiled).forEach((v, i) => {
      const one = terms(whole)[i]!;
      expect(Math.abs(v - one) / Math.max(Math.abs(one), 1e-3 * scale), `term ${i}`).toBeLessThan(1e-13);
      expect(Math.abs(v - terms(primal)[i]!) / Math.max(Math.abs(one), 1e-3 * scale), `term ${i} vs primal`).toBeLessThan(1e-10);
    });
  });

  it('a saturated softmax (1 - p below 1e-15): every tiled dual term equals the primal to 1e-12 of itself', async () => {
    const backend = await getBackend(backendName);
    const base = syntheticDataset({ n: 57, d: 9, classes: 6, rho: 0.2, seed: 12, teacher: 'centroids' });
    const { model, data, margin } = saturated(randomModel({ inputs: 9, hidden: [30], classes: 6, activation: 'tanh', seed: 13 }), base, 12000);
    expect(margin, 'every sample saturated: 1 - p < 5 e^-margin < 1e-15').toBeGreaterThan(37);
    const spec = toProblemSpec(model, data, 'mean');
    const tiled = await closedFormTraces(backend, spec, { method: 'dual', workBytes: workBytesForTile(TILE, 6, 30), orthogonality: false });
    const primal = await closedFormTraces(backend, spec, { method: 'primal', orthogonality: false });
    expect(tiled.tiles!.size).toBe(TILE);
    terms(tiled).forEach((v, i) => {
      const other = terms(primal)[i]!;
      expect(Number.isFinite(v)).toBe(true);
      expect(Math.abs(v - other), `term ${i}: ${v} vs primal ${other}`).toBeLessThanOrEqual(1e-12 * Math.abs(other));
    });
  });

  it('a larger width and 10 classes (row groups of the Q GEMM cut mid-tile): tiled = one tile to 1e-13', async () => {
    const backend = await getBackend(backendName);
    const data = syntheticDataset({ n: 61, d: 9, classes: 10, rho: 0.2, seed: 2, teacher: 'centroids' });
    const model = randomModel({ inputs: 9, hidden: [33], classes: 10, activation: 'softplus', seed: 3 });
    const spec = toProblemSpec(model, data, 'sum');
    const tiled = await closedFormTraces(backend, spec, { method: 'dual', workBytes: workBytesForTile(13, 10, 33), orthogonality: false });
    const whole = await closedFormTraces(backend, spec, { method: 'dual', orthogonality: false });
    expect(tiled.tiles!.size).toBe(13);
    const scale = Math.abs(whole.traceOfSquare);
    terms(tiled).forEach((v, i) => {
      const one = terms(whole)[i]!;
      expect(Math.abs(v - one) / Math.max(Math.abs(one), 1e-3 * scale), `term ${i}`).toBeLessThan(1e-13);
    });
  });
});

// One child process per thread count: the traces' bits and the threads the kernel used.
const CHILD = `
import { closedFormTraces, getBackend, randomModel, syntheticDataset } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
import { toProblemSpec } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/problem.ts')).href)};
const backend = await getBackend(process.env.CHILD_BACKEND);
const data = syntheticDataset({ n: 200, d: 20, classes: 10, rho: 0.2, seed: 9, teacher: 'centroids' });
const model = randomModel({ inputs: 20, hidden: [24], classes: 10, activation: 'tanh', seed: 11 });
// A 40-sample tile: 15 tiles, so 2 and 3 threads take them in a timing-dependent order.
const r = await closedFormTraces(backend, toProblemSpec(model, data, 'mean'), { method: 'dual', workBytes: Number(process.env.CHILD_WORK), orthogonality: false });
// The primal with small panels: hundreds of panel blocks per pass.
const q = await closedFormTraces(backend, toProblemSpec(model, data, 'mean'), { method: 'primal', workBytes: 76800, orthogonality: false });
const values = [];
for (const x of [r, q]) {
  const d = x.decomposition;
  values.push(x.trace, x.traceOfSquare, d.blocks.output.traceOfSquare, d.blocks.hidden.traceOfSquare, d.blocks.cross.traceOfSquare, d.gaussNewton.traceOfSquare, d.residual.traceOfSquare, d.mixed);
}
console.log(JSON.stringify({ bits: Buffer.from(new Float64Array(values).buffer).toString('base64'), values, tiles: r.tiles, primalThreads: q.threads, simd: backend.addonInfo?.simd ?? null }));
`;

interface ChildResult {
  bits: string;
  values: number[];
  simd: string | null;
  tiles: { size: number; count: number; threads: number };
  primalThreads: number;
}

function runChild(backend: string, threads: string, simd?: string): ChildResult {
  const env: Record<string, string | undefined> = { ...process.env, HESSBOUND_THREADS: threads, CHILD_BACKEND: backend, CHILD_WORK: String(workBytesForTile(40, 10, 24)) };
  if (simd) env['HESSBOUND_SIMD'] = simd;
  else delete env['HESSBOUND_SIMD'];
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as ChildResult;
}

describe.each(BACKENDS.filter((b) => b === 'native' || b === 'wasm-threads'))('tiled dual traces on %s with 1, 2 and 3 kernel threads', (backend) => {
  it('are bit-identical, run after run (dual tiles and primal panel blocks)', () => {
    const one = runChild(backend, '1');
    expect(one.tiles).toEqual({ size: 40, count: 15, threads: 1 });
    expect(one.primalThreads).toBe(1);
    for (const threads of ['2', '3', '2']) {
      const r = runChild(backend, threads);
      expect(r.tiles.threads, `${threads} threads asked`).toBe(Number(threads));
      expect(r.primalThreads, `${threads} threads asked (primal)`).toBe(Number(threads));
      expect(r.bits, `${threads} threads against 1`).toBe(one.bits);
    }
  }, 240_000);
});

const cpuInfo = readFileSync('/proc/cpuinfo', 'utf8');
const cpuPaths = ['generic', ...(/\bavx2\b/.test(cpuInfo) && /\bfma\b/.test(cpuInfo) ? ['avx2'] : []), ...(/\bavx512f\b/.test(cpuInfo) ? ['avx512'] : [])];

describe.runIf(BACKENDS.includes('native'))('tiled dual traces on every native SIMD path (HESSBOUND_SIMD)', () => {
  it('agree across paths to 1e-13 and are bit-identical for 1 and 2 threads on each', () => {
    const best = runChild('native', '1');
    for (const path of cpuPaths) {
      const one = runChild('native', '1', path);
      const two = runChild('native', '2', path);
      expect(one.simd).toBe(path);
      expect(two.tiles.threads).toBe(2);
      expect(two.bits, `${path}: 2 threads against 1`).toBe(one.bits);
      const scale = Math.abs(best.values[1]!);
      one.values.forEach((v, i) => {
        const ref = best.values[i]!;
        expect(Math.abs(v - ref) / Math.max(Math.abs(ref), 1e-3 * scale), `${path}, value ${i}`).toBeLessThan(1e-13);
      });
    }
  }, 240_000);
});

describe.each(BACKENDS.filter((b) => b === 'native'))('tiled dual traces on %s: progress and cancellation inside the tile loop', (backendName) => {
  it('report increasing fractions and stop at the next tile when the signal aborts, then the next call works', async () => {
    const backend = await getBackend(backendName);
    const data = syntheticDataset({ n: 1500, d: 64, classes: 10, rho: 0.2, seed: 4, teacher: 'centroids' });
    const model = randomModel({ inputs: 64, hidden: [128], classes: 10, activation: 'tanh', seed: 5 });
    const spec = toProblemSpec(model, data, 'mean');
    // A 64-sample tile: 300 tiles, so the run reports often and is far from done at the first report.
    const workBytes = workBytesForTile(64, 10, 128);
    const seen: number[] = [];
    const controller = new AbortController();
    const call = closedFormTraces(backend, spec, {
      method: 'dual',
      workBytes,
      orthogonality: false,
      signal: controller.signal,
      onProgress: (f) => {
        seen.push(f);
        if (f > 0.01) controller.abort();
      },
    });
    await expect(call).rejects.toMatchObject({ code: 'ABORTED' });
    expect(seen.length).toBeGreaterThan(0);
    expect(Math.max(...seen)).toBeLessThan(0.9);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    const small = toProblemSpec(model, firstRows(data, 100), 'mean');
    const again = await closedFormTraces(backend, small, { method: 'dual', workBytes, orthogonality: false });
    expect(Number.isFinite(again.traceOfSquare)).toBe(true);
  }, 120_000);
});
