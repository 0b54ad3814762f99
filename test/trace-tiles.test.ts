/**
 * The kernel's tile-range command ("traceTiles", closed_form/trace_tiles.cpp) and the reduction a
 * coordinator does with it (src/split/tile-sums.ts), on every backend:
 * - a point computed as tile ranges (1, 4 and all tiles per call, ranges cut mid-row), its tiles'
 *   sums added in tile order and handed to "traces", is bit-identical to a local dual run: tr H,
 *   tr H^2, every WS number, the decomposition;
 * - a tile's sums do not depend on the range it was computed in;
 * - adding the same tiles in another order changes the bits (so the equality is a real check);
 * - bad ranges, deeper nets, totals for another tile plan: BAD_OPTION errors.
 */
import { describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/select.js';
import { closedFormTraces, type ClosedFormTraces } from '../src/bound.js';
import { HessboundError } from '../src/errors.js';
import { randomModel } from '../src/model.js';
import { toProblemSpec } from '../src/problem.js';
import { addTileSums, localTileSource, tilePlan, tileSumOptions, traceTileSums, TILE_SUM_WIDTH } from '../src/split/tile-sums.js';
import { syntheticDataset } from '../src/synthetic.js';
import { BACKENDS } from './helpers/backends.js';
import { traceTerms, workBytesForTile as tileWorkBytes } from './helpers/tiles.js';

const D = 6;
const H = 7;
const C = 4;

/** workBytes whose tile side is `b` (for c = C, h = H unless given). */
const workBytesForTile = (b: number, c = C, h = H): number => tileWorkBytes(b, c, h);

/** Every number of the result that depends on the tiles, in a fixed order. */
function numbers(r: ClosedFormTraces): number[] {
  return [...traceTerms(r), ...Object.values(r.bound), r.frobenius, r.orthogonality.traceOfSquareIfOrthogonal!];
}

function expectSameBits(a: number[], b: number[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Object.is(v, b[i]), `number ${i}: ${v} vs ${b[i]}`).toBe(true));
}

const TILE = 11;
const N = 59; // 6 tiles a side (the last one 4 samples), 21 tiles
const data = syntheticDataset({ n: N, d: D, classes: C, rho: 0.3, seed: 9, teacher: 'centroids' });

describe.each(BACKENDS)('tile ranges on %s', (backendName) => {
  const workBytes = workBytesForTile(TILE);
  const model = randomModel({ inputs: D, hidden: [H], classes: C, activation: 'tanh', seed: 4 });
  const spec = toProblemSpec(model, data, 'mean');

  it.each([1, 4, 21])('tiles computed %i at a time and added in tile order give the local bits', async (perCall) => {
    const backend = await getBackend(backendName);
    const local = await closedFormTraces(backend, spec, { method: 'dual', workBytes });
    expect(local.tiles).toMatchObject({ size: TILE, count: 21 });
    const split = await closedFormTraces(backend, spec, { method: 'dual', workBytes, tiles: localTileSource(perCall) });
    expect(split.tiles).toMatchObject({ size: TILE, count: 21 });
    expectSameBits(numbers(split), numbers(local));
    // auto picks the dual here too; the split forces it and says the same.
    expect(split.method).toBe('dual');
  });

  it('a tile has the same sums in any range; another order of addition changes the bits', async () => {
    const backend = await getBackend(backendName);
    const plan = await tilePlan(backend, spec, { workBytes });
    expect(plan).toEqual({ size: TILE, count: 21 });
    const all = await traceTileSums(backend, spec, { first: 0, count: 21 }, { workBytes });
    const middle = await traceTileSums(backend, spec, { first: 5, count: 3 }, { workBytes });
    expect(Array.from(middle.sums)).toEqual(Array.from(all.sums.subarray(5 * TILE_SUM_WIDTH, 8 * TILE_SUM_WIDTH)));
    const tile = (t: number) => all.sums.subarray(t * TILE_SUM_WIDTH, (t + 1) * TILE_SUM_WIDTH);
    const inOrder = addTileSums(21, tile);
    const reversed = addTileSums(21, (t) => tile(20 - t));
    // Same values to rounding, not the same bits: the order is what the bit-identity rests on.
    inOrder.forEach((v, k) => expect(Math.abs(v - reversed[k]!)).toBeLessThanOrEqual(1e-12 * Math.abs(v) + 1e-300));
    expect(Array.from(inOrder).some((v, k) => !Object.is(v, reversed[k]))).toBe(true);
    // The kernel given the reversed totals gives other bits (of tr(H^2) or its parts).
    const local = await closedFormTraces(backend, spec, { method: 'dual', workBytes });
    const text = await backend.run('traces', spec, { ...tileSumOptions(reversed, 21), workBytes, maxDenseBytes: 2 ** 30 });
    const fromReversed = numbers(JSON.parse(text) as ClosedFormTraces);
    expect(numbers(local).some((v, i) => !Object.is(v, fromReversed[i]))).toBe(true);
  });

  it('bad input: a range outside the tiles, a deeper net, totals for another tile plan', async () => {
    const backend = await getBackend(backendName);
    for (const range of [{ first: 20, count: 2 }, { first: -1, count: 1 }, { first: 0, count: 0 }]) {
      const error = await traceTileSums(backend, spec, range, { workBytes }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HessboundError);
      expect((error as HessboundError).code).toBe('BAD_OPTION');
    }
    const outside = await traceTileSums(backend, spec, { first: 20, count: 2 }, { workBytes }).catch((e: unknown) => e as HessboundError);
    expect(outside.message).toMatch(/outside the 21 tiles/);
    const deep = toProblemSpec(randomModel({ inputs: D, hidden: [5, 5], classes: C, activation: 'tanh', seed: 1 }), data, 'mean');
    const deepError = await traceTileSums(backend, deep, { first: 0, count: 1 }).catch((e: unknown) => e as HessboundError);
    expect(deepError.code).toBe('BAD_OPTION');
    expect(deepError.message).toMatch(/one hidden layer/);
    const totals = new Float64Array(TILE_SUM_WIDTH).fill(1);
    const mismatch = await backend.run('traces', spec, { ...tileSumOptions(totals, 20), workBytes, maxDenseBytes: 2 ** 30 }).catch((e: unknown) => e as HessboundError);
    expect(mismatch.code).toBe('BAD_OPTION');
    expect(mismatch.message).toMatch(/for 20 tiles, but this point has 21/);
    const primal = await closedFormTraces(backend, spec, { method: 'primal', tiles: localTileSource() }).catch((e: unknown) => e as HessboundError);
    expect(primal.code).toBe('BAD_OPTION');
  });
});

describe('tile sums across backends', () => {
  it('native and WebAssembly give the same tile sums to 1e-12 (different BLAS, so not the same bits)', async () => {
    const model = randomModel({ inputs: D, hidden: [H], classes: C, activation: 'tanh', seed: 4 });
    const spec = toProblemSpec(model, data, 'mean');
    const runs = await Promise.all(BACKENDS.map(async (name) => (await traceTileSums(await getBackend(name), spec, { first: 0, count: 21 }, { workBytes: workBytesForTile(TILE) })).sums));
    const [first, ...rest] = runs;
    const scale = Math.max(...Array.from(first!, Math.abs));
    for (const other of rest) other.forEach((v, i) => expect(Math.abs(v - first![i]!)).toBeLessThanOrEqual(1e-12 * scale));
  });
});
