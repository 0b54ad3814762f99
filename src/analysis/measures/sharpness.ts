/**
 * Sharpness measures: the loss increase under a worst-case or random parameter perturbation.
 * - epsSharpness (Keskar et al. 2017): max over the box |delta_i| <= eps (|theta_i| + 1), by
 *   projected sign-gradient ascent, relative to 1 + L.
 * - adaptiveSharpness (Kwon et al. 2021; Andriushchenko et al. 2023): max over
 *   ||delta / |theta| ||_p <= rho, p = 2 or Infinity, by projected gradient ascent.
 * - averageAdaptiveSharpness: E over delta ~ N(0, rho^2 diag(theta^2)), Monte Carlo with its standard error.
 * Ascent finds a lower bound on the maximum (the best point seen); docs/measures.md.
 */
import { fail } from '../../errors.js';
import { createRng } from '../../rng.js';
import { checkCount, checkFiniteLoss, checkRadius, type Objective } from './objective.js';

export interface AscentOptions {
  /** Gradient-ascent steps after the first (linearised) step. Default 20. */
  steps?: number;
  /** Additional starts from a seeded random point of the set (the gradient may vanish at theta). Default 1. */
  restarts?: number;
  /** Step length as a fraction of the radius. Default 0.25. */
  stepFraction?: number;
  seed?: number;
}

export interface AscentResult {
  /** L(theta + delta) - L(theta) at the best point found (a lower bound on the maximum). */
  increase: number;
  loss: number;
  perturbedLoss: number;
  delta: Float64Array;
  /** Loss evaluations spent. */
  evaluations: number;
}

/** The set the perturbation lives in, in coordinates u (delta = scale * u). */
interface Ball {
  scale: Float64Array;
  /** The maximiser of a linear function g.u over the set. */
  linearMax(g: Float64Array): Float64Array;
  /** u + t * (the set's steepest-ascent direction for g), projected back onto the set. */
  step(u: Float64Array, g: Float64Array, t: number): Float64Array;
  random(rng: ReturnType<typeof createRng>): Float64Array;
}

function boxBall(scale: Float64Array, radius: number): Ball {
  const clip = (v: number) => Math.max(-radius, Math.min(radius, v));
  return {
    scale,
    linearMax: (g) => g.map((gi) => radius * Math.sign(gi)),
    step: (u, g, t) => u.map((ui, i) => clip(ui + t * radius * Math.sign(g[i] as number))),
    random: (rng) => scale.map(() => radius * (2 * rng.next() - 1)),
  };
}

function l2Ball(scale: Float64Array, radius: number): Ball {
  const norm = (v: Float64Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const project = (v: Float64Array) => {
    const n = norm(v);
    return n > radius ? v.map((x) => (x * radius) / n) : v;
  };
  return {
    scale,
    linearMax: (g) => {
      const n = norm(g);
      return n > 0 ? g.map((x) => (x * radius) / n) : new Float64Array(g.length);
    },
    step: (u, g, t) => {
      const n = norm(g);
      return n > 0 ? project(u.map((ui, i) => ui + (t * radius * (g[i] as number)) / n)) : u;
    },
    random: (rng) => {
      const v = scale.map(() => rng.normal());
      const n = norm(v);
      return v.map((x) => (x * radius) / n);
    },
  };
}

async function ascend(objective: Objective, theta: Float64Array, ball: Ball, options: AscentOptions): Promise<AscentResult> {
  const steps = checkCount(options.steps ?? 20, 'steps', 0);
  const restarts = checkCount(options.restarts ?? 1, 'restarts', 0);
  const t = options.stepFraction ?? 0.25;
  if (!Number.isFinite(t) || t <= 0) fail('BAD_OPTION', `stepFraction must be a finite number > 0, got ${String(t)}`);
  const rng = createRng(options.seed ?? 0);
  const at = (u: Float64Array) => theta.map((x, i) => x + (ball.scale[i] as number) * (u[i] as number));
  let evaluations = 0;
  const evaluate = async (u: Float64Array) => {
    evaluations++;
    const r = await objective.lossAndGradient(at(u));
    // d/du L(theta + scale * u) = scale * g
    return { loss: checkFiniteLoss(r.loss, 'under the perturbation'), g: r.gradient.map((gi, i) => gi * (ball.scale[i] as number)) };
  };
  const origin = await evaluate(new Float64Array(theta.length));
  let best: { loss: number; u: Float64Array } = { loss: origin.loss, u: new Float64Array(theta.length) };
  const starts = [ball.linearMax(origin.g)];
  for (let r = 0; r < restarts; r++) starts.push(ball.random(rng));
  for (const start of starts) {
    let u = start;
    for (let k = 0; ; k++) {
      const here = await evaluate(u);
      if (here.loss > best.loss) best = { loss: here.loss, u };
      if (k === steps) break;
      u = ball.step(u, here.g, t);
    }
  }
  return { increase: best.loss - origin.loss, loss: origin.loss, perturbedLoss: best.loss, delta: at(best.u).map((x, i) => x - (theta[i] as number)), evaluations };
}

export interface EpsSharpnessResult extends AscentResult {
  epsilon: number;
  /** (max L(theta + delta) - L(theta)) / (1 + L(theta)); Keskar et al. report 100 x this. */
  sharpness: number;
}

export async function epsSharpness(objective: Objective, theta: Float64Array, epsilon: number, options: AscentOptions = {}): Promise<EpsSharpnessResult> {
  checkRadius(epsilon, 'epsilon');
  const r = await ascend(objective, theta, boxBall(theta.map((x) => Math.abs(x) + 1), epsilon), options);
  return { ...r, epsilon, sharpness: r.increase / (1 + r.loss) };
}

export type SharpnessNorm = 2 | 'inf';

export interface AdaptiveSharpnessResult extends AscentResult {
  rho: number;
  p: SharpnessNorm;
}

export async function adaptiveSharpness(objective: Objective, theta: Float64Array, rho: number, p: SharpnessNorm, options: AscentOptions = {}): Promise<AdaptiveSharpnessResult> {
  checkRadius(rho, 'rho');
  const scale = theta.map((x) => Math.abs(x));
  const ball = p === 2 ? l2Ball(scale, rho) : p === 'inf' ? boxBall(scale, rho) : fail('BAD_OPTION', `p must be 2 or 'inf', got ${String(p)}`);
  return { ...(await ascend(objective, theta, ball, options)), rho, p };
}

export interface AverageSharpnessResult {
  rho: number;
  /** Mean of L(theta + delta) - L(theta) over the samples. */
  increase: number;
  /** Its Monte Carlo standard error (sample sd / sqrt(samples)). */
  standardError: number;
  samples: number;
  loss: number;
}

/**
 * delta_j = rho * |theta| * z_j with z_j ~ N(0, I) drawn from createRng(seed), sample by sample,
 * parameter by parameter (so a caller can reproduce the draws).
 */
export async function averageAdaptiveSharpness(objective: Objective, theta: Float64Array, rho: number, options: { samples?: number; seed?: number } = {}): Promise<AverageSharpnessResult> {
  checkRadius(rho, 'rho');
  const samples = checkCount(options.samples ?? 64, 'samples', 2);
  const rng = createRng(options.seed ?? 0);
  const loss = checkFiniteLoss((await objective.lossAndGradient(theta)).loss, 'at the parameters');
  const increases: number[] = [];
  for (let j = 0; j < samples; j++) {
    const point = theta.map((x) => x + rho * Math.abs(x) * rng.normal());
    increases.push(checkFiniteLoss((await objective.lossAndGradient(point)).loss, 'under the noise') - loss);
  }
  const { mean, standardError } = meanAndError(increases);
  return { rho, increase: mean, standardError, samples, loss };
}

export function meanAndError(values: readonly number[]): { mean: number; standardError: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { mean, standardError: Math.sqrt(variance / n) };
}
