/**
 * Large kernel arrays (the forward cache, the dense Hessian, the Lanczos basis) go on huge pages
 * where Linux offers them (native/kernel/support/large_array.hpp); HESSBOUND_HUGE_PAGES=0 keeps ordinary
 * pages. Only where the bytes live changes: loss, gradient, products, λmax and a trained model must
 * be the same bits either way. The variable is read once per process, so each setting runs in a
 * child process. Native only: the WebAssembly module has no such switch.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

// Width 512 on digits: each forward-cache array is 7.4 MB, above the 4 MB threshold.
const CHILD = `
import { createHash } from 'node:crypto';
import { analyze, hvp, loadDataset, lossAndGradient, randomModel, train } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};
const digits = loadDataset('digits');
const iris = loadDataset('iris');
const wide = randomModel({ inputs: digits.d, hidden: [512], classes: digits.classes, activation: 'tanh', seed: 5 });
// SHA-256 of the bytes: equal hashes, equal bits.
const bits = (a) => createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
const { loss, gradient } = await lossAndGradient(wide, digits, { backend: 'native' });
const v = gradient.map((g, i) => Math.sin(i) + g);
const product = await hvp(wide, digits, v, { backend: 'native' });
const lanczos = await analyze(wide, digits, { method: 'lanczos', which: 'largest', k: 1, tolerance: 1e-10, bound: false, backend: 'native' });
const dense = await analyze(randomModel({ inputs: iris.d, hidden: [200], classes: iris.classes, activation: 'tanh', seed: 6 }), iris, { method: 'dense', backend: 'native' });
const trained = await train(wide, digits, { maxSteps: 3, adamSteps: 3, gradTol: 0, backend: 'native' });
console.log(JSON.stringify([loss, bits(gradient), bits(product), lanczos.lambdaMax, bits(Float64Array.from(dense.eigenvalues)), bits(Float64Array.from(trained.model.layers[0].weight))]));
`;

function run(env: NodeJS.ProcessEnv): unknown[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as unknown[];
}

describe('huge pages for large kernel arrays (native)', () => {
  it('HESSBOUND_HUGE_PAGES=0 and the default give the same bits', () => {
    const ordinary = run({ HESSBOUND_HUGE_PAGES: '0' });
    const huge = run({ HESSBOUND_HUGE_PAGES: '1' });
    expect(ordinary).toHaveLength(6);
    expect(typeof ordinary[0]).toBe('number');
    expect(huge).toEqual(ordinary);
  }, 600_000);
});
