/** Every rejection carries a hint; overflow is NON_FINITE with its cause; callback errors reject the call. */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { wsBound } from '../src/bound.js';
import { eigenvalues, hessian, hvp, lossAndGradient, wsBounds } from '../src/curvature.js';
import { parseCsv, parseDataJson, toDataset } from '../src/data.js';
import { DEFAULT_HINTS, HessboundError, type ErrorCode } from '../src/errors.js';
import { parseModelJson, randomModel } from '../src/model.js';
import { loadDataset, readDataFile } from '../src/node/datasets.js';
import { train } from '../src/train.js';
import type { Model } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';

const model = (): Model => randomModel({ inputs: 2, hidden: [3], classes: 2, activation: 'tanh', seed: 0 });
const data = { x: [[1, 2], [3, 4], [5, 6]], y: [0, 1, 1] };

async function caught(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe.each(BACKENDS)('hints and causes on %s', (backend) => {
  // A spread of misuses over every entry point; each must be a HessboundError with a hint.
  const misuses: Array<[string, () => unknown]> = [
    ['no activation', () => analyze({ format: 'hessbound.mlp.v1', layers: [] } as never, data, { backend })],
    ['model not JSON', () => analyze('{', data, { backend })],
    ['model null', () => analyze(null as never, data, { backend })],
    ['ragged weights', () => parseModelJson({ format: 'hessbound.mlp.v1', activation: 'tanh', layers: [{ weight: [[1], [1, 2]], bias: null }] })],
    ['elu', () => randomModel({ inputs: 2, hidden: [3], classes: 2, activation: 'elu' as never })],
    ['zero width', () => randomModel({ inputs: 2, hidden: [0], classes: 2 })],
    ['bad init', () => randomModel({ inputs: 2, hidden: [3], classes: 2, init: 'xavier' as never })],
    ['shape mismatch', () => analyze(model(), { x: [[1, 2, 3]], y: [0] }, { backend })],
    ['label out of range', () => analyze(model(), { x: [[1, 2]], y: [5] }, { backend })],
    ['NaN feature', () => analyze(model(), { x: [[1, Number.NaN]], y: [0] }, { backend })],
    ['no samples', () => analyze(model(), { x: [], y: [] }, { backend })],
    ['k = 0', () => analyze(model(), data, { backend, k: 0 })],
    ['maxIterations 0', () => analyze(model(), data, { backend, maxIterations: 0 })],
    ['tolerance 2', () => analyze(model(), data, { backend, tolerance: 2 })],
    ['seed -1', () => analyze(model(), data, { backend, seed: -1 })],
    ['unknown method', () => analyze(model(), data, { backend, method: 'power' as never })],
    ['maxMemoryBytes -1', () => analyze(model(), data, { backend, maxMemoryBytes: -1 })],
    ['unknown backend', () => analyze(model(), data, { backend: 'gpu' as never })],
    ['hvp wrong length', () => hvp(model(), data, [1, 2], { backend })],
    ['hvp NaN', () => hvp(model(), data, new Float64Array(17).fill(Number.NaN), { backend })],
    ['hessian assembly', () => hessian(model(), data, { backend, assembly: 'magic' as never })],
    ['eigenvalues non-square', () => eigenvalues(new Float64Array(3), { backend })],
    ['wsBounds n = 0', () => wsBounds(1, 1, 0, { backend })],
    ['bound probes 2', () => wsBound(model(), data, { backend, probes: 2 })],
    ['bound method', () => wsBound(model(), data, { backend, method: 'magic' as never })],
    ['train lr', () => train(model(), data, { backend, lr: -1 })],
    ['train maxSteps', () => train(model(), data, { backend, maxSteps: -1 })],
    ['lossAndGradient reduction', () => lossAndGradient(model(), data, { backend, reduction: 'max' as never })],
    ['data JSON', () => parseDataJson('[1, 2]')],
    ['data both y and targets', () => parseDataJson({ x: [[1]], y: [0], targets: [[1, 0]] })],
    ['soft targets', () => toDataset([[1], [2]], [[0.5, 0.6], [1, 0]])],
    ['flat x without d', () => toDataset(new Float64Array(4), [0, 1])],
    ['CSV empty', () => parseCsv('')],
    ['CSV label', () => parseCsv('a,label\n1,x\n')],
    ['unknown data set', () => loadDataset('irsi')],
    ['missing file', () => readDataFile('/nonexistent/data.csv')],
    ['unknown extension', () => readDataFile('/tmp/data.parquet')],
  ];
  it.each(misuses)('%s', async (_name, call) => {
    const e = await caught(call);
    expect(e).toBeInstanceOf(HessboundError);
    const error = e as HessboundError;
    expect(typeof error.hint).toBe('string');
    expect(error.hint.length).toBeGreaterThan(10);
    expect(error.message).toContain(`hint: ${error.hint}`);
    expect(error.message).not.toMatch(/undefined undefined/);
  });

  it('names a missing activation as missing', async () => {
    const e = (await caught(() => analyze({ format: 'hessbound.mlp.v1', layers: [] } as never, data, { backend }))) as HessboundError;
    expect(e.message).toMatch(/activation must be a string, got missing/);
  });

  it('reports finite weights whose products overflow as NON_FINITE with the cause, not a kernel bug', async () => {
    const scaled = (layer: number, scale: number): Model => {
      const m = model();
      const w = m.layers[layer]!.weight as Float64Array;
      w.forEach((v, i) => (w[i] = v * scale));
      return m;
    };
    const cases: Array<[() => unknown, RegExp]> = [
      [() => analyze(scaled(0, 1e308), data, { backend, method: 'dense' }), /pre-activations of layer 1 overflow float64/],
      [() => analyze(scaled(1, 1e308), data, { backend, method: 'lanczos' }), /overflow/],
      [() => hessian(scaled(1, 1e308), data, { backend }), /overflow/],
      [() => lossAndGradient(scaled(0, 1e308), data, { backend }), /overflow/],
      [() => analyze(scaled(1, 1e200), data, { backend, method: 'lanczos' }), /traces overflow float64/],
    ];
    for (const [call, cause] of cases) {
      const e = (await caught(call)) as HessboundError;
      expect(e).toBeInstanceOf(HessboundError);
      expect(e.code).toBe('NON_FINITE');
      expect(e.message).toMatch(cause);
      expect(e.message).not.toMatch(/bug in hessbound/);
    }
  });

  it('rejects with the error a progress callback throws, and stays usable', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? w.name);
    process.on('warning', onWarning);
    const boom = new Error('stop here');
    const big = randomModel({ inputs: 4, hidden: [32], classes: 3, activation: 'tanh', seed: 1 });
    const iris = loadDataset('iris');
    let calls = 0;
    const e = await caught(() => analyze(big, iris, { backend, method: 'dense', onProgress: () => { calls++; throw boom; } }));
    expect(e).toBe(boom);
    expect(calls).toBe(1);
    const e2 = await caught(() => train(big, iris, { backend, maxSteps: 50, onProgress: () => { throw boom; } }));
    expect(e2).toBe(boom);
    const ok = await analyze(big, iris, { backend, method: 'dense' });
    expect(ok.lambdaMax).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w === 'DEP0168')).toEqual([]);
  });
});

describe('default hints', () => {
  it('exist for every code, and a caller hint wins', () => {
    for (const code of Object.keys(DEFAULT_HINTS) as ErrorCode[]) {
      const e = new HessboundError(code, 'x');
      expect(e.hint).toBe(DEFAULT_HINTS[code]);
    }
    expect(new HessboundError('IO', 'x', 'do this').hint).toBe('do this');
  });
});
