/**
 * Tell before the wait (issue 25 item 3): estimateCost reports the closed form's multiply-adds as
 * the kernel counts them, the method `auto` runs and the dual's tiles; above 2e10 multiply-adds it
 * measures a few-sample run of the same kernel and extrapolates a time. analyze's default
 * (bound 'auto') skips the exact bound when that time exceeds the budget and says so (traceSource
 * 'skipped', boundEstimate), before the eigen-solve starts; the CLI prints the notice and how to
 * avoid or force the computation. Timing accuracy is not asserted here (a shared machine); the
 * bench (bench/scale-traces.ts) compares estimates with measured times.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { wsBound } from '../src/bound.js';
import { estimateCost, PROBE_THRESHOLD } from '../src/cost.js';
import { HessboundError } from '../src/errors.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';

const digits = loadDataset('digits');
const iris = loadDataset('iris');
// 1797 samples at width 192: 2.6e10 multiply-adds, above the probe threshold; Lanczos is fast.
const wide = randomModel({ inputs: digits.d, hidden: [192], classes: digits.classes, activation: 'tanh', seed: 1 });

describe.each(BACKENDS)('estimateCost on %s', (backend) => {
  it('small problems: the kernel\'s counts and method, no measurement', async () => {
    const model = randomModel({ inputs: iris.d, hidden: [16], classes: iris.classes, activation: 'tanh', seed: 0 });
    const e = await estimateCost(model, iris, { backend });
    const r = await wsBound(model, iris, { backend, orthogonality: false });
    expect(e.method).toBe(r.method);
    expect(e.multiplyAdds).toEqual(r.cost);
    expect(e.multiplyAdds!.dual).toBeLessThan(PROBE_THRESHOLD);
    expect(e.seconds).toBeNull();
    expect(e.probe).toBeNull();
    const dual = await wsBound(model, iris, { backend, method: 'dual', orthogonality: false });
    const planned = await estimateCost(model, iris, { backend, method: 'dual' });
    expect(planned.tiles).toEqual(dual.tiles);
  });

  it('large problems: a probe on a few samples and a positive, finite time', async () => {
    const e = await estimateCost(wide, digits, { backend });
    expect(e.method).toBe('dual');
    expect(e.multiplyAdds!.dual).toBeGreaterThan(PROBE_THRESHOLD);
    expect(e.probe!.samples).toBeGreaterThanOrEqual(16);
    expect(e.probe!.samples).toBeLessThanOrEqual(e.tiles!.size);
    expect(e.probe!.multiplyAdds).toBeLessThan(e.multiplyAdds!.dual / 10);
    expect(Number.isFinite(e.seconds) && e.seconds! > 0).toBe(true);
    expect(e.hutchpp!.products).toBe(150);
    expect(e.hutchpp!.seconds).toBeGreaterThan(0);
  });

  it('analyze (default bound auto) skips the exact bound over budget, says so before the eigen-solve, and computes it with bound: true', async () => {
    const calls: string[] = [];
    const skipped = await analyze(wide, digits, {
      backend,
      method: 'lanczos',
      which: 'largest',
      boundBudgetSeconds: 0,
      onBoundCost: (estimate, decision) => calls.push(`${decision}:${estimate.method}`),
      onProgress: () => calls.push('progress'),
    });
    expect(calls[0]).toBe('skip:dual');
    expect(skipped.traceSource).toBe('skipped');
    expect(skipped.trace).toBeNull();
    expect(skipped.bound).toBeNull();
    expect(skipped.boundEstimate!.seconds).toBeGreaterThan(0);
    expect(skipped.lambdaMax).toBeGreaterThan(0);
    const forced = await analyze(wide, digits, { backend, method: 'lanczos', which: 'largest', bound: true, boundBudgetSeconds: 0 });
    expect(forced.traceSource).toBe('closed-form');
    expect(forced.bound!.upper).toBeGreaterThanOrEqual(forced.lambdaMax!);
    const off = await analyze(wide, digits, { backend, method: 'lanczos', which: 'largest', bound: false });
    expect(off.traceSource).toBe('none');
    expect(off.boundEstimate).toBeUndefined();
  }, 120_000);

  it('bad options are BAD_OPTION errors', async () => {
    const model = randomModel({ inputs: iris.d, hidden: [4], classes: iris.classes, activation: 'tanh', seed: 0 });
    await expect(analyze(model, iris, { backend, method: 'lanczos', boundBudgetSeconds: -1 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(analyze(model, iris, { backend, method: 'lanczos', bound: 'sometimes' as never })).rejects.toBeInstanceOf(HessboundError);
  });
});

describe('the CLI tells before the wait', () => {
  const args = ['analyze', '--dataset', 'digits', '--hidden', '192', '--method', 'lanczos', '--which', 'largest', '--k', '1', '--json', '--quiet', '--backend', BACKENDS[0]!];

  it('analyze skips the bound over --bound-budget and prints the cost and how to get it', () => {
    const r = runCli([...args, '--bound-budget', '0']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/skipping the exact WS bound: its traces \(dual closed form, \d\.\de\+10 multiply-adds\) would take about \d/);
    expect(r.stderr).toMatch(/--bound/);
    expect(r.stderr).toMatch(/--trace-method hutch\+\+/);
    const out = JSON.parse(r.stdout) as { traceSource: string; bound: unknown; boundEstimate: { multiplyAdds: { dual: number } } };
    expect(out.traceSource).toBe('skipped');
    expect(out.bound).toBeNull();
    expect(out.boundEstimate.multiplyAdds.dual).toBeGreaterThan(2e10);
  }, 120_000);

  it('--bound computes it anyway; --bound with --no-bound is an error', () => {
    const r = runCli([...args, '--bound', '--bound-budget', '0']);
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { traceSource: string }).traceSource).toBe('closed-form');
    const bad = runCli([...args, '--bound', '--no-bound']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--bound and --no-bound/);
  }, 120_000);
});
