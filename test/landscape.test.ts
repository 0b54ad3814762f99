/**
 * landscape(): along a unit top eigenvector the loss has slope g.v and curvature lambda_max at 0
 * (finite differences of the exact losses); dense and Lanczos eigenvectors agree; random
 * directions are filter-normalized; 2D surfaces are centred on the loss; plots are valid SVG.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { filterNormalizedDirection, landscape } from '../src/analysis/landscape.js';
import { landscapePlotSvg } from '../src/plot/landscape-plot.js';
import { BACKENDS } from './helpers/backends.js';
import { loadFixtures, relErr } from './helpers/fixtures.js';
import { checkSvg } from './helpers/svg.js';

const fixtures = loadFixtures();
const iris = fixtures.find((f) => f.name === 'iris-tanh-h8')!;
const deep = fixtures.find((f) => f.name === 'wine-softplus-h5x4')!;

describe.each(BACKENDS)('landscape on %s', (backend) => {
  it.each([iris, deep])('1D along the top eigenvectors: slope and curvature at 0 match g.v and lambda ($name)', async (f) => {
    const h = 1e-3;
    const r = await landscape(f.model, f.data, { k: 2, points: 3, radius: h, reduction: f.reduction, backend, method: 'dense' });
    expect(r.curves).toHaveLength(2);
    expect(r.alphas).toEqual([-h, 0, h]);
    const exact = await analyze(f.model, f.data, { method: 'dense', k: 2, reduction: f.reduction, backend });
    r.curves!.forEach((c, i) => {
      expect(relErr(c.eigenvalue!, exact.topEigenvalues[i]!)).toBeLessThan(1e-9);
      expect(c.norm).toBeCloseTo(1, 12);
      const [lm, l0, lp] = c.loss as [number, number, number];
      expect(l0).toBe(r.loss);
      // Central differences: O(h^2) errors from the third and fourth derivatives.
      expect(Math.abs((lp - lm) / (2 * h) - c.slope)).toBeLessThan(1e-5 * Math.max(1, Math.abs(c.slope)));
      expect(relErr((lp - 2 * l0 + lm) / (h * h), c.eigenvalue!)).toBeLessThan(1e-3);
    });
    expect(relErr(r.loss, f.expected.loss)).toBeLessThan(1e-12);
  });

  it('Lanczos eigenvectors give the same landscape as dense ones', async () => {
    const dense = await landscape(iris.model, iris.data, { points: 5, radius: 0.5, backend, method: 'dense' });
    const lanczos = await landscape(iris.model, iris.data, { points: 5, radius: 0.5, backend, method: 'lanczos' });
    expect(lanczos.eigenMethod).toBe('lanczos');
    expect(relErr(lanczos.curves![0]!.eigenvalue!, dense.curves![0]!.eigenvalue!)).toBeLessThan(1e-9);
    // The sign of an eigenvector is arbitrary: the curve may be mirrored.
    const a = dense.curves![0]!.loss;
    const b = lanczos.curves![0]!.loss;
    const mirrored = Math.abs(a[0]! - b[0]!) > Math.abs(a[0]! - b[4]!);
    a.forEach((v, i) => expect(relErr(mirrored ? b[4 - i]! : b[i]!, v)).toBeLessThan(1e-7));
  });

  it('filter-normalized random directions: each weight row has the norm of the same row of theta, biases stay', () => {
    const d = filterNormalizedDirection(iris.model, 4);
    let offset = 0;
    for (const layer of iris.model.layers) {
      for (let i = 0; i < layer.out; i++) {
        const row = d.subarray(offset + i * layer.in, offset + (i + 1) * layer.in);
        const theta = layer.weight.subarray(i * layer.in, (i + 1) * layer.in);
        expect(relErr(Math.hypot(...row), Math.hypot(...theta))).toBeLessThan(1e-12);
      }
      offset += layer.out * layer.in;
      if (layer.bias) {
        expect(Array.from(d.subarray(offset, offset + layer.out)).every((v) => v === 0)).toBe(true);
        offset += layer.out;
      }
    }
    expect(offset).toBe(d.length);
  });

  it('2D surfaces: the centre is the loss at the parameters; plots are valid SVG', async () => {
    for (const directions of ['eigen', 'random'] as const) {
      const r = await landscape(iris.model, iris.data, { dimensions: 2, directions, points: 9, radius: 0.3, backend });
      expect(r.surface).toHaveLength(9);
      expect(r.surface![4]![4]).toBe(r.loss);
      expect(r.axes).toHaveLength(2);
      const svg = landscapePlotSvg(r);
      const doc = checkSvg(svg);
      expect(doc.root).toBe('svg');
      expect(doc.count('path')).toBeGreaterThan(5);
      expect(svg).toContain(directions === 'eigen' ? 'eigenvector 1' : 'filter-normalized');
    }
    const line = await landscape(iris.model, iris.data, { points: 11, radius: 0.5, backend });
    const svg = landscapePlotSvg(line);
    expect(checkSvg(svg).count('polyline')).toBeGreaterThanOrEqual(1);
    expect(svg).toContain('quadratic model');
  });

  it('refuses bad options', async () => {
    await expect(landscape(iris.model, iris.data, { points: 4, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(landscape(iris.model, iris.data, { radius: 0, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(landscape(iris.model, iris.data, { dimensions: 3 as never, backend })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});
