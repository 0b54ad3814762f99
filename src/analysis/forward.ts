/**
 * A plain forward pass in TypeScript: the hidden pre-activations and the output logits of every
 * sample. Used for accuracies and the saturation diagnostics, which need per-sample values the
 * kernel does not return (it reduces over samples). Pure; O(N x P), cheap next to any Hessian.
 */
import erfc from '@stdlib/math-base-special-erfc';
import type { Activation, Dataset, Model } from '../types.js';

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;

function sigmoid(u: number): number {
  if (u >= 0) return 1 / (1 + Math.exp(-u));
  const e = Math.exp(u);
  return e / (1 + e);
}

/** sigma(u), as in native/kernel/activation.cpp. */
export function activationValue(a: Activation, u: number): number {
  switch (a) {
    case 'sigmoid': return sigmoid(u);
    case 'tanh': return Math.tanh(u);
    case 'softplus': return u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
    case 'gelu': return u * 0.5 * erfc(-u * INV_SQRT2);
    case 'silu': return u * sigmoid(u);
    case 'identity': return u;
  }
}

/** sigma'(u). */
export function activationSlope(a: Activation, u: number): number {
  switch (a) {
    case 'sigmoid': { const s = sigmoid(u); return s * (1 - s); }
    case 'tanh': { const t = Math.tanh(u); return 1 - t * t; }
    case 'softplus': return sigmoid(u);
    case 'gelu': return 0.5 * erfc(-u * INV_SQRT2) + u * INV_SQRT_2PI * Math.exp(-0.5 * u * u);
    case 'silu': { const s = sigmoid(u); return s * (1 + u * (1 - s)); }
    case 'identity': return 1;
  }
}

export interface ForwardPass {
  /** Per hidden layer: pre-activations u, n x width row-major. */
  hidden: Float64Array[];
  /** Output logits, n x classes row-major. */
  logits: Float64Array;
}

export function forwardPass(model: Model, data: Dataset): ForwardPass {
  const n = data.n;
  let input = data.x;
  const hidden: Float64Array[] = [];
  let logits = new Float64Array(0);
  model.layers.forEach((layer, l) => {
    const u = new Float64Array(n * layer.out);
    for (let s = 0; s < n; s++)
      for (let j = 0; j < layer.out; j++) {
        let sum = layer.bias ? (layer.bias[j] as number) : 0;
        for (let i = 0; i < layer.in; i++) sum += (layer.weight[j * layer.in + i] as number) * (input[s * layer.in + i] as number);
        u[s * layer.out + j] = sum;
      }
    if (l === model.layers.length - 1) {
      logits = u;
      return;
    }
    hidden.push(u);
    input = u.map((v) => activationValue(model.activation, v));
  });
  return { hidden, logits };
}
