/**
 * The closed form's sample-pair tiles, a range at a time (kernel command "traceTiles"): the pieces
 * a point split over machines is made of (docs/distributed.md, "One point over many machines").
 * The dual evaluation adds its tiles' sums in tile order starting from zero; addTileSums does the
 * same additions in the same order (float64 addition is the same IEEE operation in the kernel and
 * here), and tracesFromTileSums hands the totals to the kernel's "traces", which finishes the point
 * as a local run does. So the split result has the bits of a local dual run.
 */
import { checkCallOptions } from '../backend/cancel.js';
import type { KernelBackend, ProblemSpec, ProgressCallback } from '../backend/types.js';
import { fail } from '../errors.js';

/** The seven tr(H^2) terms of one tile, in the kernel's order (trace_tiles.hpp). */
export const TILE_SUM_FIELDS = ['outputSquare', 'hiddenGaussNewtonSquare', 'hiddenResidualSquare', 'hiddenMixed', 'crossGaussNewtonSquare', 'crossResidualSquare', 'crossMixed'] as const;
export const TILE_SUM_WIDTH = TILE_SUM_FIELDS.length;

export interface TilePlan {
  /** Samples per tile side. */
  size: number;
  /** Tiles of the upper triangle of sample pairs, numbered row by row: the reduction order. */
  count: number;
}

export interface TileKernelOptions {
  /** Scratch of the closed form (as wsBound's workBytes): it sets the tile size, so every party must use the same. */
  workBytes?: number;
  /** Every BLAS call on one thread (as wsBound's deterministic). */
  deterministic?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

export interface TileRangeSums {
  tiles: TilePlan;
  first: number;
  count: number;
  /** TILE_SUM_WIDTH numbers per tile, tile first .. first + count - 1. */
  sums: Float64Array;
  seconds: number;
}

function kernelOptions(options: TileKernelOptions): Record<string, number> {
  const out: Record<string, number> = {};
  if (options.workBytes !== undefined) {
    if (!Number.isSafeInteger(options.workBytes) || options.workBytes < 1) fail('BAD_OPTION', `workBytes must be a positive integer, got ${String(options.workBytes)}`);
    out['workBytes'] = options.workBytes;
  }
  if (options.deterministic) out['deterministic'] = 1;
  return out;
}

/** How the dual evaluation tiles this point (no computation; the first sample is all it reads). */
export async function tilePlan(backend: KernelBackend, spec: ProblemSpec, options: Pick<TileKernelOptions, 'workBytes'> = {}): Promise<TilePlan> {
  if (spec.sizes.length !== 3) fail('BAD_OPTION', `a point splits into tiles only with one hidden layer (the closed form's dual evaluation); this network has ${spec.sizes.length - 2}`, 'run it locally (no --queue)');
  const d = spec.sizes[0] as number;
  const c = spec.sizes[2] as number;
  const first = { ...spec, x: spec.x.subarray(0, d), targets: spec.targets.subarray(0, c), samples: 1 };
  const text = await backend.run('traces', first, { ...kernelOptions(options), method: 1, plan: 1, planSamples: spec.samples });
  const plan = JSON.parse(text) as { tiles?: TilePlan };
  if (!plan.tiles) fail('KERNEL', 'the kernel returned no tile plan');
  return { size: plan.tiles.size, count: plan.tiles.count };
}

/** The sums of tiles first .. first + count - 1, from the same per-tile code as a local run. */
export async function traceTileSums(backend: KernelBackend, spec: ProblemSpec, range: { first: number; count: number }, options: TileKernelOptions = {}): Promise<TileRangeSums> {
  checkCallOptions(options);
  const { first, count } = range;
  if (!Number.isSafeInteger(first) || first < 0 || !Number.isSafeInteger(count) || count < 1)
    fail('BAD_OPTION', `a tile range needs an integer first >= 0 and count >= 1, got ${String(first)} and ${String(count)}`);
  const text = await backend.run('traceTiles', spec, { ...kernelOptions(options), first, count }, options.onProgress, options.signal);
  const r = JSON.parse(text) as { tiles: TilePlan; first: number; count: number; sums: (number | null)[]; seconds: number };
  if (r.sums.length !== count * TILE_SUM_WIDTH) fail('KERNEL', `the kernel returned ${r.sums.length} tile sums for ${count} tiles`);
  if (r.sums.some((v) => v === null || !Number.isFinite(v)))
    fail('NON_FINITE', `tiles ${first} .. ${first + count - 1} have non-finite sums: the squared Hessian entries overflow float64`, 'rescale the model (its curvature grows with the square of the weight scale)');
  return { tiles: { size: r.tiles.size, count: r.tiles.count }, first: r.first, count: r.count, sums: Float64Array.from(r.sums as number[]), seconds: r.seconds };
}

/**
 * The totals of all tiles, added in tile order from zero: `tile(t)` gives tile t's TILE_SUM_WIDTH
 * sums. The order is what makes the bits those of a local run; never add tiles as they arrive.
 */
export function addTileSums(count: number, tile: (index: number) => ArrayLike<number>): Float64Array {
  const totals = new Float64Array(TILE_SUM_WIDTH);
  for (let t = 0; t < count; t++) {
    const sums = tile(t);
    if (sums.length !== TILE_SUM_WIDTH) fail('KERNEL', `tile ${t} has ${sums.length} sums, expected ${TILE_SUM_WIDTH}`);
    for (let k = 0; k < TILE_SUM_WIDTH; k++) totals[k] = (totals[k] as number) + (sums[k] as number);
  }
  return totals;
}

/** The kernel options of "traces" that replace its tile loop with these totals. */
export function tileSumOptions(totals: Float64Array, tileCount: number): Record<string, number> {
  if (totals.length !== TILE_SUM_WIDTH) fail('BAD_OPTION', `expected ${TILE_SUM_WIDTH} tile totals, got ${totals.length}`);
  if (!totals.every(Number.isFinite)) fail('NON_FINITE', 'the tile totals overflow float64: the squared Hessian entries exceed 1.8e308', 'rescale the model (its curvature grows with the square of the weight scale)');
  const out: Record<string, number> = { method: 1, tileSums: 1, tileCount };
  totals.forEach((v, k) => (out[`sum${k}`] = v));
  return out;
}

/**
 * Where the tiles of a point are computed when not on this machine: given the plan, resolves with
 * the totals of all tiles added in tile order (addTileSums). The queue's source is
 * queueTileSource (hessbound/queue).
 */
export type TileSource = (request: {
  backend: KernelBackend;
  spec: ProblemSpec;
  plan: TilePlan;
  workBytes?: number;
  deterministic?: boolean;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}) => Promise<Float64Array>;

/**
 * A sweep's points whose closed-form traces are large split them over a queue (sweep
 * --split-queue): the queue's URL, the threshold in multiply-adds of the dual evaluation above which
 * a point splits, and the tiles per job. Plain data: it crosses into the sweep's worker threads.
 */
export interface TraceSplitConfig {
  url: string;
  aboveMultiplyAdds: number;
  tilesPerJob?: number;
}

/** The same machine as a TileSource, a range at a time (tests, and the reference the queue is checked against). */
export function localTileSource(tilesPerCall = 8): TileSource {
  return async ({ backend, spec, plan, workBytes, deterministic, onProgress, signal }) => {
    const all: Float64Array[] = [];
    for (let first = 0; first < plan.count; first += tilesPerCall) {
      const count = Math.min(tilesPerCall, plan.count - first);
      const r = await traceTileSums(backend, spec, { first, count }, { ...(workBytes !== undefined ? { workBytes } : {}), ...(deterministic ? { deterministic } : {}), ...(signal ? { signal } : {}) });
      for (let k = 0; k < count; k++) all.push(r.sums.subarray(k * TILE_SUM_WIDTH, (k + 1) * TILE_SUM_WIDTH));
      onProgress?.((first + count) / plan.count);
    }
    return addTileSums(plan.count, (t) => all[t] as Float64Array);
  };
}
