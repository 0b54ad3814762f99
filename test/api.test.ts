/** The facade's contract: input forms, progress callbacks, the reported backend, no silent NaN. */
import { Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { hessian, lossAndGradient } from '../src/curvature.js';
import { modelToJson, randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { BACKENDS } from './helpers/backends.js';
import { maxRelativeDifference } from './helpers/expect.js';

const iris = loadDataset('iris');
const model = randomModel({ inputs: 4, hidden: [6], classes: 3, activation: 'silu', seed: 4 });

describe.each(BACKENDS)('API on the %s backend', (backend) => {
  it('reports progress from 0 to 1 and the backend used', async () => {
    const seen: number[] = [];
    const r = await analyze(model, iris, { backend, method: 'dense', onProgress: (f) => seen.push(f) });
    expect(r.backend).toBe(backend);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(1);
    expect(seen.every((f) => f >= 0 && f <= 1)).toBe(true);
    const lanczosSeen: number[] = [];
    await analyze(model, iris, { backend, method: 'lanczos', onProgress: (f) => lanczosSeen.push(f) });
    expect(lanczosSeen.at(-1)).toBe(1);
  });

  it('gives identical results for every input form', async () => {
    const rows = Array.from({ length: iris.n }, (_, i) => Array.from(iris.x.subarray(i * iris.d, (i + 1) * iris.d)));
    const labels = Array.from(iris.labels!);
    const forms = [
      iris,
      { x: rows, y: labels },
      { x: new Matrix(rows), y: labels },
      { x: Float64Array.from(iris.x), y: Int32Array.from(labels), d: iris.d },
      { x: { data: iris.x, rows: iris.n, cols: iris.d }, y: labels },
    ];
    const reference = await lossAndGradient(model, iris, { backend });
    for (const data of forms) {
      const r = await lossAndGradient(model, data, { backend });
      expect(r.loss).toBe(reference.loss);
      expect([...r.gradient]).toEqual([...reference.gradient]);
    }
    const fromJson = await lossAndGradient(modelToJson(model), iris, { backend });
    const fromText = await lossAndGradient(JSON.stringify(modelToJson(model)), iris, { backend });
    expect(fromJson.loss).toBe(reference.loss);
    expect(fromText.loss).toBe(reference.loss);
  });

  it('never returns NaN for extreme but finite logits', async () => {
    const huge = randomModel({ inputs: 4, hidden: [5], classes: 3, activation: 'softplus', seed: 1 });
    for (const layer of huge.layers) (layer.weight as Float64Array).forEach((v, i, a) => (a[i] = v * 200));
    const r = await analyze(huge, iris, { backend, method: 'dense' });
    for (const v of [r.loss, r.gradNorm, r.trace!, r.traceOfSquare!, r.lambdaMax!, r.lambdaMin!]) expect(Number.isFinite(v)).toBe(true);
  });

  it('the dense Hessian agrees between Kronecker blocks and Hessian-vector products', async () => {
    const a = await hessian(model, iris, { backend, assembly: 'kronecker' });
    const b = await hessian(model, iris, { backend, assembly: 'hvp' });
    expect(maxRelativeDifference(a.matrix, b.matrix)).toBeLessThan(1e-12);
  });
});
