/** The kernel's symmetric eigensolver against ml-matrix's decomposition on random symmetric matrices. */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { eigenvalues } from '../src/curvature.js';
import { createRng } from '../src/rng.js';
import { BACKENDS } from './helpers/backends.js';

function randomSymmetric(n: number, seed: number): number[][] {
  const rng = createRng(seed);
  const a = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      const v = rng.normal();
      a[i]![j] = v;
      a[j]![i] = v;
    }
  return a;
}

/** ml-matrix's eigenvalues, ascending, computed once per size for all backends. */
const references = new Map<number, number[]>();
function referenceEigenvalues(n: number): number[] {
  let r = references.get(n);
  if (!r) {
    r = new EigenvalueDecomposition(new Matrix(randomSymmetric(n, n)), { assumeSymmetric: true }).realEigenvalues.sort((x, y) => x - y);
    references.set(n, r);
  }
  return r;
}

describe.each(BACKENDS)('eigensolver on the %s backend', (backend) => {
  // 800 and 900: above 768 rows the WebAssembly build tridiagonalizes in panels (gemm_vec2.cpp).
  it.each([1, 2, 7, 40, 120, 800, 900])('all eigenvalues of a random %i x %i matrix match ml-matrix', async (n) => {
    const a = randomSymmetric(n, n);
    const reference = referenceEigenvalues(n);
    const { values } = await eigenvalues(a, { backend });
    const radius = Math.max(...reference.map(Math.abs));
    expect(values).toHaveLength(n);
    values.forEach((v, i) => expect(Math.abs(v - reference[i]!) / radius).toBeLessThan(1e-12));
  });

  it('k largest / smallest with eigenvectors satisfy A v = lambda v', async () => {
    const n = 30;
    const a = randomSymmetric(n, 5);
    const reference = new EigenvalueDecomposition(new Matrix(a), { assumeSymmetric: true }).realEigenvalues.sort((x, y) => x - y);
    const top = await eigenvalues(new Matrix(a), { which: 'largest', k: 3, vectors: true, backend });
    expect([...top.values]).toHaveLength(3);
    top.values.forEach((v, i) => expect(Math.abs(v - reference[n - 3 + i]!)).toBeLessThan(1e-12));
    for (let c = 0; c < 3; c++) {
      const vec = Array.from({ length: n }, (_, i) => top.vectors![i * 3 + c]!);
      const av = a.map((row) => row.reduce((s, x, j) => s + x * vec[j]!, 0));
      av.forEach((x, i) => expect(Math.abs(x - top.values[c]! * vec[i]!)).toBeLessThan(1e-11));
    }
    const bottom = await eigenvalues(Float64Array.from(a.flat()), { which: 'smallest', k: 2, backend });
    bottom.values.forEach((v, i) => expect(Math.abs(v - reference[i]!)).toBeLessThan(1e-12));
  });

  it('does not modify the caller matrix', async () => {
    const flat = Float64Array.from(randomSymmetric(6, 1).flat());
    const copy = Float64Array.from(flat);
    await eigenvalues(flat, { backend });
    expect([...flat]).toEqual([...copy]);
  });
});
