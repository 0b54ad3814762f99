/** The finer calls: loss and gradient, Hessian-vector products, the dense Hessian, eigenvalues, WS bounds. */
import { checkCallOptions } from './backend/cancel.js';
import { getBackend } from './backend/select.js';
import type { ProgressCallback } from './backend/types.js';
import { boundsFromTraces, chooseMethod, type Assembly, type WsBounds } from './analyze.js';
import { fail } from './errors.js';
import { toDatasetInput, toModel, toSquareMatrix, type DataInput, type ModelInput } from './inputs.js';
import { parameterCount } from './model.js';
import { toProblemSpec } from './problem.js';
import { assertCallFits, denseHessian, forwardCache, hvpScratch } from './resources/memory-plan.js';
import type { BackendName, MatrixLike, Reduction } from './types.js';

export interface CommonOptions {
  reduction?: Reduction;
  backend?: BackendName | 'auto';
}

export async function lossAndGradient(
  model: ModelInput,
  data: DataInput,
  options: CommonOptions = {},
): Promise<{ loss: number; gradient: Float64Array; backend: BackendName }> {
  const backend = await getBackend(options.backend);
  const spec = toProblemSpec(toModel(model), toDatasetInput(data), options.reduction);
  assertCallFits(backend, [forwardCache(Array.from(spec.sizes), spec.samples)]);
  const { loss, gradient } = backend.lossGrad(spec);
  return { loss, gradient, backend: backend.name };
}

/**
 * Exact Hessian-vector products. `directions` holds k vectors of length P back to back (or is one
 * array of P numbers); the result has the same layout.
 */
export async function hvp(
  model: ModelInput,
  data: DataInput,
  directions: Float64Array | readonly number[],
  options: CommonOptions = {},
): Promise<Float64Array> {
  const m = toModel(model);
  const P = parameterCount(m);
  const v = directions instanceof Float64Array ? directions : Float64Array.from(directions);
  if (v.length === 0 || v.length % P !== 0)
    fail('SHAPE_MISMATCH', `directions must hold k x P values with P = ${P}; got ${v.length}`);
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) fail('NON_FINITE', `direction entry ${i} is not finite`);
  const backend = await getBackend(options.backend);
  const spec = toProblemSpec(m, toDatasetInput(data), options.reduction);
  const sizes = Array.from(spec.sizes);
  assertCallFits(backend, [forwardCache(sizes, spec.samples), hvpScratch(sizes, spec.samples), { what: 'the products', bytes: 16 * v.length, hint: 'pass fewer directions per call' }]);
  return backend.hvp(spec, v, v.length / P);
}

export interface HessianOptions extends CommonOptions {
  assembly?: Assembly;
  maxMemoryBytes?: number;
  onProgress?: ProgressCallback;
}

/** The dense P x P Hessian, row-major (it is symmetric). Refuses, with the size, when it cannot fit. */
export async function hessian(
  model: ModelInput,
  data: DataInput,
  options: HessianOptions = {},
): Promise<{ matrix: Float64Array; n: number; backend: BackendName }> {
  checkCallOptions(options);
  const m = toModel(model);
  const P = parameterCount(m);
  const backend = await getBackend(options.backend);
  chooseMethod('dense', P, backend, options.maxMemoryBytes);
  const assembly = ['auto', 'kronecker', 'hvp'].indexOf(options.assembly ?? 'auto');
  if (assembly < 0) fail('BAD_OPTION', `unknown assembly '${String(options.assembly)}'`, 'use auto, kronecker or hvp');
  const spec = toProblemSpec(m, toDatasetInput(data), options.reduction);
  assertCallFits(backend, [forwardCache(Array.from(spec.sizes), spec.samples), denseHessian(P)], options.maxMemoryBytes);
  const matrix = await backend.hessian(spec, assembly, Number.MAX_SAFE_INTEGER, options.onProgress);
  return { matrix, n: P, backend: backend.name };
}

export interface EigenOptions {
  /** 'all' (default), or the k largest / smallest. */
  which?: 'all' | 'largest' | 'smallest';
  k?: number;
  vectors?: boolean;
  backend?: BackendName | 'auto';
}

/**
 * Eigenvalues (ascending) of a symmetric matrix — LAPACK natively, Eigen in WebAssembly — and,
 * if asked, eigenvectors as the columns of an n x count row-major matrix.
 */
export async function eigenvalues(
  matrix: MatrixLike | Float64Array,
  options: EigenOptions = {},
): Promise<{ values: Float64Array; vectors: Float64Array | null; backend: BackendName }> {
  const { n, data } = toSquareMatrix(matrix);
  assertSymmetric(data, n);
  const which = options.which ?? 'all';
  const k = options.k ?? (which === 'all' ? n : 1);
  if (!Number.isInteger(k) || k < 1 || k > n) fail('BAD_OPTION', `k must be an integer from 1 to ${n}, got ${String(k)}`);
  let first = 0;
  let last = n - 1;
  if (which === 'largest') first = n - k;
  else if (which === 'smallest') last = k - 1;
  else if (which !== 'all') fail('BAD_OPTION', `unknown which '${String(which)}'`, 'use all, largest or smallest');
  const backend = await getBackend(options.backend);
  // The kernel destroys its input; never hand it the caller's array.
  const { values, vectors } = await backend.eigh(Float64Array.from(data), n, first, last, options.vectors ?? false);
  return { values, vectors: options.vectors ? vectors : null, backend: backend.name };
}

/** The eigensolver assumes symmetry and reads one triangle: an asymmetric matrix would get the eigenvalues of another. */
function assertSymmetric(data: Float64Array, n: number): void {
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const a = data[i * n + j] as number;
      const b = data[j * n + i] as number;
      if (Math.abs(a - b) > 1e-10 * Math.max(Math.abs(a), Math.abs(b), Number.MIN_VALUE))
        fail('BAD_OPTION', `the matrix is not symmetric: entry (${i}, ${j}) is ${a} but (${j}, ${i}) is ${b}`, 'eigenvalues() is for symmetric matrices (Hessians); symmetrize it, (A + A^T) / 2, if that is what you mean');
    }
}

/** The five Wolkowicz–Styan bounds for a symmetric n x n matrix with the given traces. */
export async function wsBounds(
  trace: number,
  traceOfSquare: number,
  n: number,
  options: { backend?: BackendName | 'auto' } = {},
): Promise<WsBounds & { frobenius: number }> {
  if (!Number.isInteger(n) || n < 1) fail('BAD_OPTION', `n must be a positive integer, got ${String(n)}`);
  if (!Number.isFinite(trace) || !Number.isFinite(traceOfSquare) || traceOfSquare < 0)
    fail('NON_FINITE', 'the traces must be finite and tr(H^2) >= 0');
  // Cauchy–Schwarz on the eigenvalues: tr(H)^2 <= n tr(H^2) for every symmetric n x n matrix.
  if (trace * trace > n * traceOfSquare * (1 + 1e-12))
    fail('BAD_OPTION', `no symmetric ${n} x ${n} matrix has tr = ${trace} and tr(H^2) = ${traceOfSquare} (tr^2 must be at most n tr(H^2))`, 'pass the traces of one matrix and its dimension n');
  const backend = await getBackend(options.backend);
  return { ...boundsFromTraces(backend, trace, traceOfSquare, n), frobenius: Math.sqrt(traceOfSquare) };
}
