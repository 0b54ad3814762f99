/**
 * The sharpness-versus-generalization study (issue 24; Jiang et al. 2020's protocol): train every
 * network of a hyperparameter grid to the same training cross-entropy, leave out (and count) those
 * that did not reach it, measure the rest, and rank-correlate every measure with the gap.
 */
import { throwIfAborted } from '../backend/cancel.js';
import { getBackend } from '../backend/select.js';
import { fail } from '../errors.js';
import { toDatasetInput, type DataInput } from '../inputs.js';
import { randomModel } from '../model.js';
import { stratifiedSplit } from '../analysis/split.js';
import { bootstrapInterval, granulatedTau, kendallTau, type AxisTau, type Interval, type Network } from '../analysis/rank-correlation.js';
import { train, type MinibatchOptimizer, type StopReason } from '../train.js';
import type { Activation, BackendName, Dataset } from '../types.js';
import { corruptLabels } from './label-noise.js';
import { MEASURES, parseMeasures } from './measure-registry.js';

export interface StudyGrid {
  /** Hidden widths (every hidden layer this wide). */
  widths: number[];
  /** Hidden layers. Default [1]. */
  depths?: number[];
  /** Initialisation, label-noise and shuffle seeds. */
  seeds: number[];
  weightDecays?: number[];
  /** Fractions of training labels corrupted (seeded by the network's seed). Default [0]. */
  labelNoise?: number[];
}

export interface StudyOptions {
  grid: StudyGrid;
  /** Train every network until the training cross-entropy is <= this (required, > 0). */
  targetLoss: number;
  /** 'all' (default) or a list of names (MEASURE_NAMES). */
  measures?: string | readonly string[];
  activation?: Activation;
  /** Held-out fraction (stratified, splitSeed); default 0.3. */
  testFraction?: number;
  splitSeed?: number;
  /** Training budget per network (full-batch Adam then L-BFGS, or mini-batch with batchSize). */
  maxSteps?: number;
  batchSize?: number;
  epochs?: number;
  optimizer?: MinibatchOptimizer;
  lr?: number;
  /** Bootstrap resamples of the intervals. Default 200. */
  resamples?: number;
  backend?: BackendName | 'auto';
  signal?: AbortSignal;
  /** After each network: how many are done of how many. */
  onNetwork?: (done: number, total: number, network: StudyNetwork) => void;
}

export interface StudyNetwork {
  axes: { width: number; depth: number; seed: number; weightDecay: number; labelNoise: number };
  stopReason: StopReason;
  /** The training cross-entropy reached target: the network counts in the statistics. */
  reached: boolean;
  trainLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** trainAccuracy - testAccuracy (on the labels trained on, noisy ones included). */
  gap: number;
  /** Every asked-for measure (null: undefined for this network, or not computed because the target was missed). */
  measures: Record<string, number | null>;
  seconds: number;
}

export interface MeasureStatistics {
  measure: string;
  /** Networks in the statistic: reached the target and the measure is defined. */
  networks: number;
  tau: number | null;
  tauInterval: Interval;
  granulated: number | null;
  granulatedInterval: Interval;
  perAxis: AxisTau[];
}

export interface StudyResult {
  protocol: { targetLoss: number; testFraction: number; splitSeed: number; activation: Activation; measures: string[]; axes: string[]; resamples: number; backend: BackendName; trainSamples: number; testSamples: number };
  networks: StudyNetwork[];
  /** Networks that reached the target loss, and those left out of the statistics. */
  reached: number;
  excluded: number;
  statistics: MeasureStatistics[];
  /** Why the statistics are empty, when they are. */
  note?: string;
}

function axisValues(name: string, values: readonly number[] | undefined, fallback: number[]): number[] {
  const v = values ?? fallback;
  if (!Array.isArray(v) || v.length === 0) fail('BAD_OPTION', `the study grid's ${name} list is empty`, `give at least one ${name} value`);
  for (const x of v) if (typeof x !== 'number' || !Number.isFinite(x)) fail('BAD_OPTION', `the study grid's ${name} holds ${String(x)}, not a number`);
  return [...v];
}

export async function study(dataInput: DataInput, options: StudyOptions): Promise<StudyResult> {
  const g = options.grid ?? fail('BAD_OPTION', 'study needs a grid', 'e.g. grid: { widths: [4, 8], seeds: [0, 1] }');
  const widths = axisValues('widths', g.widths, []);
  const depths = axisValues('depths', g.depths, [1]);
  const seeds = axisValues('seeds', g.seeds, []);
  const weightDecays = axisValues('weightDecays', g.weightDecays, [0]);
  const labelNoise = axisValues('labelNoise', g.labelNoise, [0]);
  const targetLoss = options.targetLoss;
  if (typeof targetLoss !== 'number' || !Number.isFinite(targetLoss) || targetLoss <= 0)
    fail('BAD_OPTION', `targetLoss must be a finite number > 0, got ${String(targetLoss)}`, 'e.g. targetLoss 0.01 (the protocol trains every network to the same training cross-entropy)');
  const measures = parseMeasures(options.measures ?? 'all');
  const data = toDatasetInput(dataInput);
  const testFraction = options.testFraction ?? 0.3;
  const splitSeed = options.splitSeed ?? 0;
  const split = stratifiedSplit(data, testFraction, splitSeed);
  const backend = (await getBackend(options.backend)).name;
  const activation = options.activation ?? 'tanh';
  const resamples = options.resamples ?? 200;

  const points: StudyNetwork['axes'][] = [];
  for (const width of widths) for (const depth of depths) for (const seed of seeds) for (const weightDecay of weightDecays) for (const noise of labelNoise)
    points.push({ width, depth, seed, weightDecay, labelNoise: noise });

  const networks: StudyNetwork[] = [];
  for (const axes of points) {
    throwIfAborted(options.signal);
    networks.push(await trainAndMeasure(axes, split.train, split.test, data, measures, { ...options, backend, activation, targetLoss }));
    options.onNetwork?.(networks.length, points.length, networks.at(-1) as StudyNetwork);
  }

  const axisNames = (['width', 'depth', 'seed', 'weightDecay', 'labelNoise'] as const).filter((a) => new Set(points.map((p) => p[a])).size > 1);
  const reachedNets = networks.filter((n) => n.reached);
  const statistics = measures.map((measure): MeasureStatistics => {
    const nets: Network[] = reachedNets
      .filter((n) => n.measures[measure] !== null && Number.isFinite(n.measures[measure]))
      .map((n) => ({ axes: n.axes, measure: n.measures[measure] as number, gap: n.gap }));
    const tauOf = (s: readonly Network[]) => kendallTau(s.map((n) => n.measure), s.map((n) => n.gap));
    const granOf = (s: readonly Network[]) => (axisNames.length ? granulatedTau(s, axisNames).tau : null);
    const granulated = axisNames.length ? granulatedTau(nets, axisNames) : { tau: null, perAxis: [] };
    return {
      measure,
      networks: nets.length,
      tau: tauOf(nets),
      tauInterval: bootstrapInterval(nets, tauOf, { resamples, seed: 1 }),
      granulated: granulated.tau,
      granulatedInterval: bootstrapInterval(nets, granOf, { resamples, seed: 2 }),
      perAxis: granulated.perAxis,
    };
  });
  const note = reachedNets.length === 0 ? `no network reached the target training loss ${targetLoss}: no statistics (raise maxSteps or the target)`
    : reachedNets.length < 2 ? `only ${reachedNets.length} network reached the target training loss: no rank correlation` : undefined;
  return {
    protocol: { targetLoss, testFraction, splitSeed, activation, measures, axes: axisNames, resamples, backend, trainSamples: split.train.n, testSamples: split.test.n },
    networks,
    reached: reachedNets.length,
    excluded: networks.length - reachedNets.length,
    statistics,
    ...(note ? { note } : {}),
  };
}

async function trainAndMeasure(
  axes: StudyNetwork['axes'],
  trainData: Dataset,
  testData: Dataset,
  all: Dataset,
  measures: string[],
  o: StudyOptions & { backend: BackendName; activation: Activation; targetLoss: number },
): Promise<StudyNetwork> {
  const started = performance.now();
  const init = randomModel({ inputs: all.d, hidden: Array.from({ length: axes.depth }, () => axes.width), classes: all.classes, activation: o.activation, seed: axes.seed });
  const noisy = corruptLabels(trainData, axes.labelNoise, axes.seed).data;
  const r = await train(init, noisy, {
    backend: o.backend,
    targetLoss: o.targetLoss,
    weightDecay: axes.weightDecay,
    testData,
    ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
    ...(o.lr !== undefined ? { lr: o.lr } : {}),
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize, shuffleSeed: axes.seed } : {}),
    ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(o.optimizer !== undefined ? { optimizer: o.optimizer } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const reached = r.loss <= o.targetLoss;
  const values: Record<string, number | null> = {};
  const ctx = { model: r.model, init, data: noisy, backend: o.backend, seed: axes.seed, cache: new Map<string, unknown>(), ...(o.signal ? { signal: o.signal } : {}) };
  for (const m of measures) values[m] = reached ? await (MEASURES[m] as (c: typeof ctx) => Promise<number | null>)(ctx) : null;
  return {
    axes,
    stopReason: r.stopReason,
    reached,
    trainLoss: r.loss,
    trainAccuracy: r.trainAccuracy,
    testAccuracy: r.testAccuracy as number,
    gap: r.gap as number,
    measures: values,
    seconds: (performance.now() - started) / 1000,
  };
}
