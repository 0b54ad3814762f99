/**
 * Sharpness along training (train option `track: K`). The kernel's training loop calls an observer
 * after every step (native/kernel/train/train.cpp); every K steps, and at the last step, the tracker
 * (native/kernel/train/track.cpp) computes at the current parameters:
 *  - lambda_max by Lanczos (relative residual 1e-10), warm-started from the previous point's top
 *    Ritz vector plus a 1e-3 random part (so a reordered spectrum is still found);
 *  - tr(H), tr(H^2) and the WS bound (closed form for one hidden layer; deeper: dense traces when
 *    the Hessian fits in 1 GiB, else Hutch++ estimates, flagged `boundEstimated`).
 * The observer only reads, so a tracked run follows exactly the path of an untracked one; its
 * intermediate parameters are those of `train(..., {maxSteps: step})` (both deterministic).
 */
import { fail } from '../errors.js';

export const TRACK_OPTIONS = ['track', 'trackParameters'] as const;

export interface TrackPoint {
  step: number;
  loss: number;
  gradNorm: number;
  lambdaMax: number;
  /** True relative residual ||H y - lambda y|| / |lambda| of the Ritz pair. */
  lambdaMaxResidual: number;
  lanczosConverged: boolean;
  lanczosProducts: number;
  /** WS upper bound on lambda_max, and the lower one. */
  bound: number;
  lowerOfMax: number;
  trace: number;
  traceOfSquare: number;
  /** bound / lambdaMax (null when lambdaMax <= 0). */
  ratio: number | null;
  /** With trackParameters: the flat parameters at this step. */
  parameters?: Float64Array;
}

export interface SharpnessTrack {
  every: number;
  points: TrackPoint[];
  /** How the traces were computed: 'dual' / 'primal' (closed form), 'dense' or 'hutch++'. */
  boundMethod: string;
  boundEstimated: boolean;
  /** Seconds spent tracking (included in the training time). */
  seconds: number;
}

export interface KernelTrack {
  every: number;
  step: number[];
  loss: number[];
  gradNorm: number[];
  lambdaMax: number[];
  lambdaMaxResidual: number[];
  lanczosIterations: number[];
  lanczosProducts: number[];
  lanczosConverged: number[];
  bound: number[];
  lowerOfMax: number[];
  trace: number[];
  traceOfSquare: number[];
  boundMethod: string;
  boundEstimated: boolean;
  parameters?: number[];
  seconds: number;
}

/** The kernel options of `track` and `trackParameters` (none when tracking is off). */
export function trackKernelOptions(options: { track?: number; trackParameters?: boolean }): Record<string, number> {
  const { track, trackParameters } = options;
  if (track === undefined || track === 0) {
    if (trackParameters) fail('BAD_OPTION', 'trackParameters needs track (a number of steps)');
    return {};
  }
  if (typeof track !== 'number' || !Number.isInteger(track) || track < 1 || track > 1_000_000_000)
    fail('BAD_OPTION', `track must be a positive integer number of steps, got ${String(track)}`, 'e.g. track: 10 records lambda_max every 10 steps');
  if (trackParameters !== undefined && typeof trackParameters !== 'boolean') fail('BAD_OPTION', 'trackParameters must be true or false');
  return { track, ...(trackParameters ? { trackParameters: 1 } : {}) };
}

/** The kernel's columns as points; P is the parameter count (to split the recorded parameters). */
export function parseTrack(k: KernelTrack, P: number): SharpnessTrack {
  const points = k.step.map((step, i): TrackPoint => {
    const lambdaMax = k.lambdaMax[i] as number;
    const bound = k.bound[i] as number;
    return {
      step,
      loss: k.loss[i] as number,
      gradNorm: k.gradNorm[i] as number,
      lambdaMax,
      lambdaMaxResidual: k.lambdaMaxResidual[i] as number,
      lanczosConverged: k.lanczosConverged[i] === 1,
      lanczosProducts: k.lanczosProducts[i] as number,
      bound,
      lowerOfMax: k.lowerOfMax[i] as number,
      trace: k.trace[i] as number,
      traceOfSquare: k.traceOfSquare[i] as number,
      ratio: lambdaMax > 0 ? bound / lambdaMax : null,
      ...(k.parameters ? { parameters: Float64Array.from(k.parameters.slice(i * P, (i + 1) * P)) } : {}),
    };
  });
  return { every: k.every, points, boundMethod: k.boundMethod, boundEstimated: k.boundEstimated, seconds: k.seconds };
}

/** One JSON line per tracked point (parameters left out). */
export function trackJsonLines(track: SharpnessTrack): string {
  return track.points.map(({ parameters: _p, ...point }) => `${JSON.stringify({ ...point, boundMethod: track.boundMethod, boundEstimated: track.boundEstimated })}\n`).join('');
}
