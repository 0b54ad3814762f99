/**
 * Norm- and margin-based measures (Jiang et al. 2020, section 5 and appendix C): products of
 * layer norms, the l2 path-norm (Neyshabur et al. 2015), distance from initialisation, the
 * Fisher–Rao norm (Liang et al. 2019) and the 10th-percentile output margin. Weights only for
 * the norm products; biases count in the path-norm, the distance and the Fisher–Rao norm.
 */
import { eigenvalues } from '../../curvature.js';
import { fail } from '../../errors.js';
import { toDatasetInput, toModel, type DataInput, type ModelInput } from '../../inputs.js';
import { flattenParams, negativeSlopeOf, parameterCount, validateModelForData } from '../../model.js';
import type { BackendName } from '../../types.js';
import { activationSlope, forwardPass } from '../forward.js';
import { classOf } from '../split.js';

/** prod_l ||W_l||_F. */
export function frobeniusProduct(modelInput: ModelInput): number {
  return toModel(modelInput).layers.reduce((p, layer) => p * Math.sqrt(layer.weight.reduce((s, w) => s + w * w, 0)), 1);
}

/** prod_l ||W_l||_2 (largest singular value: sqrt of the largest eigenvalue of the smaller Gram matrix). */
export async function spectralProduct(modelInput: ModelInput, options: { backend?: BackendName | 'auto' } = {}): Promise<number> {
  let product = 1;
  for (const { out, in: nIn, weight } of toModel(modelInput).layers) {
    const k = Math.min(out, nIn);
    const gram = new Float64Array(k * k);
    for (let a = 0; a < k; a++)
      for (let b = a; b < k; b++) {
        let s = 0;
        if (out <= nIn) for (let i = 0; i < nIn; i++) s += (weight[a * nIn + i] as number) * (weight[b * nIn + i] as number);
        else for (let j = 0; j < out; j++) s += (weight[j * nIn + a] as number) * (weight[j * nIn + b] as number);
        gram[a * k + b] = gram[b * k + a] = s;
      }
    const { values } = await eigenvalues({ data: gram, rows: k, cols: k }, { which: 'largest', k: 1, backend: options.backend });
    product *= Math.sqrt(Math.max(0, values[0] as number));
  }
  return product;
}

/**
 * l2 path-norm: sqrt of the sum over every input-to-output path (and every path starting at a
 * bias) of the product of its squared weights, i.e. the squared-parameter network with identity
 * activations evaluated at the all-ones input, outputs summed.
 */
export function pathNorm(modelInput: ModelInput): number {
  const model = toModel(modelInput);
  let a = new Float64Array(model.layers[0]?.in ?? 0).fill(1);
  for (const { out, in: nIn, weight, bias } of model.layers) {
    const next = new Float64Array(out);
    for (let j = 0; j < out; j++) {
      let s = bias ? (bias[j] as number) ** 2 : 0;
      for (let i = 0; i < nIn; i++) s += (weight[j * nIn + i] as number) ** 2 * (a[i] as number);
      next[j] = s;
    }
    a = next;
  }
  return Math.sqrt(a.reduce((s, v) => s + v, 0));
}

/** ||theta - theta_0||_2. */
export function distanceFromInit(modelInput: ModelInput, initInput: ModelInput): number {
  const model = toModel(modelInput);
  const init = toModel(initInput);
  if (parameterCount(model) !== parameterCount(init) || model.layers.length !== init.layers.length || model.layers.some((l, i) => l.in !== init.layers[i]?.in || l.out !== init.layers[i]?.out || (l.bias === null) !== (init.layers[i]?.bias === null)))
    fail('SHAPE_MISMATCH', 'the initial model does not have the trained model\'s layers', 'pass the model training started from (same widths and biases)');
  const a = flattenParams(model);
  const b = flattenParams(init);
  return Math.sqrt(a.reduce((s, v, i) => s + (v - (b[i] as number)) ** 2, 0));
}

/**
 * Fisher–Rao norm: mean over training samples of <theta, grad_theta loss_i>^2 (Liang et al. 2019;
 * for bias-free ReLU nets it equals (depth + 1)^2 E <dloss/dlogits, logits>^2, Jiang's form).
 * <theta, grad loss_i> is a directional derivative, computed by forward-mode tangents along theta.
 */
export function fisherRaoNorm(modelInput: ModelInput, dataInput: DataInput): number {
  const model = toModel(modelInput);
  const data = toDatasetInput(dataInput);
  validateModelForData(model, data);
  const { hidden, post, logits } = forwardPass(model, data);
  const n = data.n;
  const slope = negativeSlopeOf(model);
  // Tangent of the layer input; the data do not move.
  let tangentIn = new Float64Array(n * data.d);
  let input = data.x;
  let tangentLogits = new Float64Array(0);
  model.layers.forEach((layer, l) => {
    const { out, in: nIn, weight, bias } = layer;
    const du = new Float64Array(n * out);
    for (let s = 0; s < n; s++)
      for (let j = 0; j < out; j++) {
        // d(W a + b) along (W, b): W a + b + W da
        let v = bias ? (bias[j] as number) : 0;
        for (let i = 0; i < nIn; i++) v += (weight[j * nIn + i] as number) * ((input[s * nIn + i] as number) + (tangentIn[s * nIn + i] as number));
        du[s * out + j] = v;
      }
    if (l === model.layers.length - 1) {
      tangentLogits = du;
      return;
    }
    const u = hidden[l] as Float64Array;
    tangentIn = du.map((v, k) => activationSlope(model.activation, u[k] as number, slope) * v);
    input = post[l] as Float64Array;
  });
  const c = data.classes;
  let total = 0;
  for (let s = 0; s < n; s++) {
    let max = -Infinity;
    for (let k = 0; k < c; k++) max = Math.max(max, logits[s * c + k] as number);
    let sum = 0;
    for (let k = 0; k < c; k++) sum += Math.exp((logits[s * c + k] as number) - max);
    let directional = 0;
    for (let k = 0; k < c; k++) {
      const p = Math.exp((logits[s * c + k] as number) - max) / sum;
      directional += (p - (data.targets[s * c + k] as number)) * (tangentLogits[s * c + k] as number);
    }
    total += directional * directional;
  }
  return total / n;
}

/**
 * The q-th percentile (default 10, linear interpolation between order statistics as numpy's
 * default) over training samples of the margin z_y - max_{k != y} z_k.
 */
export function marginPercentile(modelInput: ModelInput, dataInput: DataInput, q = 10): number {
  if (typeof q !== 'number' || !(q >= 0 && q <= 100)) fail('BAD_OPTION', `the percentile must be in [0, 100], got ${String(q)}`);
  const model = toModel(modelInput);
  const data = toDatasetInput(dataInput);
  validateModelForData(model, data);
  if (data.n === 0) fail('BAD_DATA', 'no samples to take a margin over');
  const { logits } = forwardPass(model, data);
  const cls = classOf(data);
  const c = data.classes;
  const margins = Array.from({ length: data.n }, (_, s) => {
    const y = cls[s] as number;
    let other = -Infinity;
    for (let k = 0; k < c; k++) if (k !== y) other = Math.max(other, logits[s * c + k] as number);
    return (logits[s * c + y] as number) - other;
  }).sort((a, b) => a - b);
  const position = (q / 100) * (margins.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, margins.length - 1);
  return (margins[below] as number) + (position - below) * ((margins[above] as number) - (margins[below] as number));
}
