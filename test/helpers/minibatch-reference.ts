/**
 * An independent TypeScript reference of mini-batch training (docs/training.md): plain loops for
 * the MLP's forward and backward passes (Math.tanh, log-sum-exp), SplitMix64 in BigInt for the
 * documented shuffle, Adam and SGD with momentum. Slow; for tiny nets only.
 */
import type { Dataset, Model } from '../../src/types.js';

const MASK = (1n << 64n) - 1n;

/** SplitMix64 as in native/kernel/support/rng.hpp. */
export function splitMix64(seed: number): () => bigint {
  let state = BigInt(seed) & MASK;
  return () => {
    state = (state + 0x9e3779b97f4a7c15n) & MASK;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    return z ^ (z >> 31n);
  };
}

interface Net {
  sizes: number[];
  bias: boolean[];
}

function netOf(model: Model): Net {
  return { sizes: [model.layers[0]!.in, ...model.layers.map((l) => l.out)], bias: model.layers.map((l) => l.bias !== null) };
}

/** Summed cross-entropy of `rows` and its gradient (tanh hidden layers), params flattened as flattenParams. */
function lossGrad(net: Net, params: Float64Array, data: Dataset, rows: readonly number[]): { loss: number; grad: Float64Array } {
  const L = net.sizes.length - 1;
  const offsets: number[] = [];
  let at = 0;
  for (let l = 0; l < L; l++) {
    offsets.push(at);
    at += net.sizes[l + 1]! * net.sizes[l]! + (net.bias[l] ? net.sizes[l + 1]! : 0);
  }
  const grad = new Float64Array(params.length);
  let loss = 0;
  for (const n of rows) {
    const acts: Float64Array[] = [data.x.subarray(n * data.d, (n + 1) * data.d)];
    for (let l = 0; l < L; l++) {
      const input = acts[l]!;
      const out = new Float64Array(net.sizes[l + 1]!);
      for (let j = 0; j < out.length; j++) {
        let s = net.bias[l] ? params[offsets[l]! + out.length * input.length + j]! : 0;
        for (let i = 0; i < input.length; i++) s += params[offsets[l]! + j * input.length + i]! * input[i]!;
        out[j] = l < L - 1 ? Math.tanh(s) : s;
      }
      acts.push(out);
    }
    const z = acts[L]!;
    const top = Math.max(...z);
    const lse = top + Math.log(z.reduce((s, v) => s + Math.exp(v - top), 0));
    let delta = new Float64Array(z.length);
    for (let k = 0; k < z.length; k++) {
      const t = data.targets[n * z.length + k]!;
      if (t > 0) loss -= t * (z[k]! - lse);
      delta[k] = Math.exp(z[k]! - lse) - t;
    }
    for (let l = L - 1; l >= 0; l--) {
      const input = acts[l]!;
      for (let j = 0; j < delta.length; j++) {
        for (let i = 0; i < input.length; i++) grad[offsets[l]! + j * input.length + i]! += delta[j]! * input[i]!;
        if (net.bias[l]) grad[offsets[l]! + delta.length * input.length + j]! += delta[j]!;
      }
      if (l === 0) break;
      const back = new Float64Array(input.length);
      for (let i = 0; i < input.length; i++) {
        let s = 0;
        for (let j = 0; j < delta.length; j++) s += params[offsets[l]! + j * input.length + i]! * delta[j]!;
        back[i] = (1 - input[i]! * input[i]!) * s;
      }
      delta = back;
    }
  }
  return { loss, grad };
}

export interface ReferenceOptions {
  batchSize: number;
  epochs: number;
  optimizer: 'adam' | 'sgd';
  lr: number;
  momentum: number;
  shuffleSeed: number;
  weightDecay: number;
  reduction: 'mean' | 'sum';
}

/** The parameters after the epochs and the full-batch cross-entropy after each epoch. */
export function referenceMinibatch(model: Model, params0: Float64Array, data: Dataset, o: ReferenceOptions): { params: Float64Array; epochLosses: number[] } {
  const net = netOf(model);
  const x = Float64Array.from(params0);
  const P = x.length;
  const m = new Float64Array(P);
  const v = new Float64Array(P);
  const next = splitMix64(o.shuffleSeed);
  const order = Array.from({ length: data.n }, (_, i) => i);
  const all = order.slice();
  const fullScale = o.reduction === 'mean' ? 1 / data.n : 1;
  const epochLosses: number[] = [];
  let t = 0;
  for (let e = 0; e < o.epochs; e++) {
    for (let i = data.n - 1; i > 0; i--) {
      const j = Number(next() % BigInt(i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (let begin = 0; begin < data.n; begin += o.batchSize) {
      const rows = order.slice(begin, Math.min(data.n, begin + o.batchSize));
      const { grad } = lossGrad(net, x, data, rows);
      // An unbiased estimate of the full objective's gradient.
      const factor = (fullScale * data.n) / rows.length;
      for (let i = 0; i < P; i++) grad[i] = factor * grad[i]! + o.weightDecay * x[i]!;
      t++;
      for (let i = 0; i < P; i++) {
        if (o.optimizer === 'sgd') {
          m[i] = o.momentum * m[i]! + grad[i]!;
          x[i] -= o.lr * m[i]!;
        } else {
          m[i] = 0.9 * m[i]! + 0.1 * grad[i]!;
          v[i] = 0.999 * v[i]! + 0.001 * grad[i]! * grad[i]!;
          x[i] -= (o.lr * (m[i]! / (1 - 0.9 ** t))) / (Math.sqrt(v[i]! / (1 - 0.999 ** t)) + 1e-8);
        }
      }
    }
    epochLosses.push(fullScale * lossGrad(net, x, data, all).loss);
  }
  return { params: x, epochLosses };
}
