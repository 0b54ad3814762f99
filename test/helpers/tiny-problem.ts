/** Random one-hidden-layer problems for closed-form tests (traces and their gradients). */
import type { ProblemSpec } from '../../src/backend/types.js';
import type { Rng } from '../../src/rng.js';
import { ACTIVATIONS, type Activation } from '../../src/types.js';

export interface TinyNet {
  activation: Activation;
  N: number;
  d: number;
  h: number;
  c: number;
  bias1: boolean;
  bias2: boolean;
  soft: boolean;
  sum: boolean;
  /** Weight scale: larger gives sharper curvature and more negative eigenvalues. */
  scale: number;
}

/** A random one-hidden-layer problem with independent bias flags and non-zero biases. */
export function tinyProblem(rng: Rng, net: TinyNet): ProblemSpec {
  const { N, d, h, c } = net;
  const params: number[] = [];
  const push = (count: number, std: number) => {
    for (let i = 0; i < count; i++) params.push(std * rng.normal());
  };
  push(h * d, net.scale / Math.sqrt(d));
  if (net.bias1) push(h, 0.5);
  push(c * h, net.scale / Math.sqrt(h));
  if (net.bias2) push(c, 0.5);
  const x = Float64Array.from({ length: N * d }, () => rng.normal());
  const targets = new Float64Array(N * c);
  for (let n = 0; n < N; n++) {
    if (net.soft) {
      const raw = Array.from({ length: c }, () => rng.next() + 0.05);
      const total = raw.reduce((a, b) => a + b, 0);
      raw.forEach((v, k) => (targets[n * c + k] = v / total));
    } else {
      targets[n * c + rng.int(c)] = 1;
    }
  }
  return {
    sizes: Int32Array.from([d, h, c]),
    hasBias: Uint8Array.from([net.bias1 ? 1 : 0, net.bias2 ? 1 : 0]),
    activation: ACTIVATIONS.indexOf(net.activation),
    leakySlope: net.activation === 'leaky_relu' ? 0.01 : 0,
    params: Float64Array.from(params),
    x,
    targets,
    samples: N,
    reduction: net.sum ? 1 : 0,
  };
}
