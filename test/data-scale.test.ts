/**
 * Issue 25 item 6 (data at scale), at a CI-sized 6,000 x 3,072: .npy files load with no copy beyond
 * the one float64 matrix the kernel needs (float64 files: none at all, the file's bytes are the
 * matrix), measured as the growth of a child process's peak RSS while loading; what does not fit is
 * refused with TOO_LARGE and the numbers before it is allocated. bench/data-scale.ts runs the same at
 * 60,000 x 3,072.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { writeFeatureNpy, writeLabelNpy } from './helpers/npy-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'hb-scale-'));
const n = 6000;
const d = 3072;
const MB = 1e6;
const value = (i: number, j: number) => ((i * 31 + j * 17) % 1024) / 256 - 2; // exact in float32

function load(kind: 'npy' | 'npz', a: string, b = '', env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/load-rss.ts'), kind, a, b], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { n?: number; d?: number; grewBytes: number; sum?: number; first?: number; last?: number; error?: string; code?: string };
}

describe('data at scale: no copies beyond the one float64 matrix', () => {
  const labels = join(dir, 'y.npy');
  writeLabelNpy(labels, Array.from({ length: n }, (_, i) => i % 10));
  let expectedSum = 0;
  for (let k = 0; k < n * d; k += 997) expectedSum += value(Math.floor(k / d), k % d);

  for (const dtype of ['f4', 'f8'] as const)
    it(`${n} x ${d} ${dtype === 'f4' ? 'float32' : 'float64'} .npy: the values exactly, and RSS grows by the file plus ${dtype === 'f4' ? 'one float64 matrix' : 'nothing more'}`, () => {
      const x = join(dir, `x-${dtype}.npy`);
      writeFeatureNpy(x, n, d, dtype, value);
      const r = load('npy', x, labels);
      expect(r.error).toBeUndefined();
      expect([r.n, r.d]).toEqual([n, d]);
      expect(r.sum).toBe(expectedSum);
      expect([r.first, r.last]).toEqual([value(0, 0), value(n - 1, d - 1)]);
      const file = statSync(x).size;
      const matrix = 8 * n * d;
      const allowed = file + (dtype === 'f4' ? matrix : 0) + 20 * MB;
      // The code before this test: a copy of the file, the float64 values and the data set's copy.
      expect(r.grewBytes, `grew ${(r.grewBytes / MB).toFixed(0)} MB; file ${(file / MB).toFixed(0)} MB, matrix ${(matrix / MB).toFixed(0)} MB`).toBeLessThan(allowed);
    });

  it('too large for the memory: TOO_LARGE with the numbers, before the float64 matrix is allocated', () => {
    const x = join(dir, 'x-f4.npy');
    // 74 MB of float32 becomes 147 MB of float64: refused under a 0.15 GB budget.
    const r = load('npy', x, labels, { HESSBOUND_MAX_MEMORY: '0.15' });
    expect(r.code).toBe('TOO_LARGE');
    expect(r.error).toMatch(/holds \[6000, 3072\] f4 values: 147 MB as float64, 221 MB with the file's bytes while converting, more than available memory allows \(150 MB\)/);
    expect(r.grewBytes).toBeLessThan(statSync(x).size + 20 * MB);
  });
});
