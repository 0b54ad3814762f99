/** Unconverged Lanczos is never reported as exact: Ritz values with residuals, from their own end, exit status 3. */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { BACKENDS } from './helpers/backends.js';
import { runCliAsync } from './helpers/cli-async.js';

const data = loadDataset('iris');
const model = randomModel({ inputs: 4, hidden: [16], classes: 3, activation: 'tanh', seed: 0 });

describe.each(BACKENDS)('partial Lanczos results on %s', (backend) => {
  it('reports a Ritz value as a lower bound on lambda_max, never as lambda_max', async () => {
    const exact = await analyze(model, data, { backend, method: 'dense' });
    const r = await analyze(model, data, { backend, method: 'lanczos', maxIterations: 1, k: 5 });
    expect(r.converged).toBe(false);
    expect(r.lanczos?.converged).toBe(false);
    expect(r.lanczos?.topConverged).toBe(false);
    expect(r.lambdaMax).toBeNull();
    expect(r.lambdaMin).toBeNull();
    expect(r.boundRatio).toBeNull();
    // Cauchy interlacing: Ritz values lie inside the spectrum.
    expect(r.lambdaMaxLowerBound).not.toBeNull();
    expect(r.lambdaMaxLowerBound!).toBeLessThanOrEqual(exact.lambdaMax! * (1 + 1e-12));
    expect(r.lambdaMinUpperBound!).toBeGreaterThanOrEqual(exact.lambdaMin! * (1 + 1e-12));
    expect(r.lambdaMaxLowerBound!).toBeLessThan(exact.lambdaMax! * 0.9);
    // Two Ritz values from two iterations: one per end, never the bottom one in the top list.
    expect(r.topEigenvalues).toHaveLength(1);
    expect(r.bottomEigenvalues).toHaveLength(1);
    expect(r.topEigenvalues[0]!).toBeGreaterThan(r.bottomEigenvalues[0]!);
    expect(r.lanczos?.topResiduals[0]!).toBeGreaterThan(1e-3);
    // The point is flagged, so sweeps and summaries leave it out.
    expect(r.diagnostics.flags).toContain('eigensolver-not-converged');
  });

  it('splits few Ritz values between the ends without sharing one', async () => {
    const r = await analyze(model, data, { backend, method: 'lanczos', maxIterations: 5, k: 5 });
    expect(r.topEigenvalues.length + r.bottomEigenvalues.length).toBeLessThanOrEqual(5);
    expect(Math.min(...r.topEigenvalues)).toBeGreaterThan(Math.max(...r.bottomEigenvalues));
  });

  it('keeps an end that converged exact while the other did not', async () => {
    const r = await analyze(model, data, { backend, method: 'lanczos', which: 'largest', k: 1 });
    expect(r.converged).toBe(true);
    expect(r.lambdaMax).not.toBeNull();
    expect(r.lambdaMaxLowerBound).toBeNull();
    expect(r.diagnostics.flags).not.toContain('eigensolver-not-converged');
  });
});

describe('partial results in the CLI and sweeps', () => {
  it('prints Ritz values with residuals and the lower-bound wording, then exits 3', async () => {
    const r = await runCliAsync(['analyze', '--dataset', 'iris', '--hidden', '16', '--method', 'lanczos', '--max-iterations', '1', '--quiet']);
    expect(r.status).toBe(3);
    expect(r.stdout).not.toContain('lambda_max (exact)');
    expect(r.stdout).toMatch(/lambda_max\s+NOT CONVERGED: >= 0\.72\d+ \(largest Ritz value, a lower bound on lambda_max; residual/);
    expect(r.stdout).toMatch(/top Ritz values\s+0\.72\d+ \(residual/);
    expect(r.stderr).toContain('exit status 3');
    const json = await runCliAsync(['analyze', '--dataset', 'iris', '--hidden', '16', '--method', 'lanczos', '--max-iterations', '1', '--json', '--quiet']);
    expect(json.status).toBe(3);
    const out = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ converged: false, lambdaMax: null, lanczos: { converged: false, topConverged: false } });
  });
});
