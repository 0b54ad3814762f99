/**
 * A plain forward pass in TypeScript: the hidden pre-activations and the output logits of every
 * sample. Used for accuracies and the saturation diagnostics, which need per-sample values the
 * kernel does not return (it reduces over samples). Pure; O(N x P), cheap next to any Hessian.
 */
import { erfc } from '../math/erfc.js';
import { negativeSlopeOf } from '../model.js';
import { DEFAULT_NEGATIVE_SLOPE, type Activation, type Dataset, type Model } from '../types.js';

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;

function sigmoid(u: number): number {
  if (u >= 0) return 1 / (1 + Math.exp(-u));
  const e = Math.exp(u);
  return e / (1 + e);
}

/** sigma(u), as in native/kernel/model/activation.cpp; `slope`: leaky_relu's for u <= 0. */
export function activationValue(a: Activation, u: number, slope = DEFAULT_NEGATIVE_SLOPE): number {
  switch (a) {
    case 'sigmoid': return sigmoid(u);
    case 'tanh': return Math.tanh(u);
    case 'softplus': return u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u));
    case 'gelu': return u * 0.5 * erfc(-u * INV_SQRT2);
    case 'silu': return u * sigmoid(u);
    case 'identity': return u;
    case 'relu': return u > 0 ? u : 0;
    case 'leaky_relu': return u > 0 ? u : slope * u;
  }
}

/** sigma'(u); at the kink u = 0 PyTorch's value (relu 0, leaky_relu the slope), as the kernel. */
export function activationSlope(a: Activation, u: number, slope = DEFAULT_NEGATIVE_SLOPE): number {
  switch (a) {
    case 'sigmoid': { const s = sigmoid(u); return s * (1 - s); }
    case 'tanh': { const t = Math.tanh(u); return 1 - t * t; }
    case 'softplus': return sigmoid(u);
    case 'gelu': return 0.5 * erfc(-u * INV_SQRT2) + u * INV_SQRT_2PI * Math.exp(-0.5 * u * u);
    case 'silu': { const s = sigmoid(u); return s * (1 + u * (1 - s)); }
    case 'identity': return 1;
    case 'relu': return u > 0 ? 1 : 0;
    case 'leaky_relu': return u > 0 ? 1 : slope;
  }
}

export interface ForwardPass {
  /** Per hidden layer: pre-activations u, n x width row-major. */
  hidden: Float64Array[];
  /** Per hidden layer: activations sigma(u), as hidden. */
  post: Float64Array[];
  /** Output logits, n x classes row-major. */
  logits: Float64Array;
}

export function forwardPass(model: Model, data: Dataset): ForwardPass {
  const n = data.n;
  let input = data.x;
  const hidden: Float64Array[] = [];
  const post: Float64Array[] = [];
  let logits: Float64Array = new Float64Array(0);
  model.layers.forEach((layer, l) => {
    const u = affine(layer.weight, layer.bias, layer.in, layer.out, input, n);
    if (l === model.layers.length - 1) {
      logits = u;
      return;
    }
    hidden.push(u);
    const slope = negativeSlopeOf(model);
    input = u.map((v) => activationValue(model.activation, v, slope));
    post.push(input);
  });
  return { hidden, post, logits };
}

/**
 * u = input W^T + b for n rows. Four rows at a time: each weight row is read once per four
 * samples and the four sums are independent chains, which V8 overlaps (a single dot product waits
 * on its own additions). Each sum still runs bias first, then i in order, so the values are
 * bit-identical to the one-row loop.
 */
function affine(weight: Float64Array, bias: Float64Array | null, nIn: number, nOut: number, input: Float64Array, n: number): Float64Array {
  const u = new Float64Array(n * nOut);
  let s = 0;
  for (; s + 4 <= n; s += 4) {
    const r0 = s * nIn, r1 = r0 + nIn, r2 = r1 + nIn, r3 = r2 + nIn;
    for (let j = 0; j < nOut; j++) {
      const b = bias ? (bias[j] as number) : 0;
      let a0 = b, a1 = b, a2 = b, a3 = b;
      const w0 = j * nIn;
      for (let i = 0; i < nIn; i++) {
        const w = weight[w0 + i] as number;
        a0 += w * (input[r0 + i] as number);
        a1 += w * (input[r1 + i] as number);
        a2 += w * (input[r2 + i] as number);
        a3 += w * (input[r3 + i] as number);
      }
      u[s * nOut + j] = a0;
      u[(s + 1) * nOut + j] = a1;
      u[(s + 2) * nOut + j] = a2;
      u[(s + 3) * nOut + j] = a3;
    }
  }
  for (; s < n; s++)
    for (let j = 0; j < nOut; j++) {
      let sum = bias ? (bias[j] as number) : 0;
      for (let i = 0; i < nIn; i++) sum += (weight[j * nIn + i] as number) * (input[s * nIn + i] as number);
      u[s * nOut + j] = sum;
    }
  return u;
}
