/**
 * Memory estimates for every large allocation a call makes (the forward cache, Hessian-vector
 * product scratch, Lanczos and Hutch++ bases, closed-form tiles, models), checked against the budget
 * before anything is allocated, so an oversized request is refused with what and how much instead
 * of growing until the OS kills the process (or a RangeError from a typed array).
 * The byte counts mirror native/kernel (network.cpp, hvp.cpp, lanczos.cpp, hutchpp.cpp,
 * closed_form*.cpp); they are estimates with a margin, not exact accounting.
 */
import type { KernelBackend } from '../backend/types.js';
import { fail } from '../errors.js';
import { formatBytes, memoryBudget } from '../memory.js';

const DOUBLE = 8;

/** One planned allocation: what it is, its size, and how to make it smaller. */
export interface Allocation {
  what: string;
  bytes: number;
  hint: string;
  /** The hint in command-line terms, when it names API options. */
  cliHint?: string;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export function parameterCountOf(sizes: readonly number[]): number {
  let P = 0;
  for (let l = 0; l + 1 < sizes.length; l++) P += (sizes[l + 1] as number) * ((sizes[l] as number) + 1);
  return P;
}

const SMALLER_WIDTH = 'use smaller hidden widths (--hidden) or fewer samples';

/** The copied inputs and the forward/backward cache: six N x width arrays per hidden layer, three N x c. */
export function forwardCache(sizes: readonly number[], samples: number): Allocation {
  const hidden = sum(sizes.slice(1, -1));
  const classes = sizes.at(-1) as number;
  const inputs = sizes[0] as number;
  const bytes = DOUBLE * samples * (6 * hidden + 4 * classes + inputs);
  return { what: `the forward pass over ${samples.toLocaleString('en-US')} samples`, bytes, hint: SMALLER_WIDTH };
}

/** Most fraction of nonzero inputs for which the products read X by its nonzeros (sparse_inputs.cpp kSparseMaxDensity). */
const SPARSE_MAX_DENSITY = 0.35;

/**
 * Hessian-vector product scratch (native/kernel/curvature/hvp.cpp HvpEngine): per thread, blocks of
 * rows (256 KB per array of the widest layer, at least 32 rows) for R(u), R(a), R(delta) of every
 * layer and one more; up to 7 partial products of P (8 sample chunks); packed copies of the
 * first and last layers' directions. With mostly-zero inputs (sparse_inputs.cpp), also X by its
 * nonzeros (at most SPARSE_MAX_DENSITY of N x d, 12 bytes each, and d + 1 offsets per block),
 * V_0^T, and per thread a d x width accumulator and a forward tile: always counted, as the plan
 * does not see the data's density.
 */
export function hvpScratch(sizes: readonly number[], samples: number, threads = 1): Allocation {
  const P = parameterCountOf(sizes);
  const widths = sizes.slice(1);
  const widest = Math.max(1, ...sizes.slice(1, -1));
  const rows = Math.min(samples, Math.max(32, Math.floor(2 ** 18 / (DOUBLE * widest))));
  const d = sizes[0] as number;
  const h0 = sizes[1] as number;
  const c = sizes.at(-1) as number;
  const perThread = rows * (3 * (sum(widths) + 8 * widths.length) + widest);
  const packed = 2 * c * widest + (Math.ceil(h0 / 32) * 32 + 32) * d;
  const blocks = Math.ceil(samples / rows) + 8;
  const sparseBytes = SPARSE_MAX_DENSITY * samples * d * 12 + blocks * (d + 1) * 8 + DOUBLE * ((1 + threads) * d * h0 + threads * rows * 32);
  const bytes = DOUBLE * (threads * perThread + 7 * P + packed) + sparseBytes;
  return { what: 'Hessian-vector product scratch', bytes, hint: SMALLER_WIDTH };
}

/** The Lanczos basis: one row of P doubles per iteration (full reorthogonalization), and w, a Ritz vector and its image (lanczos.cpp). */
export function lanczosBasis(parameters: number, maxIterations: number): Allocation {
  const rows = Math.min(Math.max(maxIterations, 2), parameters);
  return {
    what: `a Lanczos basis of ${rows.toLocaleString('en-US')} x ${parameters.toLocaleString('en-US')} doubles`,
    bytes: DOUBLE * parameters * (rows + 3),
    hint: 'lower maxIterations (CLI --max-iterations), ask only --which largest, or use smaller hidden widths',
    cliHint: 'lower --max-iterations, ask only --which largest, or use smaller hidden widths (--hidden)',
  };
}

/** Hutch++: `probes` products in all (sketch, its image, the remaining probes): about one P-vector each. */
export function hutchppBasis(parameters: number, probes: number): Allocation {
  return {
    what: `Hutch++ vectors (${probes} x ${parameters.toLocaleString('en-US')} doubles)`,
    bytes: DOUBLE * parameters * (probes + 6),
    hint: 'use fewer probes (--probes) or smaller hidden widths',
  };
}

/**
 * Most threads the kernel may run the closed form on (native/kernel/closed_form/traces.cpp: at most 8): the
 * request in HESSBOUND_THREADS, else the OpenBLAS threads natively; 1 for the single-threaded
 * WebAssembly module; the machine's threads for the threaded one.
 */
export function closedFormThreads(backend: KernelBackend): number {
  if (backend.name === 'wasm') return 1;
  const requested = Number(globalThis.process?.env?.['HESSBOUND_THREADS'] ?? '');
  if (Number.isInteger(requested) && requested >= 1) return Math.min(8, requested);
  const cores = backend.addonInfo?.threads ?? backend.kernelThreads ?? (globalThis.navigator as { hardwareConcurrency?: number } | undefined)?.hardwareConcurrency ?? 8;
  return Math.max(1, Math.min(8, cores));
}

/**
 * The closed form's memory (native/kernel/closed_form*.cpp): per-sample arrays shared by the
 * threads, and each thread's scratch: the dual's tile (its tile_for rule) or the primal's panels,
 * whichever `method` runs (either at most about workBytes = 256 MiB).
 */
/** The kernel's multiply-add counts of the two closed-form evaluations (closed_form.cpp dual_cost / primal_cost). */
export function closedFormCosts(sizes: readonly number[], samples: number): { dual: number; primal: number } {
  const d1 = (sizes[0] as number) + 1;
  const h = sizes[1] as number;
  const h1 = h + 1;
  const c = sizes.at(-1) as number;
  const packed = (n: number) => 0.5 * n * (n + 1);
  const dual = 0.5 * samples * samples * ((0.5 * c * (c + 1) + 3 * c) * h + d1 + h1 + 4 * h + c + 0.5 * c * (c + 1) + 10 * c * c);
  const primal = samples * (packed(h) * packed(d1) + packed(h) * c + 2 * h * packed(d1) + packed(c) * packed(h1) + c * h * h1 * d1 + 2 * c * h * d1);
  return { dual, primal };
}

export function closedFormWork(sizes: readonly number[], samples: number, threads = 1, method: 'auto' | 'dual' | 'primal' = 'auto'): Allocation {
  const h = sum(sizes.slice(1, -1));
  const c = sizes.at(-1) as number;
  const pairs = (c * (c + 1)) / 2;
  const rows = pairs + c;
  const budget = 2 ** 28 / DOUBLE;
  const qa = c + 9;
  const qb = 3 * c * h + 8 * rows + 6 * c + 10;
  const q0 = 8 * rows * h;
  const room = Math.max(0, budget - q0);
  const tile = Math.max(1, Math.min(samples, 256, Math.floor((-qb + Math.sqrt(qb * qb + 4 * qa * room)) / (2 * qa))));
  const dualPerThread = qa * tile * tile + qb * tile + q0;
  // The primal's panels (native/kernel/linalg/panel_product.cpp): two panels of `samples` rows and one block
  // of Y, each panel at most a third of workBytes, for its widest pass.
  const d1 = (sizes[0] as number) + 1;
  const third = Math.floor(budget / 3);
  const widest = (columns: number, rows: number) => Math.max(1, Math.min(columns, Math.floor(third / Math.max(1, rows))));
  const wb = widest(Math.max((d1 * (d1 + 1)) / 2, (h + 1) * d1), samples);
  const wa = widest(Math.max((h * (h + 1)) / 2, 2 * c * h), Math.max(samples, wb));
  const primalPerThread = samples * (wa + wb) + wa * wb;
  // `auto` picks the primal while its count is below twice the dual's (closed_form.cpp primal_preferred).
  const costs = closedFormCosts(sizes, samples);
  const primal = method === 'primal' || (method === 'auto' && costs.primal < 2 * costs.dual);
  const perThread = primal ? primalPerThread : dualPerThread;
  const side = Math.ceil(samples / tile);
  const shared = samples * (pairs + 4 * h + 6 * c) + pairs * h + 10 * ((side * (side + 1)) / 2);
  const bytes = DOUBLE * (shared + Math.max(1, threads) * perThread);
  return { what: `the closed-form traces (${c} classes, ${samples.toLocaleString('en-US')} samples, ${threads} thread${threads === 1 ? '' : 's'})`, bytes, hint: SMALLER_WIDTH };
}

/** A model's parameters (and the same again while it is built or copied). */
export function modelParameters(parameters: number): Allocation {
  return {
    what: `a model of ${parameters.toLocaleString('en-US')} parameters`,
    bytes: 2 * DOUBLE * parameters,
    hint: 'use smaller hidden widths (--hidden)',
  };
}

/** Dense P x P Hessian plus the eigensolver's work (as memory.ts's denseBytes). */
export function denseHessian(parameters: number): Allocation {
  return {
    what: `a dense Hessian of ${parameters.toLocaleString('en-US')} parameters`,
    bytes: parameters * parameters * DOUBLE * 1.1,
    hint: "use the Lanczos method (method 'lanczos', CLI --method lanczos) for the extreme eigenvalues",
    cliHint: 'use --method lanczos for the extreme eigenvalues',
  };
}

/**
 * Throws TOO_LARGE when the allocations together exceed `budget`, naming each one and its size; the
 * hint is that of the largest, which is the one to shrink.
 */
export function assertAllocationsFit(allocations: readonly Allocation[], budget: number, where = 'available memory'): void {
  const total = sum(allocations.map((a) => a.bytes));
  if (total <= budget) return;
  const sorted = [...allocations].sort((a, b) => b.bytes - a.bytes);
  const largest = sorted[0] as Allocation;
  const rest = sorted.slice(1).filter((a) => a.bytes >= 0.01 * total);
  const also = rest.length ? ` (plus ${rest.map((a) => `${a.what}: ${formatBytes(a.bytes)}`).join(', ')})` : '';
  fail(
    'TOO_LARGE',
    `${largest.what} needs ${formatBytes(largest.bytes)}${also}, ${formatBytes(total)} in all, more than ${where} allows (${formatBytes(budget)})`,
    largest.hint,
    largest.cliHint,
  );
}

/** The budget of non-dense work on a backend: the machine's free memory, or the WebAssembly heap. */
export function workBudget(backend: KernelBackend, override?: number): { budget: number; where: string } {
  return {
    budget: memoryBudget(backend, override),
    where: backend.name !== 'native' ? 'the WebAssembly heap (at most 4 GB)' : 'available memory',
  };
}

/** Checks a kernel call's allocations against the backend's budget. */
export function assertCallFits(backend: KernelBackend, allocations: readonly Allocation[], override?: number): void {
  const { budget, where } = workBudget(backend, override);
  assertAllocationsFit(allocations, budget, where);
}
