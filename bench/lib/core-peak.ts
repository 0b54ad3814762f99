/**
 * One core's floating-point limits and the AVX-512 products' rates (bench/native/gemm512-peak.cpp,
 * compiled here with the system g++ against the system OpenBLAS, run on one thread).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BENCH_DIR, REPO_DIR } from './peer.js';

export interface ProductRate {
  width: number;
  product: string;
  flops: number;
  /** GFLOP/s */
  openblas: number;
  gemm512: number;
}
export interface CorePeaks {
  /** GFLOP/s of 24 independent chains of 512-bit / 256-bit fused multiply-adds, float64. */
  peak512: number;
  peak256: number;
  /** OpenBLAS's 1024^3 DGEMM in this process (OPENBLAS_CORETYPE as in the environment). */
  dgemm1024: number;
  shapes: ProductRate[];
}

let exe: string | undefined;

export function measureCorePeaks(env: Record<string, string> = {}): CorePeaks {
  if (!exe) {
    exe = join(mkdtempSync(join(tmpdir(), 'hessbound-peak-')), 'gemm512-peak');
    execFileSync('g++', ['-O2', '-std=c++17', `-I${join(REPO_DIR, 'native/kernel')}`, '-I/usr/include/x86_64-linux-gnu/openblas-pthread',
      join(BENCH_DIR, 'native/gemm512-peak.cpp'), join(REPO_DIR, 'native/kernel/linalg/gemm512.cpp'), '-lopenblas', '-o', exe], { stdio: 'pipe' });
  }
  const text = execFileSync(exe, { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1', ...env } });
  return JSON.parse(text) as CorePeaks;
}
