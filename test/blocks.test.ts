/**
 * Layer-wise blocks: every route (cut from the dense Hessian, assembled by Hessian-vector products,
 * block-restricted Lanczos) gives the eigenvalues, traces and WS bounds of the dense Hessian's
 * diagonal blocks to 1e-9, on every fixture (one, two and three hidden layers); for one hidden layer
 * the closed-form block traces agree with the dense ones.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { layerBlocks, type LayerBlock } from '../src/analysis/blocks.js';
import { getBackend } from '../src/backend/select.js';
import { eigenvalues, hessian, wsBounds } from '../src/curvature.js';
import { toProblemSpec } from '../src/problem.js';
import { BACKENDS } from './helpers/backends.js';
import { loadFixtures, relErr, type Fixture } from './helpers/fixtures.js';

const fixtures = loadFixtures();

interface Reference {
  offset: number;
  size: number;
  lambdaMax: number;
  lambdaMin: number;
  trace: number;
  traceOfSquare: number;
  upper: number;
  lowerOfMax: number;
}

/** The diagonal blocks cut from the dense Hessian, decomposed independently of the blocks command. */
async function referenceBlocks(f: Fixture, backend: 'native' | 'wasm'): Promise<Reference[]> {
  const { matrix, n } = await hessian(f.model, f.data, { reduction: f.reduction, backend });
  const out: Reference[] = [];
  let offset = 0;
  for (const layer of f.model.layers) {
    const size = layer.out * layer.in + (layer.bias ? layer.out : 0);
    const block = new Float64Array(size * size);
    let trace = 0;
    let traceOfSquare = 0;
    for (let i = 0; i < size; i++)
      for (let j = 0; j < size; j++) {
        const v = matrix[(offset + i) * n + offset + j]!;
        block[i * size + j] = v;
        traceOfSquare += v * v;
        if (i === j) trace += v;
      }
    const { values } = await eigenvalues(block, { backend });
    const bound = await wsBounds(trace, traceOfSquare, size, { backend });
    out.push({ offset, size, lambdaMax: values[size - 1]!, lambdaMin: values[0]!, trace, traceOfSquare, upper: bound.upper, lowerOfMax: bound.lowerOfMax });
    offset += size;
  }
  return out;
}

/** Relative error with a floor at the block's scale, for eigenvalues near zero. */
function close(a: number, b: number, scale: number, tol = 1e-9): void {
  expect(Math.abs(a - b) / Math.max(Math.abs(b), scale)).toBeLessThan(tol);
}

function compare(blocks: LayerBlock[], refs: Reference[], withTraces: boolean): void {
  expect(blocks).toHaveLength(refs.length);
  blocks.forEach((b, l) => {
    const r = refs[l]!;
    const scale = Math.max(Math.abs(r.lambdaMax), Math.abs(r.lambdaMin)) * 1e-6;
    expect(b.layer).toBe(l);
    expect(b.offset).toBe(r.offset);
    expect(b.parameters).toBe(r.size);
    close(b.lambdaMax, r.lambdaMax, scale);
    close(b.lambdaMin, r.lambdaMin, scale);
    if (!withTraces) return;
    expect(relErr(b.trace!, r.trace, scale)).toBeLessThan(1e-9);
    expect(relErr(b.traceOfSquare!, r.traceOfSquare)).toBeLessThan(1e-9);
    expect(relErr(b.bound!.upper, r.upper, scale)).toBeLessThan(1e-9);
    expect(relErr(b.bound!.lowerOfMax, r.lowerOfMax, scale)).toBeLessThan(1e-9);
    // The WS bound is a bound: on every block it holds against the block's exact lambda_max.
    expect(b.bound!.upper).toBeGreaterThanOrEqual(r.lambdaMax * (1 - 1e-12) - 1e-15);
  });
}

describe.each(BACKENDS)('layer blocks on %s', (backend) => {
  const refs = new Map<string, Reference[]>();
  beforeAll(async () => {
    for (const f of fixtures) refs.set(f.name, await referenceBlocks(f, backend));
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('analyze --blocks (cut from the dense Hessian): %s', async (_name, f) => {
    const r = await analyze(f.model, f.data, { method: 'dense', reduction: f.reduction, backend, blocks: true });
    expect(r.blocks!.every((b) => b.method === 'dense' && b.traceSource === 'dense')).toBe(true);
    compare(r.blocks!, refs.get(f.name)!, true);
    // The blocks' eigenvalues are all there, ascending.
    r.blocks!.forEach((b) => expect(b.eigenvalues).toHaveLength(b.parameters));
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('blocks by Hessian-vector products when only the blocks fit: %s', async (_name, f) => {
    const k = await getBackend(backend);
    const spec = toProblemSpec(f.model, f.data, f.reduction);
    const P = f.expected.parameters;
    const largest = Math.max(...refs.get(f.name)!.map((r) => r.size));
    const blocks = await layerBlocks(k, spec, { maxDenseBytes: Math.max(largest * largest * 8, P * P * 8 - 1) });
    expect(blocks.every((b) => b.method === 'columns')).toBe(true);
    compare(blocks, refs.get(f.name)!, true);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('block-restricted Lanczos: %s', async (_name, f) => {
    const k = await getBackend(backend);
    const spec = toProblemSpec(f.model, f.data, f.reduction);
    const blocks = await layerBlocks(k, spec, { method: 'lanczos', maxDenseBytes: 1e9 });
    expect(blocks.every((b) => b.method === 'lanczos' && b.lanczos !== undefined)).toBe(true);
    const oneHidden = f.model.layers.length === 2;
    compare(blocks, refs.get(f.name)!, oneHidden);
    // One hidden layer: the traces are the closed form's output / hidden blocks; deeper: none.
    for (const b of blocks) {
      expect(b.traceSource).toBe(oneHidden ? 'closed-form' : 'none');
      if (!oneHidden) expect(b.bound).toBeNull();
    }
  });

  it('refuses an unknown method', async () => {
    const f = fixtures[0]!;
    const k = await getBackend(backend);
    await expect(layerBlocks(k, toProblemSpec(f.model, f.data), { method: 'exact' as never, maxDenseBytes: 1e9 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});
