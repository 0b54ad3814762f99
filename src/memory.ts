/**
 * Memory planning for dense Hessians. The browser-safe core asks a platform hook for the budget;
 * the Node entry installs one based on the machine's available memory.
 */
import { fail } from './errors.js';
import type { KernelBackend } from './backend/types.js';

let platformBudget: () => number = () => Number.POSITIVE_INFINITY;

/** Installed by the Node entry: bytes a dense computation may use on this machine. */
export function setPlatformMemoryBudget(budget: () => number): void {
  platformBudget = budget;
}

/** The platform's budget for any one computation (bytes; Infinity where unknown, e.g. browsers). */
export function platformMemoryBudget(): number {
  return platformBudget();
}

/** Bytes the dense path needs: the P x P matrix plus ~10% for the eigensolver and copies. */
export function denseBytes(parameters: number): number {
  return parameters * parameters * 8 * 1.1;
}

export function memoryBudget(backend: KernelBackend, override?: number): number {
  if (override !== undefined) {
    if (!(override > 0)) fail('BAD_OPTION', `maxMemoryBytes must be positive, got ${override}`);
    return Math.min(override, backend.maxDenseBytes);
  }
  return Math.min(platformBudget(), backend.maxDenseBytes);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e12) return `${bytes >= 1e15 ? Math.round(bytes / 1e12).toLocaleString('en-US') : (bytes / 1e12).toPrecision(3)} TB`;
  if (bytes >= 1e9) return `${(bytes / 1e9).toPrecision(3)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toPrecision(3)} MB`;
  return `${Math.ceil(bytes / 1e3)} kB`;
}

/** Throws TOO_LARGE, saying how much is needed and what to do, when the dense path will not fit. */
export function assertDenseFits(parameters: number, budget: number, backend: KernelBackend): void {
  const need = denseBytes(parameters);
  if (need <= budget) return;
  const where = backend.name !== 'native' ? 'the WebAssembly heap (at most 4 GB)' : 'available memory';
  fail(
    'TOO_LARGE',
    `a dense Hessian of ${parameters.toLocaleString('en-US')} parameters needs ${formatBytes(need)}, more than ${where} allows (${formatBytes(budget)})`,
    "use the Lanczos method (method 'lanczos', CLI --method lanczos) for the extreme eigenvalues",
    'use --method lanczos for the extreme eigenvalues',
  );
}

/**
 * 'auto' takes the dense path when it fits comfortably (a quarter of the budget) and the O(P^3)
 * eigensolve stays short (P <= 6000, about a minute of LAPACK); Lanczos otherwise.
 */
export function denseIsComfortable(parameters: number, budget: number): boolean {
  return parameters <= 6000 && denseBytes(parameters) <= budget / 4;
}
