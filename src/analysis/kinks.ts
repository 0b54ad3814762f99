/**
 * Kink diagnostics for piecewise-linear activations (relu, leaky_relu). Their loss is twice
 * differentiable except where a training sample's pre-activation is exactly at a kink (u = 0);
 * elsewhere the Hessian is the almost-everywhere one autograd computes. These numbers say how close
 * the point is to the set where that Hessian stops describing the loss (docs/curvature.md,
 * "Piecewise-linear activations"). Pure.
 */
import { layerSizes, negativeSlopeOf } from '../model.js';
import { KINKED_ACTIVATIONS, type Dataset, type Model } from '../types.js';
import { activationSlope, forwardPass, type ForwardPass } from './forward.js';

/**
 * A (sample, unit) pair is near a kink when |u| <= KINK_DISTANCE * (|b_j| + sum_i |W_ji a_i|): u is
 * within this fraction of the size of the terms it sums (1e-6: a relative perturbation of the weights
 * of that size can move the sample across the kink).
 */
export const KINK_DISTANCE = 1e-6;
/** Flag 'near-kink' when the fraction of near-kink pairs is above this (any pair at all). */
export const NEAR_KINK_FRACTION = 0;

export interface KinkSummary {
  /** Share of (training sample, hidden unit) pairs within KINK_DISTANCE of a kink. */
  nearKinkFraction: number;
  /** Their number. */
  nearKinkPairs: number;
  /** The smallest relative distance |u| / (|b_j| + sum_i |W_ji a_i|) over all pairs (0: on a kink). */
  closestKink: number;
  /** Hidden units with sigma'(u) = 0 on every training sample (relu: u <= 0 on all of them). */
  deadUnits: number;
}

export function isKinked(model: Pick<Model, 'activation'>): boolean {
  return (KINKED_ACTIVATIONS as readonly string[]).includes(model.activation);
}

/** The kink summary of a relu / leaky_relu model on its training data; null for smooth activations. */
export function kinkSummary(model: Model, data: Dataset, forwardGiven?: ForwardPass): KinkSummary | null {
  if (!isKinked(model)) return null;
  const forward = forwardGiven ?? forwardPass(model, data);
  const sizes = layerSizes(model);
  const slope = negativeSlopeOf(model);
  let near = 0;
  let pairs = 0;
  let closest = Infinity;
  let dead = 0;
  forward.hidden.forEach((u, l) => {
    const layer = model.layers[l]!;
    const input = l === 0 ? data.x : forward.post[l - 1]!;
    const width = sizes[l + 1]!;
    const live = new Uint8Array(width);
    for (let s = 0; s < data.n; s++) {
      const a = input.subarray(s * layer.in, (s + 1) * layer.in);
      for (let j = 0; j < width; j++) {
        const value = u[s * width + j]!;
        let scale = layer.bias ? Math.abs(layer.bias[j]!) : 0;
        for (let i = 0; i < layer.in; i++) scale += Math.abs(layer.weight[j * layer.in + i]! * a[i]!);
        // 0 / 0 (all terms zero): the sample sits on the kink.
        const distance = scale > 0 ? Math.abs(value) / scale : 0;
        if (distance <= KINK_DISTANCE) near++;
        if (distance < closest) closest = distance;
        if (activationSlope(model.activation, value, slope) !== 0) live[j] = 1;
        pairs++;
      }
    }
    for (const flag of live) if (!flag) dead++;
  });
  return { nearKinkFraction: pairs ? near / pairs : 0, nearKinkPairs: near, closestKink: closest, deadUnits: dead };
}
