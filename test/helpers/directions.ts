/**
 * Two seeded directions for a model's Hessian-vector products (a fixed LCG, the same numbers on every
 * backend and in every child process): the thread and SIMD tests compare the products' bits.
 */
import type { Model } from '../../src/types.js';

export function seededDirections(model: Model): Float64Array {
  let P = 0;
  for (const layer of model.layers) P += layer.weight.length + (layer.bias ? layer.bias.length : 0);
  const v = new Float64Array(2 * P);
  let s = 12345;
  for (let i = 0; i < v.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    v[i] = s / 1073741824 - 1;
  }
  return v;
}
