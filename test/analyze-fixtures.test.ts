/** Every fixture reproduced to 1e-9 relative by dense (every key, every eigenvalue) and by Lanczos. */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { BACKENDS } from './helpers/backends.js';
import { loadFixtures, relErr } from './helpers/fixtures.js';

const fixtures = loadFixtures();
const TOL = 1e-9;

describe.each(BACKENDS)('fixtures on the %s backend', (backend) => {
  it('has fixtures to check', () => expect(fixtures.length).toBeGreaterThanOrEqual(9));

  describe.each(fixtures)('$name', (f) => {
    it.each(['kronecker', 'hvp'] as const)('dense (%s assembly) reproduces every key and eigenvalue', async (assembly) => {
      if (assembly === 'kronecker' && f.hiddenLayers !== 1) {
        await expect(analyze(f.model, f.data, { backend, method: 'dense', assembly, reduction: f.reduction })).rejects.toThrow(/one hidden layer/);
        return;
      }
      const r = await analyze(f.model, f.data, { backend, method: 'dense', assembly, reduction: f.reduction, k: 10 });
      const e = f.expected;
      expect(r.backend).toBe(backend);
      expect(r.parameters).toBe(e.parameters);
      expect(r.samples).toBe(e.samples);
      for (const key of ['loss', 'gradNorm', 'trace', 'traceOfSquare', 'lambdaMax', 'lambdaMin'] as const) {
        expect(relErr(r[key] as number, e[key]), key).toBeLessThan(TOL);
      }
      for (const key of ['upper', 'lowerOfMax', 'lowerOfMin', 'upperOfMin', 'spread'] as const) {
        expect(relErr(r.bound![key], e.bound[key]), `bound.${key}`).toBeLessThan(TOL);
      }
      // Eigenvalues near zero are compared relative to the spectral radius.
      const radius = Math.max(Math.abs(e.lambdaMax), Math.abs(e.lambdaMin));
      expect(r.eigenvalues).toHaveLength(e.eigenvalues.length);
      r.eigenvalues!.forEach((v, i) => expect(relErr(v, e.eigenvalues[i]!, radius), `eigenvalue ${i}`).toBeLessThan(TOL));
      r.topEigenvalues.forEach((v, i) => expect(relErr(v, e.topEigenvalues[i]!, radius)).toBeLessThan(TOL));
    });

    it('Lanczos reproduces lambda_max, lambda_min and the k extreme eigenvalues', async () => {
      const k = 3;
      const r = await analyze(f.model, f.data, { backend, method: 'lanczos', reduction: f.reduction, k });
      const e = f.expected;
      const radius = Math.max(Math.abs(e.lambdaMax), Math.abs(e.lambdaMin));
      expect(r.method).toBe('lanczos');
      expect(r.lanczos!.converged).toBe(true);
      expect(relErr(r.lambdaMax!, e.lambdaMax)).toBeLessThan(TOL);
      expect(relErr(r.lambdaMin!, e.lambdaMin)).toBeLessThan(TOL);
      const sorted = [...e.eigenvalues];
      for (let i = 0; i < k; i++) {
        expect(relErr(r.topEigenvalues[i]!, sorted[sorted.length - 1 - i]!, radius)).toBeLessThan(TOL);
        expect(relErr(r.bottomEigenvalues[i]!, sorted[i]!, radius)).toBeLessThan(TOL);
      }
      for (const res of [...r.lanczos!.topResiduals, ...r.lanczos!.bottomResiduals]) expect(res).toBeLessThan(1e-9);
      expect(r.lanczos!.products).toBeGreaterThan(0);
    });
  });
});
