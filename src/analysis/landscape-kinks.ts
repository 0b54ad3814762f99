/**
 * The landscape view of a relu / leaky_relu net: which grid points lie in another linear region
 * than theta. Between kinks the loss along a line is smooth and the quadratic model from the
 * Hessian is its Taylor expansion; once a (sample, unit) pre-activation changes sign the a.e.
 * Hessian at theta no longer describes the loss there. Counted at the grid's points. Pure.
 */
import { unflattenParams } from '../model.js';
import type { Dataset, Model } from '../types.js';
import { forwardPass } from './forward.js';

/** The activation pattern: one bit per (sample, hidden unit), u > 0. */
function pattern(model: Model, data: Dataset): Uint8Array[] {
  return forwardPass(model, data).hidden.map((u) => Uint8Array.from(u, (v) => (v > 0 ? 1 : 0)));
}

/** Counts the (sample, unit) pairs whose side of the kink differs from theta's, point by point. */
export class KinkCounter {
  private readonly center: Uint8Array[];

  constructor(private readonly model: Model, private readonly data: Dataset) {
    this.center = pattern(model, data);
  }

  /** Pairs on the other side of their kink at these parameters (PyTorch order). */
  changesAt(params: Float64Array): number {
    const here = pattern(unflattenParams(this.model, params), this.data);
    let changed = 0;
    here.forEach((bits, l) => {
      const reference = this.center[l]!;
      for (let i = 0; i < bits.length; i++) if (bits[i] !== reference[i]) changed++;
    });
    return changed;
  }
}

/**
 * The largest grid coordinate r such that no grid point with |a| <= r has changed pairs (0 when the
 * nearest points already have; the radius when none has): how far the line stays in theta's region,
 * to the grid's resolution.
 */
export function smoothRadius(alphas: readonly number[], changes: readonly number[]): number {
  const order = alphas.map((a, i) => [Math.abs(a), changes[i]!] as const).sort((x, y) => x[0] - y[0]);
  let radius = 0;
  for (const [distance, count] of order) {
    if (count > 0) return distance === 0 ? 0 : radius;
    radius = distance;
  }
  return radius;
}
