/**
 * The study on the queue (issue 24): every network a hardened sweep job (validated, keyed, data by
 * name or by content hash) run by separate `hessbound worker` processes on a real redis-server; the
 * result equals the local study of the same grid. Also: a study point's spec is validated like any
 * job (bad study fields refused), and in-memory data gets the queue's content id.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../src/node/datasets.js';
import { contentDatasetId, serializeDataset } from '../src/queue/content-data.js';
import { jobKey, normalizeJob } from '../src/sweep/job.js';
import { studyDataText, type StudyResult } from '../src/study/study.js';
import { BACKENDS } from './helpers/backends.js';
import { loggedKeys, runCliAsync, startCli, type Proc } from './helpers/queue-procs.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hb-study-queue-'));

/** The same networks, in the same order, with the same numbers (seconds aside). */
function expectSameStudy(queued: StudyResult, local: StudyResult): void {
  const strip = (r: StudyResult) => r.networks.map(({ seconds: _seconds, ...n }) => n);
  expect(strip(queued)).toEqual(strip(local));
  expect(queued.statistics).toEqual(local.statistics);
  expect({ ...queued.protocol }).toEqual({ ...local.protocol });
  expect(queued.reached).toBe(local.reached);
}

describe('study points are sweep jobs', () => {
  it('study fields are validated, change the key, and are absent from plain points', () => {
    const plain = normalizeJob({ dataset: 'iris', width: 4, seed: 0 });
    expect('measures' in plain).toBe(false);
    const point = normalizeJob({ dataset: 'iris', width: 4, seed: 0, testFraction: 0.3, measures: ['pathNorm', 'adaptiveSharpness2@rho=0.05'], labelNoise: 0.1, trainSize: 50 });
    expect(point.measures).toEqual(['pathNorm', 'adaptiveSharpness2@rho=0.05']);
    expect(jobKey(point)).not.toBe(jobKey(normalizeJob({ dataset: 'iris', width: 4, seed: 0, testFraction: 0.3, measures: ['pathNorm', 'adaptiveSharpness2@rho=0.05'], labelNoise: 0.1 })));
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, labelNoise: 0.1 })).toThrow(/need\(s\) measures/);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, measures: ['pathNorm'] })).toThrow(/needs a testFraction/);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, testFraction: 0.3, measures: ['rm -rf /'] })).toThrow(/measure names/);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, testFraction: 0.3, measures: [] })).toThrow(/measure names/);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, testFraction: 0.3, measures: ['pathNorm'], labelNoise: 2 })).toThrow(/labelNoise/);
    expect(() => normalizeJob({ dataset: 'iris', width: 4, seed: 0, testFraction: 0.3, measures: ['pathNorm'], trainSize: 0 })).toThrow(/trainSize/);
  });

  it("in-memory data gets the queue's content id (plain-TypeScript SHA-256 equals node:crypto's)", () => {
    const wine = loadDataset('wine');
    const { id, text } = studyDataText(wine);
    expect(text).toBe(serializeDataset(wine));
    expect(id).toBe(contentDatasetId(text));
  });
});

describe.each(BACKENDS)('the study on a Redis queue (%s backend)', (backend) => {
  let redis: TestRedis;
  const workers: Proc[] = [];
  const workerCache = tmp();

  beforeAll(async () => {
    redis = await startRedis();
    for (let i = 0; i < 2; i++) {
      const w = startCli(['worker', '--queue', redis.url, '--concurrency', '1', '--threads', '1', '--backend', backend], { HESSBOUND_DATA_CACHE: workerCache });
      workers.push(w);
      await w.waitFor((o) => o.includes('hessbound worker: serving'), 'the worker to start');
    }
  }, 120_000);
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await redis?.stop();
  });

  const runStudy = async (args: string[], queue: boolean) => {
    const dir = tmp();
    const r = await runCliAsync(['study', ...args, '--backend', backend, '--quiet', '--resamples', '30', '--json', join(dir, 'r.json'), ...(queue ? ['--queue', redis.url] : [])], { OPENBLAS_NUM_THREADS: '1' });
    expect(r.status, r.stderr).toBe(0);
    return { result: JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as StudyResult, stdout: r.stdout };
  };

  it('a grid over label noise, training-set size and batch size on iris: the queued study equals the local one, each network run once', async () => {
    const grid = ['--dataset', 'iris', '--widths', '4', '--seeds', '0,1', '--label-noise', '0,0.1', '--train-sizes', '60,105', '--batch-sizes', '0,16', '--epochs', '200',
      '--target-loss', '0.35', '--max-steps', '2000', '--measures', 'lambdaMax,wsUpper,pathNorm,adaptiveSharpness2,averageSharpness,pacBayes,inverseMarginSquared', '--sharpness-rhos', '0.02,0.1'];
    const before = workers.map((w) => loggedKeys(w.output(), 'done').length);
    const queued = await runStudy(grid, true);
    const local = await runStudy(grid, false);
    expect(queued.result.networks.length).toBe(16);
    expect(queued.result.reached).toBeGreaterThanOrEqual(8);
    expectSameStudy(queued.result, local.result);
    expect(queued.stdout).toMatch(/16 network\(s\) trained and measured on the queue redis:\/\/127\.0\.0\.1:\d+\/0 \(2 worker process\(es\) connected/);
    const done = workers.flatMap((w, i) => loggedKeys(w.output(), 'done').slice(before[i]));
    expect(done.length).toBe(16);
    expect(new Set(done).size).toBe(16);
  }, 300_000);

  it('file data travels by content hash: the workers fetch it from Redis; equal to the local study', async () => {
    const dir = tmp();
    const iris = loadDataset('iris', { standardize: false });
    const file = join(dir, 'iris.json');
    writeFileSync(file, JSON.stringify({ x: Array.from({ length: iris.n }, (_, i) => Array.from(iris.x.subarray(i * 4, i * 4 + 4))), y: Array.from(iris.labels!) }));
    const grid = ['--data', file, '--widths', '3,5', '--seeds', '0', '--activations', 'tanh,softplus', '--target-loss', '0.3', '--max-steps', '2000', '--measures', 'lambdaMax,fisherRao,epsSharpness'];
    const queued = await runStudy(grid, true);
    const local = await runStudy(grid, false);
    expect(queued.result.protocol.data).toMatch(/^sha256:[0-9a-f]{64}$/);
    expectSameStudy(queued.result, local.result);
    expect(readFileSync(join(workerCache, `${queued.result.protocol.data.slice(7)}.json`), 'utf8')).toContain('hessbound.dataset.v1');
  }, 300_000);
});
