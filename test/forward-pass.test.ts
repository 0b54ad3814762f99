/**
 * The TypeScript forward pass behind accuracies and the saturation diagnostics runs four samples at
 * a time and the diagnostics take sigma' of tanh and sigmoid from the cached activations. Both must
 * give exactly what the plain one-sample loops and activationSlope(u) give.
 */
import { describe, expect, it } from 'vitest';
import { computeDiagnostics, largestSlope, SATURATION_SLOPE } from '../src/analysis/diagnostics.js';
import { activationSlope, activationValue, forwardPass } from '../src/analysis/forward.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import type { Activation, Dataset, Model } from '../src/types.js';

/** One sample, one unit at a time: bias first, then the inputs in order. */
function plainForward(model: Model, data: Dataset): { hidden: Float64Array[]; logits: Float64Array } {
  let input = Array.from(data.x);
  const hidden: Float64Array[] = [];
  let logits = new Float64Array(0);
  model.layers.forEach((layer, l) => {
    const u = new Float64Array(data.n * layer.out);
    for (let s = 0; s < data.n; s++)
      for (let j = 0; j < layer.out; j++) {
        let sum = layer.bias ? (layer.bias[j] as number) : 0;
        for (let i = 0; i < layer.in; i++) sum += (layer.weight[j * layer.in + i] as number) * (input[s * layer.in + i] as number);
        u[s * layer.out + j] = sum;
      }
    if (l === model.layers.length - 1) logits = u;
    else {
      hidden.push(u);
      input = Array.from(u, (v) => activationValue(model.activation, v));
    }
  });
  return { hidden, logits };
}

function firstRows(data: Dataset, n: number): Dataset {
  return { ...data, n, x: data.x.slice(0, n * data.d), targets: data.targets.slice(0, n * data.classes), labels: data.labels && data.labels.slice(0, n) };
}

/** The model with every weight multiplied by `factor` (large factors saturate the units). */
function scaled(model: Model, factor: number): Model {
  return { ...model, layers: model.layers.map((layer) => ({ ...layer, weight: layer.weight.map((w) => w * factor) })) };
}

/** Biases start at zero; give them values so that their place in each sum matters. */
function withBiases(model: Model): Model {
  return { ...model, layers: model.layers.map((layer) => ({ ...layer, bias: layer.bias && layer.bias.map((_, j) => 0.3 * Math.sin(7 * j + 1)) })) };
}

const iris = loadDataset('iris');
const ACTIVATIONS: Activation[] = ['tanh', 'sigmoid', 'softplus', 'gelu', 'silu', 'identity'];

describe('forward pass', () => {
  it('equals the one-sample loops bit for bit, for every sample count modulo 4 and with or without biases', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 9, 150]) {
      const data = firstRows(iris, n);
      for (const bias of [true, false]) {
        const model = withBiases(randomModel({ inputs: 4, hidden: [5, 3], classes: 3, activation: 'tanh', seed: n, bias }));
        const got = forwardPass(model, data);
        const want = plainForward(model, data);
        expect(Array.from(got.logits)).toEqual(Array.from(want.logits));
        expect(got.hidden.map((u) => Array.from(u))).toEqual(want.hidden.map((u) => Array.from(u)));
        expect(got.post.map((a) => Array.from(a))).toEqual(want.hidden.map((u) => Array.from(u, (v) => Math.tanh(v))));
      }
    }
  });

  it('saturation counts the units whose |activationSlope(u)| is below the threshold, for every activation', () => {
    for (const activation of ACTIVATIONS)
      for (const factor of [1, 10, 100]) {
        const model = scaled(randomModel({ inputs: 4, hidden: [7, 5], classes: 3, activation, seed: 2 }), factor);
        const gradient = new Float64Array(model.layers.reduce((s, l) => s + l.weight.length + (l.bias?.length ?? 0), 0));
        const d = computeDiagnostics({ model, data: iris, loss: 1, gradient });
        if (activation === 'identity') {
          expect(d.saturatedFraction).toBe(0);
          continue;
        }
        const limit = SATURATION_SLOPE * largestSlope(model);
        const { hidden } = plainForward(model, iris);
        let saturated = 0;
        let pairs = 0;
        for (const u of hidden)
          for (const v of u) {
            pairs++;
            if (Math.abs(activationSlope(activation, v)) < limit) saturated++; // GELU/SiLU's negative slopes are not flat
          }
        expect(d.saturatedFraction, `${activation} x${factor}`).toBe(saturated / pairs);
        if (factor === 100) expect(saturated, `${activation} x${factor} saturates some units`).toBeGreaterThan(0);
      }
  });
});
