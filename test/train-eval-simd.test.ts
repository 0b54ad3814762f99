/**
 * Training's evaluation with its AVX-512 products (native/kernel/linalg/gemm512.cpp) and without them.
 *
 * - gemm512.cpp compiled for the host (test/native/gemm512_check.cpp): every product on edge
 *   shapes matches, bit for bit, a plain loop with the same order of operations (one fused
 *   multiply-add per k, in order: the products' fixed summation order) and a long double loop to
 *   ~1e-15 relative.
 * - train_eval.cpp compiled for the host (test/native/train_eval_check.cpp) and run on every SIMD
 *   path this CPU has (HESSBOUND_SIMD=avx512|avx2|generic, simd_path.hpp; AVX-512 runs the
 *   products above, the others BLAS): each against the Hessian path's loss and gradient (what
 *   analyze() uses) to 1e-12, against central differences, against each other, and bit-identical
 *   for 1 and 3 threads; the elementwise passes (elementwise.cpp: tanh, its derivative, column
 *   sums, and the softmax's exponentials) bit-identical on every path, so the AVX2 and generic
 *   paths' evaluations are too; and the evaluation's tanh within 2.5 ulp and its exp within 2 ulp
 *   of long double references (tanhl, expl), glibc's tanh measured alongside for scale.
 * The addon itself is checked end to end by test/train.test.ts and test/thread-determinism.test.ts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const kernel = join(root, 'native/kernel');
const dir = mkdtempSync(join(tmpdir(), 'hessbound-train-simd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cpuHasAvx512 = /\bavx512f\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));

// Asynchronous: compiles and runs take seconds each, and a blocked worker misses vitest's RPC deadlines.
const execFileAsync = promisify(execFile);

async function compile(name: string, sources: string[], defines: string[] = []): Promise<string> {
  const exe = join(dir, name);
  await execFileAsync('c++', ['-O2', '-std=c++17', '-I/usr/include/eigen3', `-I${kernel}`, ...defines, ...sources, '-lpthread', '-o', exe]);
  return exe;
}

interface EvalCase {
  loss: number;
  referenceLoss: number;
  grad: number[];
  referenceGrad: number[];
  fd: number[];
  fdIndex: number[];
  threads: number;
}
interface EvalRun {
  path: string;
  simd: boolean;
  tanhHash: string;
  expHash: string;
  elementwiseHash: string;
  tanhUlps: number;
  libmTanhUlps: number;
  expUlps: number;
  cases: EvalCase[];
}

type SimdPath = 'avx512' | 'avx2' | 'generic';
const cpuInfo = readFileSync('/proc/cpuinfo', 'utf8');
const cpuHasAvx2 = /\bavx2\b/.test(cpuInfo) && /\bfma\b/.test(cpuInfo);
/** The paths this CPU runs (simd_path.hpp caps a request at the CPU's best). */
const runnablePaths: SimdPath[] = [...(cpuHasAvx512 ? ['avx512' as const] : []), ...(cpuHasAvx2 ? ['avx2' as const] : []), 'generic'];

async function run(exe: string, threads: number, path: SimdPath): Promise<{ parsed: EvalRun; text: string }> {
  const { stdout: text } = await execFileAsync(exe, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, HESSBOUND_THREADS: String(threads), HESSBOUND_SIMD: path } });
  return { parsed: JSON.parse(text) as EvalRun, text };
}

const maxAbs = (v: number[]): number => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const maxDiff = (a: number[], b: number[]): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('AVX-512 products of training (gemm512.cpp), compiled for the host', () => {
  it('match a same-order loop bit for bit and a long double loop to 1e-13 on edge shapes', async () => {
    const exe = await compile('gemm512', [join(root, 'test/native/gemm512_check.cpp'), join(kernel, 'linalg/gemm512.cpp')]);
    const r = JSON.parse((await execFileAsync(exe, { encoding: 'utf8', maxBuffer: 16 << 20 })).stdout) as { available: boolean; checked?: number; mismatches?: number; worstRelative?: number };
    expect(r.available).toBe(cpuHasAvx512);
    if (!cpuHasAvx512) return; // nothing to run them on: the evaluation test below covers the BLAS path
    expect(r.checked).toBeGreaterThan(100_000);
    expect(r.mismatches).toBe(0);
    expect(r.worstRelative).toBeLessThan(1e-13);
  }, 120_000);

  it('training evaluation on every SIMD path: agrees with the Hessian path, finite differences and each other; elementwise passes bit-identical across paths; bit-identical for 1 and 3 threads', async () => {
    const sources = ['train/train_eval.cpp', 'linalg/elementwise.cpp', 'linalg/gemm512.cpp', 'model/sample_chunks.cpp', 'model/network.cpp', 'model/activation.cpp', 'linalg/blas.cpp'].map((f) =>
      join(kernel, f),
    );
    const exe = await compile('train-eval', [join(root, 'test/native/train_eval_check.cpp'), ...sources]);
    const runs: ({ path: SimdPath } & Awaited<ReturnType<typeof run>>)[] = [];
    for (const path of runnablePaths) runs.push({ path, ...(await run(exe, 1, path)) });
    for (const r of runs) {
      expect(r.parsed.path).toBe(r.path);
      expect(r.parsed.simd).toBe(r.path === 'avx512');
      // The evaluation's own tanh ((e^y - 1) / (e^y + 1) from one polynomial) within 2.5 ulp of the
      // true value (glibc's tanh: about 2.2 there), its exp within 2 ulp.
      expect(r.parsed.tanhUlps).toBeLessThanOrEqual(2.5);
      expect(r.parsed.libmTanhUlps).toBeLessThanOrEqual(3);
      expect(r.parsed.expUlps).toBeLessThanOrEqual(2);
      // Thread counts change nothing, not even the last bit (fixed chunks, fixed order of sums).
      const withoutThreads = (text: string): string => text.replace(/"threads": \d+/g, '');
      const three = await run(exe, 3, r.path);
      expect(three.parsed.cases.at(-1)!.threads).toBe(3); // the bench-shaped case has chunks for 3
      expect(r.parsed.cases.at(-1)!.threads).toBe(1);
      expect(withoutThreads(three.text)).toBe(withoutThreads(r.text));
      expect(r.parsed.cases).toHaveLength(6);
    }
    // Same IEEE operations on every path (no FMA contraction on the wide ones): the same bits.
    for (const r of runs) {
      expect(r.parsed.tanhHash).toBe(runs[0]!.parsed.tanhHash);
      expect(r.parsed.expHash).toBe(runs[0]!.parsed.expHash);
      expect(r.parsed.elementwiseHash).toBe(runs[0]!.parsed.elementwiseHash);
    }
    const blas = runs.find((r) => r.path === 'generic')!;
    const avx2 = runs.find((r) => r.path === 'avx2');
    // AVX2 and generic differ only in the elementwise passes' vector width: the same evaluation bits.
    if (avx2) expect(avx2.parsed.cases).toEqual(blas.parsed.cases);
    for (const r of runs)
      r.parsed.cases.forEach((s, i) => {
        const b = blas.parsed.cases[i]!;
        expect(Math.abs(s.loss - s.referenceLoss)).toBeLessThanOrEqual(1e-12 * s.referenceLoss);
        expect(maxDiff(s.grad, s.referenceGrad)).toBeLessThanOrEqual(1e-12 * maxAbs(s.referenceGrad));
        s.fdIndex.forEach((at, j) => {
          expect(Math.abs(s.fd[j]! - s.grad[at]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, maxAbs(s.grad)));
        });
        expect(maxDiff(s.grad, b.grad)).toBeLessThanOrEqual(1e-12 * maxAbs(b.grad));
      });
  }, 240_000);
});
