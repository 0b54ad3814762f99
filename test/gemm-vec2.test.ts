/**
 * The WebAssembly build's SIMD128 products (native/kernel/linalg/gemm_vec2.cpp) on every transpose case,
 * edge tiles and blocking boundaries, and its tridiagonalization: compiled for the host (the same
 * GCC/Clang vector types) by test/native/gemm_vec2_check.cpp and checked against plain loops,
 * Eigen and LAPACK (with tridiagonal_eigenvalues.cpp, the build's tridiagonal QL/QR). The wasm backend's end-to-end agreement with native is test/backends-agree.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hessbound-gemm-vec2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gemm_vec2.cpp (SIMD128 kernels of the WebAssembly build), compiled for the host', () => {
  it('GEMM (all transposes, edge tiles), GEMV, dot and the tridiagonal eigenvalues (blocked and unblocked) match the references', () => {
    const exe = join(dir, 'check');
    execFileSync('c++', ['-O1', '-std=c++17', '-I/usr/include/eigen3', `-I${join(root, 'native/kernel')}`,
      join(root, 'test/native/gemm_vec2_check.cpp'), join(root, 'native/kernel/linalg/gemm_vec2.cpp'), join(root, 'native/kernel/linalg/blas.cpp'),
      join(root, 'native/kernel/spectrum/tridiagonal_eigenvalues.cpp'), '-llapacke', '-o', exe], { stdio: 'pipe' });
    const r = JSON.parse(execFileSync(exe, { encoding: 'utf8' })) as Record<string, number | boolean>;
    expect(r['paddingKept']).toBe(true);
    expect(r['gemm']).toBeLessThan(1e-12);
    expect(r['gemv']).toBeLessThan(1e-12);
    expect(r['dot']).toBeLessThan(1e-12);
    expect(r['eigenvalues']).toBeLessThan(1e-12);
    // Blocked tridiagonalization (several panel widths, awkward sizes, graded / clustered / zero /
    // diagonal matrices) against LAPACK's dsyevd, relative to the spectral norm.
    expect(r['tridiagonalCases']).toBeGreaterThan(80);
    expect(r['tridiagonalVsLapack']).toBeLessThan(1e-12);
    // The root-free QL/QR (tridiagonal_eigenvalues.cpp) against LAPACK's dsterf.
    expect(r['sterfCases']).toBeGreaterThan(60);
    expect(r['sterfVsLapack']).toBeLessThan(1e-12);
  }, 120_000);
});
