/**
 * Rank correlation of a measure with the generalization gap, as the generalization-measure studies
 * report it (Jiang et al. 2020, section 4): Kendall's tau-b over all networks, Jiang's granulated
 * tau (per hyperparameter axis, the mean tau over groups of networks that differ in that axis
 * alone; then the mean over axes), and percentile bootstrap intervals. Undefined values (fewer
 * than two networks, a constant measure) are null with a reason, never NaN.
 */
import { fail } from '../errors.js';
import { createRng } from '../rng.js';

/**
 * Kendall's tau-b: (concordant - discordant) / sqrt((n0 - ties_x)(n0 - ties_y)), n0 = n(n-1)/2,
 * by pair signs; null when n < 2 or either variable is constant. O(n^2): studies have hundreds of networks.
 */
export function kendallTau(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) fail('SHAPE_MISMATCH', `kendallTau needs two lists of the same length, got ${x.length} and ${y.length}`);
  for (const v of [...x, ...y]) if (!Number.isFinite(v)) fail('NON_FINITE', 'kendallTau got a value that is not a finite number', 'leave out networks whose measure is undefined');
  let sum = 0;
  let pairsX = 0;
  let pairsY = 0;
  for (let i = 0; i < x.length; i++)
    for (let j = i + 1; j < x.length; j++) {
      const sx = Math.sign((x[j] as number) - (x[i] as number));
      const sy = Math.sign((y[j] as number) - (y[i] as number));
      sum += sx * sy;
      pairsX += sx * sx;
      pairsY += sy * sy;
    }
  return pairsX === 0 || pairsY === 0 ? null : sum / Math.sqrt(pairsX * pairsY);
}

export interface Network {
  /** The hyperparameters, one value per axis (as strings or numbers; compared by value). */
  axes: Readonly<Record<string, string | number>>;
  measure: number;
  gap: number;
}

export interface AxisTau {
  axis: string;
  /** Mean tau over the groups with a defined tau; null when none. */
  tau: number | null;
  /** Groups (networks equal in every other axis) with at least two networks and a defined tau. */
  groups: number;
}

export interface GranulatedTau {
  /** Mean over the axes with a defined tau (Jiang's Psi); null when none. */
  tau: number | null;
  perAxis: AxisTau[];
}

export function granulatedTau(networks: readonly Network[], axes: readonly string[]): GranulatedTau {
  if (axes.length === 0) fail('BAD_OPTION', 'granulated tau needs at least one hyperparameter axis');
  const perAxis = axes.map((axis): AxisTau => {
    const groups = new Map<string, Network[]>();
    for (const net of networks) {
      const key = JSON.stringify(axes.filter((a) => a !== axis).map((a) => net.axes[a]));
      groups.set(key, [...(groups.get(key) ?? []), net]);
    }
    const taus = [...groups.values()]
      .map((g) => kendallTau(g.map((n) => n.measure), g.map((n) => n.gap)))
      .filter((t): t is number => t !== null);
    return { axis, tau: taus.length ? mean(taus) : null, groups: taus.length };
  });
  const defined = perAxis.map((a) => a.tau).filter((t): t is number => t !== null);
  return { tau: defined.length ? mean(defined) : null, perAxis };
}

export interface Interval {
  /** The percentile interval of the statistic over bootstrap resamples of the networks. */
  low: number | null;
  high: number | null;
  /** Resamples in which the statistic was defined. */
  resamples: number;
}

/**
 * Percentile bootstrap: resample the networks with replacement (seeded), recompute the statistic,
 * take the (1 - level)/2 and (1 + level)/2 quantiles of the defined values.
 */
export function bootstrapInterval(
  networks: readonly Network[],
  statistic: (sample: readonly Network[]) => number | null,
  options: { resamples?: number; level?: number; seed?: number } = {},
): Interval {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) fail('BAD_OPTION', `resamples must be a positive integer, got ${String(resamples)}`);
  if (!(level > 0 && level < 1)) fail('BAD_OPTION', `level must be in (0, 1), got ${String(level)}`);
  const rng = createRng(options.seed ?? 0);
  const values: number[] = [];
  if (networks.length >= 2)
    for (let r = 0; r < resamples; r++) {
      const sample = networks.map(() => networks[rng.int(networks.length)] as Network);
      const v = statistic(sample);
      if (v !== null) values.push(v);
    }
  if (values.length === 0) return { low: null, high: null, resamples: 0 };
  values.sort((a, b) => a - b);
  return { low: quantile(values, (1 - level) / 2), high: quantile(values, (1 + level) / 2), resamples: values.length };
}

/** Linear interpolation between order statistics (numpy's default) of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return (sorted[below] as number) + (position - below) * ((sorted[above] as number) - (sorted[below] as number));
}

function mean(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}
