/**
 * The native kernel's SIMD paths (native/kernel/linalg/simd_path.hpp) through the addon: HESSBOUND_SIMD
 * picks each path this CPU runs (an AVX-512 machine runs all three), the addon reports the path that
 * ran, and the paths agree: training's evaluation bit for bit between AVX2 and generic (the same
 * BLAS products and elementwise passes of the same bits), and everything — trained weights, loss,
 * gradient, Hessian-vector products, Lanczos' extreme eigenvalues — to 1e-12 relative across all
 * paths. An unknown HESSBOUND_SIMD is BAD_OPTION. Native only: the WebAssembly modules have one path
 * (SIMD128), covered by their own tests.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { getBackend } from '../src/index.js';
import { BACKENDS } from './helpers/backends.js';
import { ROOT } from './helpers/cli.js';

interface PointRun {
  simd: string;
  simdCpu: string;
  trainedLoss: number;
  trainedParams: number[];
  loss: number;
  gradient: number[];
  hvp: number[];
  lambdaMax: number;
  lambdaMin: number;
}

const cpuInfo = readFileSync('/proc/cpuinfo', 'utf8');
const cpuPaths = ['generic', ...(/\bavx2\b/.test(cpuInfo) && /\bfma\b/.test(cpuInfo) ? ['avx2'] : []), ...(/\bavx512f\b/.test(cpuInfo) ? ['avx512'] : [])];

function runPoint(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/simd-point.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, HESSBOUND_BACKEND: 'native', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const relative = (a: number[], b: number[]): number => {
  let diff = 0, scale = 0;
  a.forEach((x, i) => {
    diff = Math.max(diff, Math.abs(x - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  });
  return diff / scale;
};

describe.runIf(BACKENDS.includes('native'))('SIMD paths of the native kernel (HESSBOUND_SIMD)', () => {
  it('runs every path this CPU has, reports it, and the paths agree (bit for bit where the arithmetic is the same)', () => {
    const runs = new Map<string, PointRun>();
    for (const path of cpuPaths) {
      const r = runPoint({ HESSBOUND_SIMD: path });
      expect(r.status, r.stderr).toBe(0);
      const parsed = JSON.parse(r.stdout) as PointRun;
      expect(parsed.simd).toBe(path);
      expect(parsed.simdCpu).toBe(cpuPaths.at(-1));
      runs.set(path, parsed);
    }
    const generic = runs.get('generic')!;
    const avx2 = runs.get('avx2');
    // Training's evaluation: the same BLAS calls and elementwise bits on AVX2 and generic.
    if (avx2) {
      expect(avx2.trainedParams).toEqual(generic.trainedParams);
      expect(avx2.trainedLoss).toBe(generic.trainedLoss);
    }
    for (const run of runs.values()) {
      expect(relative(run.trainedParams, generic.trainedParams)).toBeLessThan(1e-12);
      expect(Math.abs(run.loss - generic.loss)).toBeLessThanOrEqual(1e-12 * generic.loss);
      expect(relative(run.gradient, generic.gradient)).toBeLessThan(1e-12);
      expect(relative(run.hvp, generic.hvp)).toBeLessThan(1e-12);
      expect(Math.abs(run.lambdaMax - generic.lambdaMax)).toBeLessThanOrEqual(1e-12 * Math.abs(generic.lambdaMax));
      expect(Math.abs(run.lambdaMin - generic.lambdaMin)).toBeLessThanOrEqual(1e-12 * Math.abs(generic.lambdaMax));
    }
  }, 180_000);

  it('without HESSBOUND_SIMD runs the CPU\'s best path', async () => {
    const saved = process.env['HESSBOUND_SIMD'];
    delete process.env['HESSBOUND_SIMD'];
    try {
      const backend = await getBackend('native');
      // This process's kernel read HESSBOUND_SIMD when it first ran: only meaningful if it was unset.
      if (saved === undefined) expect(backend.addonInfo?.simd).toBe(cpuPaths.at(-1));
      expect(backend.addonInfo?.simdCpu).toBe(cpuPaths.at(-1));
    } finally {
      if (saved !== undefined) process.env['HESSBOUND_SIMD'] = saved;
    }
  });

  it('rejects an unknown HESSBOUND_SIMD with BAD_OPTION and a hint', async () => {
    const saved = process.env['HESSBOUND_SIMD'];
    process.env['HESSBOUND_SIMD'] = 'sse9';
    try {
      await expect(getBackend('native')).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/HESSBOUND_SIMD='sse9'[\s\S]*hint: use one of generic, avx2, avx512/) });
    } finally {
      if (saved === undefined) delete process.env['HESSBOUND_SIMD'];
      else process.env['HESSBOUND_SIMD'] = saved;
    }
  });
});
