/**
 * Files made by real PyTorch (test/fixtures/interop/make_fixtures.py: torch.onnx.export, and
 * safetensors written per the spec) from the weights of the reference fixtures, in nn.Sequential,
 * nested and named layouts, float64, float32 (and F16/BF16), every activation, a deeper net and one
 * without biases; make_relu_fixtures.py adds nn.ReLU / nn.LeakyReLU nets (no sample near a kink). Each must give back the weights exactly (float32 -> float64 is exact) and
 * reproduce, on both backends, the reference values to 1e-9: PyTorch's own float64 autodiff of
 * the weights as stored, and for float64 files also the independent fixtures in test/fixtures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { HessboundError } from '../src/errors.js';
import { parseModel } from '../src/io/model-source.js';
import { flattenParams } from '../src/model.js';
import type { Model } from '../src/types.js';
import { BACKENDS } from './helpers/backends.js';
import { FIXTURE_DIR, loadFixtures, relErr, type Expected } from './helpers/fixtures.js';

const INTEROP = join(FIXTURE_DIR, 'interop');
const TOL = 1e-9;

interface Entry {
  file: string;
  source: string;
  layout: 'sequential' | 'nested' | 'named' | 'matmul';
  dtype: 'f64' | 'f32' | 'f16' | 'bf16';
  safetensors: boolean;
  onnx?: boolean;
  metadataActivation: boolean;
  activation: string;
  /** leaky_relu's slope (make_relu_fixtures.py): the safetensors metadata's and ONNX LeakyRelu's alpha. */
  negativeSlope?: number;
  reference: Omit<Expected, 'topEigenvalues' | 'eigenvalues'>;
}

const manifest = JSON.parse(readFileSync(join(INTEROP, 'manifest.json'), 'utf8')) as { torch: string; fixtures: Entry[] };
const fixtures = new Map(loadFixtures().map((f) => [f.name, f]));

/** The module names of the named layout, input to output (make_fixtures.py's Named). */
function namedOrder(layers: number): string[] {
  return [...Array.from({ length: layers - 1 }, (_, i) => `fc${i + 1}`), 'head'];
}

interface Case { name: string; entry: Entry; format: 'safetensors' | 'onnx' }
const cases: Case[] = manifest.fixtures.flatMap((entry) => [
  ...(entry.safetensors ? [{ name: `${entry.file}.safetensors`, entry, format: 'safetensors' as const }] : []),
  ...(entry.onnx !== false ? [{ name: `${entry.file}.onnx`, entry, format: 'onnx' as const }] : []),
]);

function load(c: Case): Model {
  const bytes = new Uint8Array(readFileSync(join(INTEROP, c.name)));
  const source = fixtures.get(c.entry.source)!;
  const options = {
    ...(c.format === 'safetensors' && !c.entry.metadataActivation ? { activation: c.entry.activation } : {}),
    // Four named modules of shapes 4x3, 3x4, 3x3, 3x3 chain in several orders: the order must be given.
    ...(c.format === 'safetensors' && c.entry.layout === 'named' && c.entry.source.startsWith('synth-silu') ? { layerOrder: namedOrder(source.model.layers.length) } : {}),
  };
  return parseModel(bytes, { fileName: c.name, ...options });
}

describe('PyTorch-made fixtures', () => {
  it('cover every activation, both formats, float32 and float64, every layout, a deeper net and one without biases', () => {
    expect(manifest.torch).toMatch(/^\d/);
    const activations = new Set(cases.map((c) => c.entry.activation));
    expect([...activations].sort()).toEqual(['gelu', 'identity', 'leaky_relu', 'relu', 'sigmoid', 'silu', 'softplus', 'tanh']);
    for (const format of ['safetensors', 'onnx'] as const) {
      for (const dtype of ['f32', 'f64'] as const) {
        const some = cases.filter((c) => c.format === format && c.entry.dtype === dtype);
        expect(new Set(some.map((c) => c.entry.activation)).size, `${format} ${dtype}`).toBe(8);
      }
    }
    expect(new Set(cases.map((c) => c.entry.layout))).toEqual(new Set(['sequential', 'nested', 'named', 'matmul']));
    expect(cases.some((c) => fixtures.get(c.entry.source)!.model.layers.length >= 3)).toBe(true);
    expect(cases.some((c) => fixtures.get(c.entry.source)!.model.layers.every((l) => l.bias === null))).toBe(true);
  });

  it('ambiguous named modules without a layer order are refused, naming the modules', () => {
    const bytes = new Uint8Array(readFileSync(join(INTEROP, 'synth-silu-h4x3x3-nobias.named.f64.safetensors')));
    expect(() => parseModel(bytes)).toThrow(/ambiguous[\s\S]*--layer-order/);
  });

  it('a file without activation metadata needs the activation', () => {
    const bytes = new Uint8Array(readFileSync(join(INTEROP, 'synth-gelu-h7-soft.nested.f32.safetensors')));
    expect(() => parseModel(bytes)).toThrow(HessboundError);
    expect(() => parseModel(bytes)).toThrow(/does not say which activation/);
  });

  describe.each(cases)('$name', (c) => {
    const source = fixtures.get(c.entry.source)!;

    it('gives back the weights exactly', () => {
      const model = load(c);
      expect(model.activation).toBe(c.entry.activation);
      expect(model.negativeSlope).toBe(c.entry.negativeSlope);
      expect(model.layers.map((l) => [l.out, l.in, l.bias !== null])).toEqual(source.model.layers.map((l) => [l.out, l.in, l.bias !== null]));
      const expected = flattenParams(source.model);
      const round = c.entry.dtype === 'f64' ? (v: number) => v : c.entry.dtype === 'f32' ? Math.fround : null;
      if (round) expect(flattenParams(model)).toEqual(expected.map(round));
      else flattenParams(model).forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(Math.abs(expected[i]!) * 2 ** -7));
    });

    it.each(BACKENDS)('reproduces the reference values on the %s backend', async (backend) => {
      const model = load(c);
      const r = await analyze(model, source.data, { backend, method: 'dense', k: 3 });
      const references: Array<[string, Omit<Expected, 'topEigenvalues' | 'eigenvalues'>]> = [['PyTorch', c.entry.reference]];
      if (c.entry.dtype === 'f64') references.push(['test/fixtures', source.expected]);
      for (const [who, e] of references) {
        const radius = Math.max(Math.abs(e.lambdaMax), Math.abs(e.lambdaMin));
        expect(r.parameters).toBe(e.parameters);
        for (const key of ['loss', 'gradNorm', 'trace', 'traceOfSquare', 'lambdaMax'] as const) {
          expect(relErr(r[key] as number, e[key]), `${who} ${key}`).toBeLessThan(TOL);
        }
        expect(relErr(r.lambdaMin!, e.lambdaMin, radius), `${who} lambdaMin`).toBeLessThan(TOL);
        for (const key of ['upper', 'lowerOfMax', 'lowerOfMin', 'upperOfMin', 'spread'] as const) {
          expect(relErr(r.bound![key], e.bound[key], radius), `${who} bound.${key}`).toBeLessThan(TOL);
        }
      }
    });
  });
});
