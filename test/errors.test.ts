/** Bad input fails early with a HessboundError naming the problem and the fix; never a crash or a NaN. */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { eigenvalues, hessian, hvp, wsBounds } from '../src/curvature.js';
import { HessboundError } from '../src/errors.js';
import { randomModel } from '../src/model.js';
import type { Model } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';

const model = (): Model => randomModel({ inputs: 2, hidden: [3], classes: 2, activation: 'tanh', seed: 0 });
const data = { x: [[1, 2], [3, 4], [5, 6]], y: [0, 1, 1] };

async function expectCode(promise: Promise<unknown>, code: string, fragment: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HessboundError);
  expect((error as HessboundError).code).toBe(code);
  expect((error as HessboundError).message).toMatch(fragment);
}

describe.each(BACKENDS)('input errors on the %s backend', (backend) => {
  it('rejects features that do not match the model input width', () =>
    expectCode(analyze(model(), { x: [[1, 2, 3], [4, 5, 6]], y: [0, 1] }, { backend }), 'SHAPE_MISMATCH', /2 input features.*3 features/));
  it('rejects labels out of range', () => expectCode(analyze(model(), { x: [[1, 2], [3, 4]], y: [0, 2] }, { backend }), 'BAD_LABELS', /label 2 \(sample 1\) is out of range/));
  it('accepts labels that do not use every output class', async () => {
    const r = await analyze(model(), { x: [[1, 2], [3, 4]], y: [0, 0] }, { backend });
    expect(Number.isFinite(r.loss)).toBe(true);
  });
  it('rejects non-integer labels', () => expectCode(analyze(model(), { x: [[1, 2]], y: [0.5] }, { backend }), 'BAD_LABELS', /integer/));
  it('rejects NaN features', () => expectCode(analyze(model(), { x: [[1, Number.NaN]], y: [0] }, { backend }), 'NON_FINITE', /NaN|finite/));
  it('rejects Infinity in the model', async () => {
    const m = model();
    (m.layers[0]!.weight as Float64Array)[1] = Number.POSITIVE_INFINITY;
    await expectCode(analyze(m, data, { backend }), 'NON_FINITE', /finite|Infinity/);
  });
  it('rejects targets that are not distributions', () =>
    expectCode(analyze(model(), { x: [[1, 2]], targets: [[0.5, 0.6]] }, { backend }), 'BAD_LABELS', /sum/));
  it('rejects empty data', () => expectCode(analyze(model(), { x: [], y: [] }, { backend }), 'BAD_DATA', /empty|no samples|0 samples/i));
  it('rejects unknown methods and options', async () => {
    await expectCode(analyze(model(), data, { backend, method: 'power' as never }), 'BAD_OPTION', /method/);
    await expectCode(analyze(model(), data, { backend, k: 0 }), 'BAD_OPTION', /k must/);
    await expectCode(analyze(model(), data, { backend, tolerance: -1 }), 'BAD_OPTION', /tolerance/);
    await expectCode(analyze(model(), data, { backend, reduction: 'max' as never }), 'BAD_OPTION', /reduction/);
  });
  it('refuses non-smooth activations with an explanation', () =>
    expectCode(analyze({ format: 'hessbound.mlp.v1', activation: 'elu', layers: [] } as never, data, { backend }), 'BAD_ACTIVATION', /smooth|sigma''/));
  it('refuses a dense Hessian that does not fit, saying how much it needs and suggesting Lanczos', async () => {
    const big = randomModel({ inputs: 2, hidden: [3000], classes: 2, activation: 'tanh', seed: 0 });
    await expectCode(analyze(big, data, { backend, method: 'dense', maxMemoryBytes: 1e6 }), 'TOO_LARGE', /15,002 parameters needs .*GB.*Lanczos|lanczos/i);
    await expectCode(hessian(big, data, { backend, maxMemoryBytes: 1e6 }), 'TOO_LARGE', /lanczos/i);
  });
  it('auto picks Lanczos when the dense Hessian would not fit comfortably', async () => {
    const r = await analyze(randomModel({ inputs: 2, hidden: [300], classes: 2, activation: 'tanh', seed: 0 }), data, { backend, maxMemoryBytes: 4e6 });
    expect(r.method).toBe('lanczos');
    expect(Number.isFinite(r.lambdaMax)).toBe(true);
  });
  it('rejects directions of the wrong length or with NaN', async () => {
    await expectCode(hvp(model(), data, [1, 2, 3], { backend }), 'SHAPE_MISMATCH', /k x P/);
    await expectCode(hvp(model(), data, new Array<number>(17).fill(Number.NaN), { backend }), 'NON_FINITE', /finite/);
  });
  it('rejects non-square and non-finite matrices', async () => {
    await expectCode(eigenvalues([[1, 2, 3]], { backend }), 'SHAPE_MISMATCH', /square/);
    await expectCode(eigenvalues(Float64Array.from([1, Number.NaN, Number.NaN, 1]), { backend }), 'NON_FINITE', /finite/);
    await expectCode(wsBounds(Number.NaN, 1, 3, { backend }), 'NON_FINITE', /finite/);
  });
  it('stays usable after errors', async () => {
    await expectCode(analyze(model(), { x: [[1, 2]], y: [5] }, { backend }), 'BAD_LABELS', /./);
    const r = await analyze(model(), data, { backend });
    expect(Number.isFinite(r.lambdaMax)).toBe(true);
  });
});

describe('backend selection', () => {
  it('rejects an unknown backend name', () => expectCode(analyze(model(), data, { backend: 'gpu' as never }), 'BAD_OPTION', /unknown backend 'gpu'/));
});
