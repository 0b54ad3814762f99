/**
 * Diagnostics of a trained or analysed point: is it a well-defined point whose Hessian says
 * something about the network, or a degenerate end state (saturated units, collapsed cells, a
 * rank-one Hessian, a loss that keeps falling as the weights grow)? Flags are documented strings
 * (docs/diagnostics.md); a healthy point has none. Pure.
 */
import { flattenParams, negativeSlopeOf } from '../model.js';
import type { Dataset, Model } from '../types.js';
import { activationSlope, forwardPass, type ForwardPass } from './forward.js';
import { isKinked, kinkSummary, NEAR_KINK_FRACTION } from './kinks.js';
import { classOf } from './split.js';

export const DIAGNOSTIC_FLAGS = ['not-converged', 'stalled', 'saturated', 'collapsed-cells', 'rank-one', 'scale-diverging', 'eigensolver-not-converged', 'near-kink', 'dead-units'] as const;
export type DiagnosticFlag = (typeof DIAGNOSTIC_FLAGS)[number];

/** A (sample, unit) pair is saturated when |sigma'(u)| is below this fraction of sigma''s largest value. */
export const SATURATION_SLOPE = 1e-4;
/** Flag 'saturated' when at least this fraction of (sample, hidden unit) pairs is saturated. */
export const SATURATED_FRACTION = 0.5;
/**
 * Flag 'rank-one' when |lambda_2| / lambda_1 (and |lambda_min| / lambda_1, when known) is below this.
 * Never from the traces alone: an indefinite H can have tr(H)^2/tr(H^2) near (or below) 1 at any rank.
 */
export const RANK_ONE_RATIO = 1e-3;
/** Flag 'scale-diverging' when d log F / d log(scale) is below minus this. */
export const SCALE_DIVERGING = 0.05;

export interface Diagnostics {
  /** |theta|_2. */
  parameterNorm: number;
  /** |grad F|_2 / F for the minimised objective F (cross-entropy plus weight decay). */
  gradNormOverLoss: number | null;
  /**
   * theta . grad F / F = d log F(alpha theta) / d alpha at alpha = 1: how fast the objective falls
   * when all weights are scaled up. ~0 at a finite critical point; clearly negative when the loss
   * keeps falling as the weights grow (separable data without weight decay).
   */
  scaleDerivative: number | null;
  /** Fraction of (training sample, hidden unit) pairs with |sigma'(u)| < 1e-4 max sigma'. */
  saturatedFraction: number;
  /** Cells of distinct training samples that share a fully saturated hidden code but not a label. */
  collapsedCells: number;
  /** Training samples in those cells. */
  collapsedSamples: number;
  /** lambda_2 / lambda_1 when the two largest eigenvalues are known (converged; null from Ritz values). */
  lambdaRatio: number | null;
  /**
   * Participation ratio tr(H)^2 / tr(H^2) when the traces are known: 1 for a rank-one H, but for an
   * indefinite H (the usual case) it is no rank measure, so no flag is taken from it.
   */
  effectiveRank: number | null;
  /** relu / leaky_relu (null otherwise): share of (sample, unit) pairs near a kink (kinks.ts). */
  nearKinkFraction: number | null;
  /** relu / leaky_relu (null otherwise): smallest relative distance of a pre-activation to its kink. */
  closestKink: number | null;
  /** relu / leaky_relu (null otherwise): hidden units with sigma' = 0 on every training sample. */
  deadUnits: number | null;
  flags: DiagnosticFlag[];
}

export interface DiagnosticsInput {
  model: Model;
  /** The training data (the Hessian's data). */
  data: Dataset;
  /** Cross-entropy loss and its gradient (flattened parameter order) at the model. */
  loss: number;
  gradient: Float64Array;
  /** The decay the point was trained with (the objective is loss + wd/2 |theta|^2). Default 0. */
  weightDecay?: number;
  /** How training stopped, when the point was trained here. */
  stopReason?: string;
  /** Largest eigenvalues, descending (two or more give lambdaRatio); converged ones only, never Ritz values. */
  topEigenvalues?: readonly number[];
  /** The smallest eigenvalue when it is known (converged): rank one also needs |lambda_min| << lambda_1. */
  lambdaMin?: number | null;
  trace?: number | null;
  traceOfSquare?: number | null;
  /** False when the eigensolver did not converge. */
  eigenConverged?: boolean;
  /** forwardPass(model, data) when the caller has it already (train: the accuracy's pass). */
  forward?: ForwardPass;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** ||theta||: sqrt of the sum of squares, rescaled when that overflows (1e300 weights have a finite norm). */
function scaledNorm(theta: ArrayLike<number>, sumOfSquares: number): number {
  if (Number.isFinite(sumOfSquares)) return Math.sqrt(sumOfSquares);
  let largest = 0;
  for (let i = 0; i < theta.length; i++) largest = Math.max(largest, Math.abs(theta[i] as number));
  if (!Number.isFinite(largest) || largest === 0) return largest;
  let s = 0;
  for (let i = 0; i < theta.length; i++) s += ((theta[i] as number) / largest) ** 2;
  return largest * Math.sqrt(s);
}

export function largestSlope(model: Model): number {
  // sigma' peaks at 0 for sigmoid and tanh; at +infinity (1) for softplus; ~1.1 for gelu and silu.
  switch (model.activation) {
    case 'sigmoid': return 0.25;
    case 'gelu': return 1.1289;
    case 'silu': return 1.0998;
    default: return 1;
  }
}

/**
 * |sigma'(u)| of every hidden unit of layer l: GELU and SiLU have a negative slope below their
 * minimum (u < -0.75 and u < -1.28), which is curvature, not flatness. tanh and the logistic
 * sigmoid (slopes >= 0) take it from the activation a = sigma(u) the forward pass has already
 * computed (1 - a^2, a (1 - a)): the same bits as activationSlope(u), without a second Math.tanh or
 * exp per unit (V8's are ~60 ns each).
 */
function slopes(model: Model, forward: ForwardPass, l: number): Float64Array {
  const a = forward.post[l] as Float64Array;
  switch (model.activation) {
    case 'tanh': return a.map((t) => 1 - t * t);
    case 'sigmoid': return a.map((s) => s * (1 - s));
    default: {
      const slope = negativeSlopeOf(model);
      return (forward.hidden[l] as Float64Array).map((u) => Math.abs(activationSlope(model.activation, u, slope)));
    }
  }
}

/** Saturation fraction and collapsed cells from the hidden pre-activations. */
function saturation(model: Model, data: Dataset, forwardGiven?: ForwardPass): { fraction: number; cells: number; samples: number } {
  if (model.activation === 'identity') return { fraction: 0, cells: 0, samples: 0 };
  const forward = forwardGiven ?? forwardPass(model, data);
  const { hidden } = forward;
  const slope = hidden.map((_, l) => slopes(model, forward, l));
  const limit = SATURATION_SLOPE * largestSlope(model);
  const labels = classOf(data);
  let saturated = 0;
  let pairs = 0;
  // A sample's code: the sign pattern of the first hidden layer at which all its units saturate.
  // Two distinct samples with the same code have the same output, so they cannot be told apart.
  const cells = new Map<string, { labels: Set<number>; inputs: Set<string>; samples: number }>();
  for (let s = 0; s < data.n; s++) {
    let code: string | null = null;
    hidden.forEach((u, l) => {
      const width = u.length / data.n;
      const g = slope[l] as Float64Array;
      let all = true;
      for (let j = 0; j < width; j++) {
        pairs++;
        if ((g[s * width + j] as number) < limit) saturated++;
        else all = false;
      }
      if (all && code === null) {
        let signs = '';
        for (let j = 0; j < width; j++) signs += (u[s * width + j] as number) > 0 ? '+' : '-';
        code = `${l}:${signs}`;
      }
    });
    if (code === null) continue;
    const cell = cells.get(code) ?? { labels: new Set<number>(), inputs: new Set<string>(), samples: 0 };
    cell.labels.add(labels[s] as number);
    cell.inputs.add(Array.from(data.x.subarray(s * data.d, (s + 1) * data.d)).join(','));
    cell.samples++;
    cells.set(code, cell);
  }
  let collapsed = 0;
  let inCells = 0;
  for (const cell of cells.values())
    if (cell.labels.size > 1 && cell.inputs.size > 1) {
      collapsed++;
      inCells += cell.samples;
    }
  return { fraction: pairs ? saturated / pairs : 0, cells: collapsed, samples: inCells };
}

/**
 * The numbers the diagnostics are made of, measured at the point: by measurePoint below (the
 * TypeScript reference, from a loss, its gradient and a forward pass), or by the kernel's
 * "diagnose" command (native/kernel/analysis/point_diagnostics.cpp), which analyze() and wsBound() use.
 */
export interface PointMeasures {
  /** The minimised objective F = loss + wd/2 |theta|^2. */
  objective: number;
  parameterNorm: number;
  /** |grad F|_2. */
  gradNorm: number;
  /** theta . grad F. */
  thetaDotGrad: number;
  saturatedFraction: number;
  collapsedCells: number;
  collapsedSamples: number;
  /** relu / leaky_relu: the kink summary (kinks.ts); null for smooth activations. */
  kinks: ReturnType<typeof kinkSummary>;
}

export function measurePoint(input: DiagnosticsInput): PointMeasures {
  const { model, data, loss, gradient } = input;
  const wd = input.weightDecay ?? 0;
  const theta = flattenParams(model);
  const norm2 = dot(theta, theta);
  // The minimised objective F and its gradient.
  const gradF = wd === 0 ? gradient : gradient.map((g, i) => g + wd * (theta[i] as number));
  const forward = input.forward ?? forwardPass(model, data);
  const sat = saturation(model, data, forward);
  return {
    objective: loss + 0.5 * wd * norm2,
    parameterNorm: scaledNorm(theta, norm2),
    gradNorm: Math.sqrt(dot(gradF, gradF)),
    thetaDotGrad: dot(theta, gradF),
    saturatedFraction: sat.fraction,
    collapsedCells: sat.cells,
    collapsedSamples: sat.samples,
    kinks: kinkSummary(model, data, forward),
  };
}

/** What the diagnostics need besides the point's measures. */
export type DiagnosticsContext = Pick<DiagnosticsInput, 'model' | 'stopReason' | 'topEigenvalues' | 'lambdaMin' | 'trace' | 'traceOfSquare' | 'eigenConverged'>;

export function computeDiagnostics(input: DiagnosticsInput): Diagnostics {
  return diagnosticsFromMeasures(measurePoint(input), input);
}

export function diagnosticsFromMeasures(m: PointMeasures, input: DiagnosticsContext): Diagnostics {
  const { objective, kinks } = m;
  const { model } = input;
  const gradNormOverLoss = objective > 0 ? m.gradNorm / objective : null;
  const scaleDerivative = objective > 0 ? m.thetaDotGrad / objective : null;
  const sat = { fraction: m.saturatedFraction, cells: m.collapsedCells, samples: m.collapsedSamples };
  const top = input.topEigenvalues ?? [];
  const l1 = top[0];
  const l2 = top[1];
  const lambdaRatio = l1 !== undefined && l2 !== undefined && l1 > 0 ? l2 / l1 : null;
  const t = input.trace ?? null;
  const t2 = input.traceOfSquare ?? null;
  const effectiveRank = t !== null && t2 !== null && t2 > 0 ? (t * t) / t2 : null;

  const flags: DiagnosticFlag[] = [];
  if (input.stopReason === 'maxSteps') flags.push('not-converged');
  if (input.stopReason === 'stalled') flags.push('stalled');
  // relu: about half the pairs are off at a healthy point; 'dead-units' is its saturation flag.
  if (sat.fraction >= SATURATED_FRACTION && !isKinked(model)) flags.push('saturated');
  if (sat.cells > 0) flags.push('collapsed-cells');
  const lMin = input.lambdaMin ?? null;
  if (lambdaRatio !== null && Math.abs(lambdaRatio) < RANK_ONE_RATIO && (lMin === null || Math.abs(lMin) < RANK_ONE_RATIO * (l1 as number))) flags.push('rank-one');
  if (scaleDerivative !== null && scaleDerivative < -SCALE_DIVERGING) flags.push('scale-diverging');
  if (input.eigenConverged === false) flags.push('eigensolver-not-converged');
  if (kinks && kinks.nearKinkFraction > NEAR_KINK_FRACTION) flags.push('near-kink');
  if (kinks && kinks.deadUnits > 0) flags.push('dead-units');
  return {
    parameterNorm: m.parameterNorm,
    gradNormOverLoss,
    scaleDerivative,
    saturatedFraction: sat.fraction,
    collapsedCells: sat.cells,
    collapsedSamples: sat.samples,
    lambdaRatio,
    effectiveRank,
    nearKinkFraction: kinks?.nearKinkFraction ?? null,
    closestKink: kinks?.closestKink ?? null,
    deadUnits: kinks?.deadUnits ?? null,
    flags,
  };
}
