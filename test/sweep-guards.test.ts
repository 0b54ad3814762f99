/** Sweep outputs: spec stored and checked on resume, an exclusive lock, data validated before any file. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HessboundError } from '../src/errors.js';
import { createWorkerPool } from '../src/node/sweep-pool.js';
import { acquireSweepLock, lockPath, specPath } from '../src/node/sweep-guard.js';
import { runSweep, type NodeSweepOptions } from '../src/node/sweep-run.js';

const dir = mkdtempSync(join(tmpdir(), 'hessbound-sweep-guard-'));

async function drain(options: NodeSweepOptions): Promise<number> {
  let results = 0;
  for await (const event of runSweep(options)) if (event.type === 'result') results++;
  return results;
}

async function failure(promise: Promise<unknown>): Promise<HessboundError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(HessboundError);
  return error as HessboundError;
}

const grid = { dataset: 'iris', widths: [2], seeds: 1, maxSteps: 20 };

describe('sweep files', () => {
  it('refuses an unknown data set before writing anything', async () => {
    const csvPath = join(dir, 'unknown.csv');
    const e = await failure(drain({ grid: { ...grid, dataset: 'irsi' }, workers: 1, files: { csvPath } }));
    expect(e.code).toBe('BAD_OPTION');
    expect(e.message).toMatch(/irsi/);
    expect(existsSync(csvPath)).toBe(false);
    expect(existsSync(lockPath(csvPath))).toBe(false);
  });

  it('stores the spec, refuses to resume a different sweep saying what differs, resumes the same one', async () => {
    const csvPath = join(dir, 'a.csv');
    expect(await drain({ grid, workers: 1, files: { csvPath } })).toBe(1);
    expect(JSON.parse(readFileSync(specPath(csvPath), 'utf8'))).toMatchObject({ format: 'hessbound.sweep-spec.v1', grid: { widths: [2], seeds: [0], datasets: ['iris'] } });
    expect(existsSync(lockPath(csvPath))).toBe(false);
    const other = await failure(drain({ grid: { ...grid, widths: [3], gradTol: 1e-3 }, workers: 1, files: { csvPath, resume: true } }));
    expect(other.code).toBe('BAD_OPTION');
    expect(other.message).toContain('widths: [2] in the file, [3] now');
    expect(other.message).toMatch(/gradTol: 0\.000001 in the file, 0\.001 now/);
    const otherData = await failure(drain({ grid: { ...grid, dataset: 'wine' }, workers: 1, files: { csvPath, resume: true } }));
    expect(otherData.message).toContain('datasets: ["iris"] in the file, ["wine"] now');
    expect(await drain({ grid, workers: 1, files: { csvPath, resume: true } })).toBe(0);
    expect(readFileSync(csvPath, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('locks the output against a second sweep, and takes over a stale lock', async () => {
    const csvPath = join(dir, 'b.csv');
    const release = acquireSweepLock(csvPath);
    try {
      const e = await failure(drain({ grid, workers: 1, files: { csvPath, overwrite: true } }));
      expect(e.code).toBe('IO');
      expect(e.message).toContain(`another sweep is writing ${csvPath} (process ${process.pid}`);
      expect(existsSync(csvPath)).toBe(false);
    } finally {
      release();
    }
    // A lock left by a process that is gone.
    writeFileSync(lockPath(csvPath), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: 'then' }));
    expect(await drain({ grid, workers: 1, files: { csvPath } })).toBe(1);
    expect(existsSync(lockPath(csvPath))).toBe(false);
  });

  it('caps workers at the cores unless forced', async () => {
    expect(() => createWorkerPool({ workers: 1000 })).toThrow(/1000 workers is more than the \d+ cores here/);
    const pool = createWorkerPool({ workers: 1000, force: true });
    expect(pool.workers).toBe(1000);
    await pool.close();
  });
});
