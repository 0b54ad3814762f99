/** Sweep jobs, points, the sweep loop, the worker pool, result files, CSV rows and the SVG plot. */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src/node/datasets.js';
import { openSweepFiles } from '../src/node/sweep-files.js';
import { createWorkerPool } from '../src/node/sweep-pool.js';
import { CSV_COLUMNS, CSV_COLUMNS_BEFORE_HSR, CSV_COLUMNS_BEFORE_MINIBATCH, CSV_HEADER, csvRow, parseCsvRow } from '../src/sweep/csv.js';
import { canonicalDatasetId, loadDatasetById } from '../src/sweep/dataset-id.js';
import { canonicalJson, gridJobs, jobKey, makeJob, normalizeJob } from '../src/sweep/job.js';
import { sweepPlotSvg } from '../src/sweep/plot.js';
import type { SweepRecord, SweepResult } from '../src/sweep/result.js';
import { runPoint } from '../src/sweep/run-point.js';
import { sha256Hex } from '../src/sweep/sha256.js';
import { sweep, type SweepEvent } from '../src/sweep/sweep.js';
import { BACKENDS } from './helpers/backends.js';
import { checkSvg } from './helpers/svg.js';

const loadData = (id: string) => loadDatasetById(id, (name) => loadDataset(name));
const TIMINGS: ReadonlySet<string> = new Set(['seconds', 'secondsTrain', 'secondsBound', 'secondsLambdaMax']);
const withoutTimings = (r: SweepResult) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMINGS.has(k)));

describe('browser safety', () => {
  it('src/sweep/ (the job spec, runPoint, sweep(), CSV rows, the plot) reaches no Node built-in', async () => {
    // esbuild for the browser platform fails on any node:* import reachable from the entry.
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../src/sweep/index.ts', import.meta.url))],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      logLevel: 'silent',
      logOverride: { 'unsupported-dynamic-import': 'silent' },
    });
    expect(result.errors).toEqual([]);
    expect(result.outputFiles[0]!.text).not.toMatch(/from "node:/);
  });
});

describe('sha256Hex', () => {
  it('matches node:crypto on every padding boundary and on non-ASCII text', () => {
    const texts = ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(63), 'a'.repeat(64), 'b'.repeat(1000), 'λ_max ≤ bound ✓'];
    for (const t of texts) expect(sha256Hex(t)).toBe(createHash('sha256').update(t, 'utf8').digest('hex'));
  });
});

describe('sweep jobs', () => {
  it('fill defaults, canonicalise, and key by the canonical JSON', () => {
    const a = makeJob({ dataset: 'Breast-Cancer', width: 8, seed: 1 });
    const b = makeJob({ seed: 1, width: 8, dataset: 'breast_cancer', activation: 'tanh', depth: 1, reduction: 'mean', gradTol: 1e-6 });
    expect(a.spec.dataset).toBe('breast_cancer');
    expect(a.key).toBe(b.key);
    expect(a.key).toMatch(/^[0-9a-f]{16}$/);
    expect(canonicalJson(a.spec)).toBe(canonicalJson(b.spec));
    const keys = Object.keys(JSON.parse(canonicalJson(a.spec)) as object);
    expect(keys).toEqual([...keys].sort());
    expect(jobKey(a.spec)).toBe(sha256Hex(canonicalJson(a.spec)).slice(0, 16));
    // Any field that changes the computation changes the key.
    for (const change of [{ seed: 2 }, { width: 9 }, { gradTol: 1e-7 }, { activation: 'gelu' as const }, { weightDecay: 1e-4 }, { depth: 2 }])
      expect(makeJob({ dataset: 'breast_cancer', width: 8, seed: 1, ...change }).key).not.toBe(a.key);
  });

  it('are stable across releases (a queue may hold old keys)', () => {
    const job = makeJob({ dataset: 'iris', width: 16, seed: 0 });
    expect(canonicalJson(job.spec)).toBe(
      '{"activation":"tanh","adamSteps":200,"dataset":"iris","denseMaxParameters":1500,"depth":1,"format":"hessbound.sweep-job.v2",' +
        '"gradTol":0.000001,"lr":0.01,"maxSteps":20000,"reduction":"mean","seed":0,"splitSeed":0,"targetLoss":0,"testData":"","testFraction":0,"weightDecay":0.001,"width":16}',
    );
    expect(job.key).toBe('fd88a70562147736');
    // HSR beta 0 (given, or from an --hsrs list, with or without a target) is the same plain point.
    for (const input of [{ hsr: 0 }, { hsr: 0, hsrTarget: 'spread' as const }]) {
      const plain = makeJob({ dataset: 'iris', width: 16, seed: 0, ...input });
      expect(canonicalJson(plain.spec)).toBe(canonicalJson(job.spec));
      expect(plain.key).toBe('fd88a70562147736');
    }
    const zero = gridJobs({ dataset: 'iris', widths: [16], seeds: 1, hsrs: [0, 0.1], hsrTarget: 'spread' });
    expect(zero.map((j) => j.key)[0]).toBe('fd88a70562147736');
    expect(zero[1]!.spec).toMatchObject({ hsr: 0.1, hsrTarget: 'spread' });
  });

  it('key HSR points by beta and target (the default target is written out)', () => {
    const base = { dataset: 'iris', width: 16, seed: 0 };
    const upper = makeJob({ ...base, hsr: 0.1 });
    expect(upper.spec).toMatchObject({ hsr: 0.1, hsrTarget: 'upper' });
    expect(makeJob({ ...base, hsr: 0.1, hsrTarget: 'upper' }).key).toBe(upper.key);
    expect(upper.key).not.toBe(makeJob(base).key);
    expect(makeJob({ ...base, hsr: 0.1, hsrTarget: 'spread' }).key).not.toBe(upper.key);
    expect(makeJob({ ...base, hsr: 0.2 }).key).not.toBe(upper.key);
    // A job read back from a queue or a file keeps its key.
    expect(makeJob(upper.spec).key).toBe(upper.key);
    expect(() => normalizeJob({ ...base, hsr: -1 })).toThrow(/hsr must be a non-negative number/);
    expect(() => normalizeJob({ ...base, hsr: 0.1, hsrTarget: 'lower' as never })).toThrow(/hsrTarget must be one of upper, spread/);
    expect(() => normalizeJob({ ...base, hsr: 0.1, depth: 2 })).toThrow(/hsr needs one hidden layer/);
    expect(() => gridJobs({ ...base, widths: [4], seeds: 1, hsr: 0.1, hsrs: [0] })).toThrow(/give hsr or hsrs, not both/);
    const grid = gridJobs({ dataset: 'iris', widths: [4, 8], seeds: 2, hsrs: [0, 0.01, 0.1] });
    expect(grid).toHaveLength(12);
    expect(new Set(grid.map((j) => j.key)).size).toBe(12);
  });

  it('canonicalise synthetic data set ids', () => {
    expect(canonicalDatasetId('synthetic: rho=0.5, n=20 ,d=8,classes=3')).toBe('synthetic:n=20,d=8,classes=3,rho=0.5,seed=0,teacher=mlp');
    expect(() => canonicalDatasetId('synthetic:n=20,d=8,classes=3')).toThrow(/needs rho=/);
    expect(() => canonicalDatasetId('synthetic:n=20,d=8,classes=3,rho=2')).toThrow(/rho must be a number in \[0, 1\)/);
    expect(() => canonicalDatasetId('synthetic:n=20,d=8,classes=3,rho=0.1,colour=red')).toThrow(/unknown field 'colour'/);
  });

  it('reject bad fields with clear messages', () => {
    expect(() => normalizeJob({ dataset: 'iris', width: 0, seed: 0 })).toThrow(/width must be an integer from 1/);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: -1 })).toThrow(/seed/);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, activation: 'elu' as never })).toThrow(/not smooth/);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, lr: 0 })).toThrow(/lr must be a positive number/);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, widht: 3 } as never)).toThrow(/unknown sweep job field 'widht'/);
  });

  it('form grids of widths x seeds (x depths) without duplicates', () => {
    const jobs = gridJobs({ dataset: 'iris', widths: [4, 8, 8], seeds: 3, depth: [1, 2] });
    expect(jobs).toHaveLength(2 * 2 * 3);
    expect(new Set(jobs.map((j) => j.key)).size).toBe(jobs.length);
    expect(gridJobs({ dataset: 'iris', widths: [4], seeds: [5, 7] }).map((j) => j.spec.seed)).toEqual([5, 7]);
    expect(() => gridJobs({ dataset: 'iris', widths: [], seeds: 1 })).toThrow(/widths must be a non-empty list/);
  });
});

describe.each(BACKENDS)('runPoint on the %s backend', (backend) => {
  it('trains, bounds and measures one point; the bound holds; deterministic by seed', async () => {
    const spec = { dataset: 'iris', width: 16, seed: 0 };
    const a = await runPoint(spec, { backend, loadData });
    const r = a.result;
    expect(r.key).toBe(makeJob(spec).key);
    expect(r).toMatchObject({ dataset: 'iris', activation: 'tanh', width: 16, depth: 1, parameters: 131, samples: 150, converged: true, lambdaMethod: 'dense', boundMethod: expect.stringMatching(/dual|primal/), boundEstimated: false, backend });
    expect(r.gradNorm).toBeLessThanOrEqual(1e-6);
    expect(r.bound).toBeGreaterThanOrEqual(r.lambdaMax * (1 - 1e-9));
    expect(r.ratio).toBeCloseTo(r.bound / r.lambdaMax, 12);
    expect(r.secondsTrain + r.secondsBound + r.secondsLambdaMax).toBeLessThanOrEqual(r.seconds);
    expect(a.history.length).toBeGreaterThan(2);
    const b = await runPoint(spec, { backend, loadData });
    expect(withoutTimings(b.result)).toEqual(withoutTimings(r));
  });

  it('uses Lanczos above denseMaxParameters and exact dense traces for deeper nets', async () => {
    const lanczos = await runPoint({ dataset: 'iris', width: 16, seed: 1, denseMaxParameters: 100 }, { backend, loadData });
    const dense = await runPoint({ dataset: 'iris', width: 16, seed: 1 }, { backend, loadData });
    expect(lanczos.result.lambdaMethod).toBe('lanczos');
    expect(lanczos.result.lambdaConverged).toBe(true);
    expect(Math.abs(lanczos.result.lambdaMax - dense.result.lambdaMax)).toBeLessThanOrEqual(1e-8 * dense.result.lambdaMax);
    const deep = await runPoint({ dataset: 'wine', width: 6, depth: 2, seed: 0, activation: 'gelu' }, { backend, loadData });
    expect(deep.result.boundMethod).toBe('dense');
    expect(deep.result.bound).toBeGreaterThanOrEqual(deep.result.lambdaMax * (1 - 1e-9));
  });

  it('runs an --hsrs sweep: the beta-0 point is the plain point, the HSR point from the same start has a smaller bound', async () => {
    const grid = { dataset: 'wine', widths: [4], seeds: 1, hsrs: [0, 0.1] };
    const events: SweepEvent[] = [];
    for await (const e of sweep({ grid, backend, loadData })) events.push(e);
    const rows = events.flatMap((e) => (e.type === 'result' ? [e.record.result] : []));
    expect(events.filter((e) => e.type === 'failure')).toEqual([]);
    const plain = rows.find((r) => r.hsr === 0)!;
    const hsr = rows.find((r) => r.hsr === 0.1)!;
    expect(plain.key).toBe(makeJob({ dataset: 'wine', width: 4, seed: 0 }).key);
    expect(plain).toMatchObject({ hsrTarget: '', hsrPenalty: null });
    expect(hsr).toMatchObject({ hsrTarget: 'upper', width: 4, seed: 0 });
    expect(hsr.bound).toBeLessThan(plain.bound);
    expect(hsr.bound).toBeGreaterThanOrEqual(hsr.lambdaMax * (1 - 1e-9));
    // The penalty is beta x the WS bound at the trained point, which the point's bound phase recomputes.
    expect(Math.abs(hsr.hsrPenalty! - 0.1 * hsr.bound)).toBeLessThanOrEqual(1e-9 * hsr.hsrPenalty!);
    expect(csvRow(hsr).split(',').slice(CSV_COLUMNS.indexOf('hsr'), CSV_COLUMNS.indexOf('hsr') + 3)).toEqual(['0.1', 'upper', String(hsr.hsrPenalty)]);
  });

  it('runs on synthetic data without a loader', async () => {
    const r = await runPoint({ dataset: 'synthetic:n=30,d=40,classes=3,rho=0.3', width: 8, seed: 0 }, { backend });
    expect(r.result.samples).toBe(30);
    expect(r.result.bound).toBeGreaterThanOrEqual(r.result.lambdaMax * (1 - 1e-9));
  });
});

describe('sweep()', () => {
  it('yields start, progress and one result per job; skips done keys', async () => {
    const grid = { dataset: 'iris', widths: [4, 8], seeds: 2 };
    const events: SweepEvent[] = [];
    for await (const e of sweep({ grid, loadData })) events.push(e);
    const results = events.filter((e) => e.type === 'result');
    expect(events[0]).toMatchObject({ type: 'start', total: 4, done: 0 });
    expect(results).toHaveLength(4);
    expect(events.at(-1)).toMatchObject({ type: 'result', done: 4, total: 4, fraction: 1 });
    const fractions = events.filter((e) => e.type === 'progress' || e.type === 'result').map((e) => (e as { fraction: number }).fraction);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]!).toBeGreaterThanOrEqual(fractions[i - 1]! - 1e-12);
    const skip = new Set(gridJobs(grid).slice(0, 3).map((j) => j.key));
    const rest: SweepEvent[] = [];
    for await (const e of sweep({ grid, loadData, skip })) rest.push(e);
    expect(rest[0]).toMatchObject({ type: 'start', total: 1 });
    expect(rest.filter((e) => e.type === 'result')).toHaveLength(1);
  });

  it('reports a failing point and goes on', async () => {
    const jobs = [{ dataset: 'iris', width: 4, seed: 0 }, { dataset: 'no_such_data', width: 4, seed: 0 }];
    const events: SweepEvent[] = [];
    for await (const e of sweep({ jobs, loadData })) events.push(e);
    const failure = events.find((e) => e.type === 'failure');
    expect(failure).toMatchObject({ failure: { spec: { dataset: 'no_such_data' }, error: { code: 'BAD_OPTION', message: expect.stringMatching(/unknown data set/) } } });
    expect(events.filter((e) => e.type === 'result')).toHaveLength(1);
  });

  it('runs on a worker pool with the same results as in-process', async () => {
    const grid = { dataset: 'wine', widths: [4, 8], seeds: 2 };
    const pool = createWorkerPool({ workers: 2 });
    const pooled = new Map<string, SweepRecord>();
    try {
      for await (const e of sweep({ grid, executor: pool })) if (e.type === 'result') pooled.set(e.record.key, e.record);
    } finally {
      await pool.close();
    }
    expect(pooled.size).toBe(4);
    for await (const e of sweep({ grid, loadData }))
      if (e.type === 'result') expect(withoutTimings(pooled.get(e.record.key)!.result)).toEqual(withoutTimings(e.record.result));
  }, 60_000);
});

function fakeResult(key: string, overrides: Partial<SweepResult> = {}): SweepResult {
  return {
    dataset: 'synthetic:n=20,d=8,classes=3,rho=0.5,seed=0,teacher=mlp', activation: 'tanh', width: 8, depth: 1, seed: 0, parameters: 99, samples: 20,
    loss: 1.2345678901234567e-7, gradNorm: 9.99e-7, lambdaMax: 0.1 + 0.2, bound: 1 / 3, ratio: (1 / 3) / 0.30000000000000004, trace: 12.5, traceOfSquare: 1e-300,
    seconds: 0.5, key, converged: true, stopReason: 'gradTol', trainSteps: 250, lambdaMethod: 'dense', lambdaConverged: true, boundMethod: 'primal',
    boundEstimated: false, reduction: 'mean', secondsTrain: 0.25, secondsBound: 0.125, secondsLambdaMax: 0.0625, backend: 'native',
    rho: 0.5, meanAbsCosine: 0.5000000000000001, maxAbsCosine: 0.5000000000000002, orthogonalCounterfactual: null, weightDecay: 0.001, targetLoss: 0,
    testFraction: 0.2, testData: '', testSamples: 4, trainAccuracy: 1, testAccuracy: 0.75, testLoss: 0.3, gap: 0.25, objectiveLambdaMax: 0.301,
    objectiveBound: 1 / 3 + 0.001, parameterNorm: 7.5, scaleDerivative: -1e-9, saturatedFraction: 0.0125, collapsedCells: 0, lambdaRatio: 0.25,
    effectiveRank: 3.5, flags: '', hsr: 0, hsrTarget: '', hsrPenalty: null, batchSize: 0, optimizer: '', epochs: 0, ...overrides,
  };
}

describe('CSV rows', () => {
  it('round-trip every value exactly, quoting data set ids with commas', () => {
    const r = fakeResult('0123456789abcdef', { ratio: null });
    const line = csvRow(r);
    expect(line.split(',').length).toBeGreaterThan(CSV_COLUMNS.length); // the quoted id has commas
    expect(line.startsWith('"synthetic:n=20,d=8')).toBe(true);
    expect(parseCsvRow(line)).toEqual(r);
    expect(CSV_HEADER.startsWith('dataset,activation,width,depth,seed,parameters,samples,loss,gradNorm,lambdaMax,bound,ratio,trace,traceOfSquare,seconds,key')).toBe(true);
  });
});

describe('sweep files', () => {
  const record = (key: string, width: number): SweepRecord => ({ key, spec: makeJob({ dataset: 'iris', width, seed: 0 }).spec, result: fakeResult(key, { width }), history: [] });

  it('refuse to clobber results without --resume or --overwrite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-files-'));
    const csvPath = join(dir, 'r.csv');
    openSweepFiles({ csvPath }).close();
    expect(() => openSweepFiles({ csvPath })).toThrow(/already exists[\s\S]*--resume/);
    openSweepFiles({ csvPath, overwrite: true }).close();
  });

  it('recover from a torn last row and orphan JSON lines on resume', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-files-'));
    const csvPath = join(dir, 'r.csv');
    const files = openSweepFiles({ csvPath });
    files.append(record('aaaaaaaaaaaaaaaa', 4));
    files.append(record('bbbbbbbbbbbbbbbb', 8));
    files.close();
    // A crash: the third point's JSON line was written, its CSV row only half.
    appendFileSync(join(dir, 'r.jsonl'), `${JSON.stringify(record('cccccccccccccccc', 16))}\n{"key":"ddd`);
    appendFileSync(csvPath, csvRow(fakeResult('cccccccccccccccc')).slice(0, 40));
    const resumed = openSweepFiles({ csvPath, resume: true });
    expect([...resumed.previous.keys()]).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb']);
    resumed.append(record('cccccccccccccccc', 16));
    resumed.close();
    const csv = readFileSync(csvPath, 'utf8').split('\n');
    expect(csv[0]).toBe(CSV_HEADER);
    expect(csv.slice(1, -1).map((l) => parseCsvRow(l).key)).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc']);
    expect(csv.at(-1)).toBe('');
    const jsonl = readFileSync(join(dir, 'r.jsonl'), 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as SweepRecord).key);
    expect(jsonl).toEqual(['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc']);
  });

  it('resume a CSV written before the HSR columns: its rows are plain points, the file gains the columns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-files-'));
    const csvPath = join(dir, 'old.csv');
    const old = fakeResult('aaaaaaaaaaaaaaaa', { width: 4 });
    expect(CSV_COLUMNS.slice(CSV_COLUMNS_BEFORE_HSR.length, CSV_COLUMNS_BEFORE_MINIBATCH.length)).toEqual(['hsr', 'hsrTarget', 'hsrPenalty']);
    // The old layout: the same row without the HSR (and later mini-batch) cells at the end.
    const cut = csvRow(old).split(',').slice(0, CSV_COLUMNS_BEFORE_HSR.length - CSV_COLUMNS.length).join(',');
    writeFileSync(csvPath, `${CSV_COLUMNS_BEFORE_HSR.join(',')}\n${cut}\n`);
    const resumed = openSweepFiles({ csvPath, resume: true, jsonlPath: null });
    expect(resumed.previous.get('aaaaaaaaaaaaaaaa')).toEqual(old);
    resumed.append(record('bbbbbbbbbbbbbbbb', 8));
    resumed.close();
    const csv = readFileSync(csvPath, 'utf8').split('\n');
    expect(csv[0]).toBe(CSV_HEADER);
    expect(csv.slice(1, -1).map((l) => parseCsvRow(l))).toEqual([old, fakeResult('bbbbbbbbbbbbbbbb', { width: 8 })]);
  });

  it('resume a CSV written before the mini-batch columns: its rows are full-batch points, the file gains the columns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-files-'));
    const csvPath = join(dir, 'old.csv');
    const old = fakeResult('aaaaaaaaaaaaaaaa', { width: 4, hsr: 0.1, hsrTarget: 'upper', hsrPenalty: 0.5 });
    expect(CSV_COLUMNS.slice(CSV_COLUMNS_BEFORE_MINIBATCH.length)).toEqual(['batchSize', 'optimizer', 'epochs']);
    const cut = csvRow(old).split(',').slice(0, CSV_COLUMNS_BEFORE_MINIBATCH.length - CSV_COLUMNS.length).join(',');
    writeFileSync(csvPath, `${CSV_COLUMNS_BEFORE_MINIBATCH.join(',')}\n${cut}\n`);
    const resumed = openSweepFiles({ csvPath, resume: true, jsonlPath: null });
    expect(resumed.previous.get('aaaaaaaaaaaaaaaa')).toEqual(old);
    resumed.close();
    expect(readFileSync(csvPath, 'utf8').split('\n')[0]).toBe(CSV_HEADER);
  });

  it('refuse a CSV with other columns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-files-'));
    const csvPath = join(dir, 'other.csv');
    writeFileSync(csvPath, 'a,b,c\n1,2,3\n');
    expect(() => openSweepFiles({ csvPath, resume: true })).toThrow(/does not have the columns of a hessbound sweep/);
  });
});

describe('sweepPlotSvg', () => {
  it('is well-formed SVG with both panels, a point per row and quantity, and labelled axes', () => {
    const rows = [4, 8, 16, 32].flatMap((width, i) =>
      [0, 1, 2].map((seed) => fakeResult(`k${width}-${seed}`, { width, seed, lambdaMax: 10 ** (-i - seed / 10), bound: 1.1 * 10 ** (-i - seed / 10), ratio: 1.1, converged: seed !== 2 })),
    );
    const svg = sweepPlotSvg(rows);
    const doc = checkSvg(svg);
    expect(doc.root).toBe('svg');
    expect(doc.count('g')).toBe(2);
    expect(svg).toContain('id="sharpness"');
    expect(svg).toContain('id="ratio"');
    expect(doc.count('circle')).toBe(rows.length + 2); // lambda_max points + legend markers (filled, hollow)
    expect(doc.count('polyline')).toBe(3); // median lines: lambda_max, bound, ratio
    for (const text of ['lambda_max (exact)', 'Wolkowicz', 'hidden width', 'bound / lambda_max', 'hollow: not converged', '>16<', '>32<'])
      expect(svg).toContain(text);
    // The log axis spans the data (6.3e-4 to 1.1), with decade labels inside it.
    for (const tick of ['>0.001<', '>0.01<', '>0.1<', '>1<']) expect(svg).toContain(tick);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('titles name each axis once: content ids and file paths shortened, synthetic ids without their defaults', () => {
    const title = (rows: SweepResult[]) => /<title>([^<]*)<\/title>/.exec(sweepPlotSvg(rows))?.[1];
    const content = `sha256:${'ab'.repeat(32)}`;
    expect(title([fakeResult('a', { dataset: content, rho: null })])).toBe('Sharpness vs. width: data sha256:abababab\u2026; tanh; 1 hidden layer; weight decay 0.001');
    expect(title([fakeResult('a', { dataset: 'file:/home/me/data/train.csv', rho: null, weightDecay: 0 })])).toBe('Sharpness vs. width: train.csv; tanh; 1 hidden layer');
    expect(title([fakeResult('a')])).toBe('Sharpness vs. width: synthetic n=20, d=8, classes=3, rho=0.5; tanh; 1 hidden layer; weight decay 0.001');
    const rhos = [0, 0.9].map((rho) => fakeResult(`r${rho}`, { rho, dataset: `synthetic:n=20,d=8,classes=3,rho=${rho},seed=0,teacher=mlp` }));
    expect(title(rhos)).toBe('Sharpness vs. width: synthetic n=20, d=8, classes=3; rho 0, 0.9; tanh; 1 hidden layer; weight decay 0.001');
    // The legend names the rho of each colour once (not "rho=0, rho 0").
    const svg = sweepPlotSvg(rhos);
    expect(svg).toContain('>rho 0<');
    expect(svg).toContain('>rho 0.9<');
    expect(svg).not.toMatch(/rho=0, rho/);
  });

  it('copes with one width and with non-positive values', () => {
    const svg = sweepPlotSvg([fakeResult('a', { lambdaMax: -1, ratio: null })]);
    checkSvg(svg);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });
});
