/**
 * spectrum(): the dense density comes from the exact eigenvalues of the fixtures; stochastic Lanczos
 * quadrature integrates to 1, its mean estimates tr(H)/P within its stated error, its extreme Ritz
 * values are the exact extremes once the Krylov space is the whole space, and its distance to the
 * smoothed exact density shrinks as probes grow. The plot is valid SVG.
 */
import { describe, expect, it } from 'vitest';
import { l1Distance } from '../src/analysis/density.js';
import { spectrum } from '../src/analysis/spectrum.js';
import { HessboundError } from '../src/errors.js';
import { spectrumPlotSvg } from '../src/plot/spectrum-plot.js';
import { BACKENDS } from './helpers/backends.js';
import { loadFixtures, relErr } from './helpers/fixtures.js';
import { checkSvg } from './helpers/svg.js';

const fixtures = loadFixtures();
const iris = fixtures.find((f) => f.name === 'iris-tanh-h8')!;
const deep = fixtures.find((f) => f.name === 'wine-softplus-h5x4')!;

describe.each(BACKENDS)('spectrum on %s', (backend) => {
  it.each([iris, deep])('dense: the exact eigenvalues smoothed; integral 1, mean tr(H)/P ($name)', async (f) => {
    const r = await spectrum(f.model, f.data, { method: 'dense', reduction: f.reduction, backend });
    expect(r.method).toBe('dense');
    expect(r.parameters).toBe(f.expected.parameters);
    expect(relErr(r.lambdaMax, f.expected.lambdaMax)).toBeLessThan(1e-9);
    expect(relErr(r.lambdaMin, f.expected.lambdaMin)).toBeLessThan(1e-9);
    expect(r.eigenvalues).toHaveLength(f.expected.parameters);
    expect(Math.abs(r.integral - 1)).toBeLessThan(1e-7);
    expect(relErr(r.mean, f.expected.trace / f.expected.parameters)).toBeLessThan(1e-10);
    expect(relErr(r.bound!.upper, f.expected.bound.upper)).toBeLessThan(1e-9);
    // The grid covers the spectrum with 6 kernel widths to spare and resolves the kernel.
    expect(r.grid[0]).toBeCloseTo(r.lambdaMin - 6 * r.kernelWidth, 9);
    expect((r.grid[1]! - r.grid[0]!) / r.kernelWidth).toBeLessThanOrEqual(1);
    expect(r.kernelWidth).toBeCloseTo(0.01 * (r.lambdaMax - r.lambdaMin), 12);
  });

  it.each([iris, deep])('slq with a full Krylov space: exact extremes, mean within its error ($name)', async (f) => {
    const P = f.expected.parameters;
    const r = await spectrum(f.model, f.data, { method: 'slq', probes: 12, steps: P, reduction: f.reduction, backend });
    expect(r.method).toBe('slq');
    expect(r.slq!.steps).toBe(P);
    // Interlacing: Ritz values lie inside the spectrum; with T of size P they are the eigenvalues.
    expect(relErr(r.lambdaMax, f.expected.lambdaMax)).toBeLessThan(1e-8);
    expect(relErr(r.lambdaMin, f.expected.lambdaMin)).toBeLessThan(1e-8);
    for (const q of r.slq!.quadratures) expect(q.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Math.abs(r.integral - 1)).toBeLessThan(1e-7);
    const exact = f.expected.trace / P;
    expect(r.meanStdError).toBeGreaterThan(0);
    expect(Math.abs(r.mean - exact)).toBeLessThan(4 * r.meanStdError!);
    // Traces for the WS bound: closed form (one hidden layer) or dense (deeper), exact either way.
    expect(relErr(r.trace!, f.expected.trace)).toBeLessThan(1e-9);
    expect(relErr(r.bound!.upper, f.expected.bound.upper)).toBeLessThan(1e-9);
  });

  it('slq with few steps: weights sum to 1 per probe, Ritz values inside the spectrum, density integrates to 1', async () => {
    const r = await spectrum(iris.model, iris.data, { method: 'slq', probes: 6, steps: 15, seed: 3, backend });
    expect(r.slq!.quadratures.every((q) => q.nodes.length === 15)).toBe(true);
    expect(r.lambdaMax).toBeLessThanOrEqual(iris.expected.lambdaMax * (1 + 1e-12));
    expect(r.lambdaMin).toBeGreaterThanOrEqual(iris.expected.lambdaMin * (1 + 1e-12));
    expect(r.slq!.lambdaMaxResidual).toBeGreaterThanOrEqual(0);
    expect(Math.abs(r.integral - 1)).toBeLessThan(1e-7);
    // Gauss quadrature is exact for degree 1: the mean is the Hutchinson estimate, unbiased.
    const exact = iris.expected.trace / iris.expected.parameters;
    expect(Math.abs(r.mean - exact)).toBeLessThan(4 * r.meanStdError!);
    expect(r.slq!.products).toBe(6 * 15);
  });

  it('the distance to the smoothed exact density shrinks as probes grow', async () => {
    const dense = await spectrum(iris.model, iris.data, { method: 'dense', backend });
    const common = { range: [dense.grid[0]!, dense.grid.at(-1)!] as [number, number], kernelWidth: dense.kernelWidth, grid: dense.grid.length };
    const distances: number[] = [];
    for (const probes of [2, 16, 128]) {
      const r = await spectrum(iris.model, iris.data, { method: 'slq', probes, steps: iris.expected.parameters, seed: 11, bound: false, backend, ...common });
      expect(r.grid).toEqual(dense.grid);
      distances.push(l1Distance(r.grid, r.density, dense.density));
    }
    expect(distances[1]).toBeLessThan(distances[0]!);
    expect(distances[2]).toBeLessThan(distances[1]!);
    // Monte Carlo rate: roughly 1/sqrt(K), so 64 times the probes cut it well below half.
    expect(distances[2]).toBeLessThan(0.5 * distances[0]!);
  });

  it('refuses a grid too coarse for the kernel, and unknown methods', async () => {
    await expect(spectrum(iris.model, iris.data, { method: 'dense', grid: 10, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(spectrum(iris.model, iris.data, { method: 'exact' as never, backend })).rejects.toBeInstanceOf(HessboundError);
    await expect(spectrum(iris.model, iris.data, { method: 'slq', probes: 0, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(spectrum(iris.model, iris.data, { kernelWidth: -1, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });

  it('plots valid SVG with lambda_max, lambda_min and the WS interval marked', async () => {
    for (const method of ['dense', 'slq'] as const) {
      const r = await spectrum(iris.model, iris.data, { method, probes: 4, steps: 20, backend });
      const svg = spectrumPlotSvg(r);
      const doc = checkSvg(svg);
      expect(doc.root).toBe('svg');
      expect(doc.count('polyline')).toBeGreaterThanOrEqual(1);
      expect(svg).toContain('\u03bbmax');
      expect(svg).toContain('\u03bbmin');
      expect(svg).toContain('WS bound');
      expect(svg).toContain('WS interval of lambda_max');
      expect(svg).toContain(method === 'dense' ? 'exact eigenvalues' : 'stochastic Lanczos quadrature');
    }
  });
});
