/**
 * Training's evaluation with its AVX-512 products (native/kernel/gemm512.cpp) and without them.
 *
 * - gemm512.cpp compiled for the host (test/native/gemm512_check.cpp): every product on edge
 *   shapes matches, bit for bit, a plain loop with the same order of operations (one fused
 *   multiply-add per k, in order: the products' fixed summation order) and a long double loop to
 *   ~1e-15 relative.
 * - train_eval.cpp compiled for the host twice (test/native/train_eval_check.cpp): as the addon
 *   runs it here, and capped to the BLAS path (-DHESSBOUND_TRAIN_SIMD_LEVEL=0, what machines without
 *   AVX-512 run). Both against the Hessian path's loss and gradient (what analyze() uses) to
 *   1e-12, against central differences, against each other, and bit-identical for 1 and 3
 *   threads; and the evaluation's tanh within 2 ulp of libm's.
 * The addon itself is checked end to end by test/train.test.ts and test/thread-determinism.test.ts.
 */
import { execFileSync } from 'node:child_process';
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

function compile(name: string, sources: string[], defines: string[] = []): string {
  const exe = join(dir, name);
  execFileSync('c++', ['-O2', '-std=c++17', '-I/usr/include/eigen3', `-I${kernel}`, ...defines, ...sources, '-lpthread', '-o', exe], {
    stdio: 'pipe',
  });
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
  simd: boolean;
  tanhUlps: number;
  cases: EvalCase[];
}

function run(exe: string, threads: number): { parsed: EvalRun; text: string } {
  const text = execFileSync(exe, { encoding: 'utf8', env: { ...process.env, HESSBOUND_THREADS: String(threads) } });
  return { parsed: JSON.parse(text) as EvalRun, text };
}

const maxAbs = (v: number[]): number => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const maxDiff = (a: number[], b: number[]): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('AVX-512 products of training (gemm512.cpp), compiled for the host', () => {
  it('match a same-order loop bit for bit and a long double loop to 1e-13 on edge shapes', () => {
    const exe = compile('gemm512', [join(root, 'test/native/gemm512_check.cpp'), join(kernel, 'gemm512.cpp')]);
    const r = JSON.parse(execFileSync(exe, { encoding: 'utf8' })) as { available: boolean; checked?: number; mismatches?: number; worstRelative?: number };
    expect(r.available).toBe(cpuHasAvx512);
    if (!cpuHasAvx512) return; // nothing to run them on: the evaluation test below covers the BLAS path
    expect(r.checked).toBeGreaterThan(100_000);
    expect(r.mismatches).toBe(0);
    expect(r.worstRelative).toBeLessThan(1e-13);
  }, 120_000);

  it('training evaluation: AVX-512 and BLAS paths agree with the Hessian path, finite differences and each other; bit-identical for 1 and 3 threads', () => {
    const sources = ['train_eval.cpp', 'gemm512.cpp', 'sample_chunks.cpp', 'network.cpp', 'activation.cpp', 'blas.cpp'].map((f) => join(kernel, f));
    const check = join(root, 'test/native/train_eval_check.cpp');
    const simdExe = compile('train-eval', [check, ...sources]);
    const blasExe = compile('train-eval-blas', [check, ...sources], ['-DHESSBOUND_TRAIN_SIMD_LEVEL=0']);
    const simd = run(simdExe, 1), blas = run(blasExe, 1);
    expect(simd.parsed.simd).toBe(cpuHasAvx512);
    expect(blas.parsed.simd).toBe(false);
    // The evaluation's own tanh (odd polynomial below 0.55, exponential beyond) within 2 ulp of libm's.
    expect(simd.parsed.tanhUlps).toBeLessThanOrEqual(2);
    // Thread counts change nothing, not even the last bit (fixed chunks, fixed order of sums).
    const withoutThreads = (text: string): string => text.replace(/"threads": \d+/g, '');
    for (const [exe, one] of [[simdExe, simd], [blasExe, blas]] as const) {
      const three = run(exe, 3);
      expect(three.parsed.cases.at(-1)!.threads).toBe(3); // the bench-shaped case has chunks for 3
      expect(one.parsed.cases.at(-1)!.threads).toBe(1);
      expect(withoutThreads(three.text)).toBe(withoutThreads(one.text));
    }
    expect(simd.parsed.cases).toHaveLength(6);
    simd.parsed.cases.forEach((s, i) => {
      const b = blas.parsed.cases[i]!;
      for (const c of [s, b]) {
        expect(Math.abs(c.loss - c.referenceLoss)).toBeLessThanOrEqual(1e-12 * c.referenceLoss);
        expect(maxDiff(c.grad, c.referenceGrad)).toBeLessThanOrEqual(1e-12 * maxAbs(c.referenceGrad));
        c.fdIndex.forEach((at, j) => {
          expect(Math.abs(c.fd[j]! - c.grad[at]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, maxAbs(c.grad)));
        });
      }
      expect(maxDiff(s.grad, b.grad)).toBeLessThanOrEqual(1e-12 * maxAbs(b.grad));
    });
  }, 240_000);
});
