/**
 * PAC-Bayes flatness (Jiang et al. 2020, measures "pacbayes.flatness" and "pacbayes.mag.flatness"):
 * the largest noise scale sigma whose expected training-loss increase stays <= `deviation`,
 * found by bracketing and bisection, reported as 1/sigma^2 (larger = sharper).
 * - plain: u ~ N(0, sigma^2 I);
 * - magnitude-aware: u_i ~ N(0, sigma^2 theta_i^2 + floor^2) (Jiang's epsilon, default 1e-3).
 * The expectation is a Monte Carlo mean over fixed draws z_j (common random numbers), so it is a
 * smooth function of sigma and the bisection well defined; z_j from createRng(seed), sample by
 * sample, parameter by parameter.
 */
import { fail } from '../../errors.js';
import { createRng } from '../../rng.js';
import { checkCount, checkFiniteLoss, checkRadius, type Objective } from './objective.js';

export interface PacBayesOptions {
  /** Allowed mean increase of the training loss. Default 0.1. */
  deviation?: number;
  /** Monte Carlo draws. Default 16. */
  samples?: number;
  seed?: number;
  /** Magnitude-aware only: the noise floor. Default 1e-3. */
  floor?: number;
  /** Relative width of the final bracket on sigma. Default 1e-6. */
  tolerance?: number;
}

export interface PacBayesResult {
  kind: 'plain' | 'magnitude';
  /** The largest sigma found with increase <= deviation (the bracket's lower end); null when none. */
  sigma: number | null;
  /** 1 / sigma^2; null when sigma is (null: no noise level met the deviation; Infinity: bracketing found no upper end). */
  flatness: number | null;
  /** The mean increase at sigma. */
  increase: number | null;
  deviation: number;
  samples: number;
  evaluations: number;
  /** Why the measure is undefined, when it is. */
  note?: string;
}

const START = 1e-6;
const MAX_DOUBLINGS = 60;

export async function pacBayesFlatness(objective: Objective, theta: Float64Array, kind: 'plain' | 'magnitude', options: PacBayesOptions = {}): Promise<PacBayesResult> {
  if (kind !== 'plain' && kind !== 'magnitude') fail('BAD_OPTION', `kind must be 'plain' or 'magnitude', got ${String(kind)}`);
  const deviation = checkRadius(options.deviation ?? 0.1, 'deviation');
  const samples = checkCount(options.samples ?? 16, 'samples');
  const floor = kind === 'magnitude' ? (options.floor ?? 1e-3) : 0;
  if (!Number.isFinite(floor) || floor < 0) fail('BAD_OPTION', `floor must be a finite number >= 0, got ${String(floor)}`);
  const tolerance = checkRadius(options.tolerance ?? 1e-6, 'tolerance');
  const rng = createRng(options.seed ?? 0);
  const draws = Array.from({ length: samples }, () => theta.map(() => rng.normal()));
  let evaluations = 0;
  const base = checkFiniteLoss((await objective.lossAndGradient(theta)).loss, 'at the parameters');
  const meanIncrease = async (sigma: number) => {
    let total = 0;
    for (const z of draws) {
      const point = theta.map((x, i) => {
        const sd = kind === 'plain' ? sigma : Math.sqrt(sigma * sigma * x * x + floor * floor);
        return x + sd * (z[i] as number);
      });
      evaluations++;
      const loss = (await objective.lossAndGradient(point)).loss;
      // An overflowing loss under huge noise is "above the deviation", not an error.
      total += Number.isFinite(loss) ? loss - base : Infinity;
    }
    return total / samples;
  };
  const result = (sigma: number | null, increase: number | null, note?: string): PacBayesResult => ({
    kind, sigma, flatness: sigma === null ? null : 1 / (sigma * sigma), increase, deviation, samples, evaluations, ...(note ? { note } : {}),
  });

  let lo = 0;
  let loIncrease = kind === 'magnitude' ? await meanIncrease(0) : 0;
  if (loIncrease > deviation) return result(null, null, `the noise floor alone (${floor}) raises the loss by ${loIncrease.toPrecision(3)} > deviation`);
  let hi = START;
  let hiIncrease = await meanIncrease(hi);
  if (hiIncrease > deviation) {
    // Already too much noise at the start: halve until a level meets the deviation.
    for (let k = 0; ; k++) {
      if (k === MAX_DOUBLINGS) return result(null, null, `even sigma = ${hi.toExponential(2)} raises the loss by more than the deviation`);
      const next = hi / 2;
      const inc = await meanIncrease(next);
      if (inc <= deviation) {
        (lo = next), (loIncrease = inc);
        break;
      }
      hi = next;
    }
  } else {
    for (let k = 0; hiIncrease <= deviation; k++) {
      if (k === MAX_DOUBLINGS) return { ...result(hi, hiIncrease, 'no noise level raised the loss by the deviation'), flatness: 0 };
      (lo = hi), (loIncrease = hiIncrease);
      hi *= 2;
      hiIncrease = await meanIncrease(hi);
    }
  }
  // Now increase(lo) <= deviation < increase(hi), lo > 0.
  while (hi - lo > tolerance * hi) {
    const mid = (lo + hi) / 2;
    const inc = await meanIncrease(mid);
    if (inc <= deviation) (lo = mid), (loIncrease = inc);
    else hi = mid;
  }
  return result(lo, loIncrease);
}
