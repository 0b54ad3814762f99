/**
 * Smoothed spectral densities on a grid: point masses (eigenvalues, or Gauss quadrature nodes with
 * weights) convolved with a Gaussian kernel of width sigma,
 *   rho(t) = sum_i w_i exp(-(t - theta_i)^2 / (2 sigma^2)) / (sigma sqrt(2 pi)),   sum_i w_i = 1.
 * The grid runs from the smallest node - 6 sigma to the largest + 6 sigma (mass outside: < 2e-9)
 * with spacing at most sigma, where the trapezoid rule integrates a Gaussian to ~1e-8, so the
 * density integrates to 1 over the grid to that accuracy.
 */
import { fail } from '../errors.js';

/** Kernel half-widths the grid extends beyond the outermost nodes. */
export const GRID_PADDING = 6;
export const DEFAULT_GRID = 1000;
/** Default kernel width as a fraction of lambda_max - lambda_min. */
export const DEFAULT_WIDTH_FRACTION = 0.01;

/** sigma = 1% of the spectrum's extent (or 1e-3 |lambda| when all eigenvalues coincide). */
export function defaultKernelWidth(lambdaMin: number, lambdaMax: number): number {
  const spread = lambdaMax - lambdaMin;
  if (spread > 0) return DEFAULT_WIDTH_FRACTION * spread;
  return 1e-3 * Math.max(Math.abs(lambdaMax), 1e-12);
}

export interface GridSpec {
  /** Number of grid points (default 1000). */
  size?: number;
  /** Grid ends; default from the nodes and the kernel width. */
  range?: readonly [number, number];
}

/** An evenly spaced grid covering [lo, hi]; checks that its spacing resolves the kernel. */
export function densityGrid(lo: number, hi: number, kernelWidth: number, spec: GridSpec = {}): number[] {
  const size = spec.size ?? DEFAULT_GRID;
  if (!Number.isInteger(size) || size < 2 || size > 1_000_000) fail('BAD_OPTION', `grid must be an integer from 2 to 1000000, got ${String(size)}`);
  if (!(kernelWidth > 0) || !Number.isFinite(kernelWidth)) fail('BAD_OPTION', `kernelWidth must be a positive number, got ${String(kernelWidth)}`);
  const [a, b] = spec.range ?? [lo - GRID_PADDING * kernelWidth, hi + GRID_PADDING * kernelWidth];
  if (!(Number.isFinite(a) && Number.isFinite(b) && b > a)) fail('BAD_OPTION', `the grid range must be two finite numbers, low < high; got [${a}, ${b}]`);
  const h = (b - a) / (size - 1);
  if (h > kernelWidth * (1 + 1e-12))
    fail(
      'BAD_OPTION',
      `a grid of ${size} points over [${a.toPrecision(4)}, ${b.toPrecision(4)}] has spacing ${h.toPrecision(3)}, wider than the kernel width ${kernelWidth.toPrecision(3)}: the density would not integrate to 1`,
      `raise the grid size to at least ${Math.ceil((b - a) / kernelWidth) + 1} (--grid) or widen the kernel (--kernel-width)`,
    );
  return Array.from({ length: size }, (_, i) => (i === size - 1 ? b : a + i * h));
}

/** sum_i w_i N(t; theta_i, sigma^2) at every grid point. */
export function gaussianMixture(grid: readonly number[], nodes: ArrayLike<number>, weights: ArrayLike<number>, sigma: number): number[] {
  const out = new Array<number>(grid.length).fill(0);
  const norm = 1 / (sigma * Math.sqrt(2 * Math.PI));
  const cutoff = 40 * sigma; // exp(-800) underflows to 0 anyway
  for (let i = 0; i < nodes.length; i++) {
    const theta = nodes[i] as number;
    const w = (weights[i] as number) * norm;
    if (w === 0) continue;
    for (let j = 0; j < grid.length; j++) {
      const d = (grid[j] as number) - theta;
      if (d > cutoff || d < -cutoff) continue;
      out[j] = (out[j] as number) + w * Math.exp((-0.5 * d * d) / (sigma * sigma));
    }
  }
  return out;
}

/** Trapezoid rule over the grid. */
export function trapezoid(grid: readonly number[], values: readonly number[]): number {
  let s = 0;
  for (let i = 1; i < grid.length; i++) s += 0.5 * ((values[i] as number) + (values[i - 1] as number)) * ((grid[i] as number) - (grid[i - 1] as number));
  return s;
}

/** Integral of |a - b| over the grid (the L1 distance of two densities). */
export function l1Distance(grid: readonly number[], a: readonly number[], b: readonly number[]): number {
  return trapezoid(
    grid,
    a.map((v, i) => Math.abs(v - (b[i] as number))),
  );
}
