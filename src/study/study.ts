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
import { parseActivation } from '../model.js';
import { formatDatasetId, loadDatasetById, parseDatasetId } from '../sweep/dataset-id.js';
import { TRAIN_DEFAULTS, train, type MinibatchOptimizer, type StopReason } from '../train.js';
import type { Activation, BackendName, Dataset } from '../types.js';
import { corruptLabels } from './label-noise.js';
import { measureFunction, parseMeasures } from './measure-registry.js';
import { subsampleTraining } from './subsample.js';

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
  /** Learning rates (Adam's step, or SGD's). Default [options.lr], else train()'s default. */
  lrs?: number[];
  /** Mini-batch sizes; 0 is full-batch training (Adam then L-BFGS). Default [options.batchSize ?? 0]. */
  batchSizes?: number[];
  /** Hidden activations. Default [options.activation ?? 'tanh']. */
  activations?: Activation[];
  /** Training-set sizes: the first n of one seeded shuffle (splitSeed) of the training split. Default: the whole split. */
  trainSizes?: number[];
  /**
   * Pairwise input cosines of synthetic data: the data must then be a synthetic id
   * ('synthetic:n=300,d=32,classes=3', rho may be left out), one data set per rho (as sweep --rhos).
   */
  rhos?: number[];
}

export interface StudyOptions {
  grid: StudyGrid;
  /** Train every network until the training cross-entropy is <= this (required, > 0). */
  targetLoss: number;
  /** 'all' (default) or a list of names (MEASURE_NAMES; NAME@rho=X for the adaptive measures). */
  measures?: string | readonly string[];
  /** The rho grid of the adaptive measures: each bare adaptive measure becomes one column per rho (NAME@rho=X). */
  sharpnessRhos?: number[];
  /** The activation when grid.activations is not given. */
  activation?: Activation;
  /** Held-out fraction (stratified, splitSeed); default 0.3. */
  testFraction?: number;
  splitSeed?: number;
  /** Training budget per network (full-batch Adam then L-BFGS, or mini-batch with batchSize). */
  maxSteps?: number;
  /** The batch size when grid.batchSizes is not given. */
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

export interface StudyAxes {
  width: number;
  depth: number;
  seed: number;
  weightDecay: number;
  labelNoise: number;
  lr: number;
  /** 0: full batch. */
  batchSize: number;
  activation: Activation;
  /** Training samples the network was trained on. */
  trainSize: number;
  /** Pairwise input cosine of synthetic data; null for other data. */
  rho: number | null;
}

/** Every axis of the grid, in the order of the CSV columns and the report. */
export const STUDY_AXES = ['width', 'depth', 'seed', 'weightDecay', 'labelNoise', 'lr', 'batchSize', 'activation', 'trainSize', 'rho'] as const satisfies ReadonlyArray<keyof StudyAxes>;

export interface StudyNetwork {
  axes: StudyAxes;
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
  protocol: {
    targetLoss: number; testFraction: number; splitSeed: number; measures: string[];
    /** The axes that vary (those of granulated tau). */
    axes: string[];
    resamples: number; backend: BackendName;
    /** The training split (before any subsample) and the test split, per data set (the same sizes at every rho). */
    trainSamples: number; testSamples: number;
    /** The data: a data set id when given as one, else 'in-memory'. */
    data: string;
  };
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

function positiveList(name: string, values: readonly number[], integer: boolean, allowZero = false): number[] {
  for (const v of values)
    if ((integer && !Number.isSafeInteger(v)) || v < 0 || (!allowZero && v === 0))
      fail('BAD_OPTION', `the study grid's ${name} holds ${v}, not a ${integer ? 'whole number' : 'number'} ${allowZero ? '>= 0' : '> 0'}`);
  return [...values];
}

/** One data set per rho (synthetic ids), or the data as given. */
function dataSets(dataInput: DataInput | string, rhos: readonly number[] | undefined): { id: string; rho: number | null; data: Dataset }[] {
  if (typeof dataInput !== 'string') {
    if (rhos !== undefined) fail('BAD_OPTION', 'a rho grid needs synthetic data given by its id', "e.g. study('synthetic:n=300,d=32,classes=3', { grid: { rhos: [0, 0.5], ... } })");
    return [{ id: 'in-memory', rho: null, data: toDatasetInput(dataInput) }];
  }
  const text = rhos !== undefined && /^\s*synthetic:/i.test(dataInput) && !/[:,]\s*rho=/.test(dataInput) ? `${dataInput},rho=0` : dataInput;
  const id = parseDatasetId(text);
  if (rhos === undefined) return [{ id: formatDatasetId(id), rho: id.kind === 'synthetic' ? id.options.rho : null, data: loadDatasetById(text) }];
  if (id.kind !== 'synthetic') fail('BAD_OPTION', `rhos apply to synthetic data sets only, not to '${dataInput}'`, 'e.g. synthetic:n=300,d=32,classes=3 with rhos [0, 0.5]');
  return rhos.map((rho) => {
    const one = formatDatasetId({ kind: 'synthetic', options: { ...id.options, rho } });
    return { id: one, rho, data: loadDatasetById(one) };
  });
}

export async function study(dataInput: DataInput | string, options: StudyOptions): Promise<StudyResult> {
  const g = options.grid ?? fail('BAD_OPTION', 'study needs a grid', 'e.g. grid: { widths: [4, 8], seeds: [0, 1] }');
  const widths = positiveList('widths', axisValues('widths', g.widths, []), true);
  const depths = positiveList('depths', axisValues('depths', g.depths, [1]), true);
  const seeds = positiveList('seeds', axisValues('seeds', g.seeds, []), true, true);
  const weightDecays = positiveList('weightDecays', axisValues('weightDecays', g.weightDecays, [0]), false, true);
  const labelNoise = axisValues('labelNoise', g.labelNoise, [0]);
  const lrs = positiveList('lrs', axisValues('lrs', g.lrs, [options.lr ?? TRAIN_DEFAULTS.lr]), false);
  const batchSizes = positiveList('batchSizes', axisValues('batchSizes', g.batchSizes, [options.batchSize ?? 0]), true, true);
  if (g.activations !== undefined && (!Array.isArray(g.activations) || g.activations.length === 0)) fail('BAD_OPTION', "the study grid's activations list is empty", 'give at least one activation, e.g. tanh');
  const activations = (g.activations ?? [options.activation ?? 'tanh']).map(parseActivation);
  const rhos = g.rhos === undefined ? undefined : axisValues('rhos', g.rhos, []);
  const targetLoss = options.targetLoss;
  if (typeof targetLoss !== 'number' || !Number.isFinite(targetLoss) || targetLoss <= 0)
    fail('BAD_OPTION', `targetLoss must be a finite number > 0, got ${String(targetLoss)}`, 'e.g. targetLoss 0.01 (the protocol trains every network to the same training cross-entropy)');
  const measures = parseMeasures(options.measures ?? 'all', options.sharpnessRhos);
  const testFraction = options.testFraction ?? 0.3;
  const splitSeed = options.splitSeed ?? 0;
  const sets = dataSets(dataInput, rhos).map((s) => ({ ...s, split: stratifiedSplit(s.data, testFraction, splitSeed) }));
  const splitTrain = (sets[0] as (typeof sets)[number]).split.train.n;
  const trainSizes = positiveList('trainSizes', axisValues('trainSizes', g.trainSizes, [splitTrain]), true);
  for (const b of batchSizes)
    if (b > Math.min(...trainSizes)) fail('BAD_OPTION', `batch size ${b} is larger than the smallest training set (${Math.min(...trainSizes)} samples)`, 'use smaller batch sizes, or 0 for full-batch training');
  const backend = (await getBackend(options.backend)).name;
  const resamples = options.resamples ?? 200;

  const points: { axes: StudyAxes; set: (typeof sets)[number] }[] = [];
  for (const set of sets) for (const trainSize of trainSizes) for (const activation of activations) for (const width of widths) for (const depth of depths)
    for (const lr of lrs) for (const batchSize of batchSizes) for (const weightDecay of weightDecays) for (const noise of labelNoise) for (const seed of seeds)
      points.push({ axes: { width, depth, seed, weightDecay, labelNoise: noise, lr, batchSize, activation, trainSize, rho: set.rho }, set });

  const networks: StudyNetwork[] = [];
  for (const { axes, set } of points) {
    throwIfAborted(options.signal);
    // Nested subsets (one shuffle by splitSeed), the same for every network seed.
    const trainPart = subsampleTraining(set.split.train, axes.trainSize, splitSeed);
    networks.push(await trainAndMeasure(axes, trainPart, set.split.test, measures, { ...options, backend, targetLoss }));
    options.onNetwork?.(networks.length, points.length, networks.at(-1) as StudyNetwork);
  }

  const axisNames = STUDY_AXES.filter((a) => new Set(points.map((p) => p.axes[a])).size > 1);
  const reachedNets = networks.filter((n) => n.reached);
  const statistics = measures.map((measure): MeasureStatistics => {
    const nets: Network[] = reachedNets
      .filter((n) => n.measures[measure] !== null && Number.isFinite(n.measures[measure]))
      .map((n) => ({ axes: n.axes as unknown as Network['axes'], measure: n.measures[measure] as number, gap: n.gap }));
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
  const first = (sets[0] as (typeof sets)[number]).split;
  return {
    protocol: { targetLoss, testFraction, splitSeed, measures, axes: axisNames, resamples, backend, trainSamples: first.train.n, testSamples: first.test.n, data: sets.length === 1 ? (sets[0] as (typeof sets)[number]).id : sets.map((s) => s.id).join(' | ') },
    networks,
    reached: reachedNets.length,
    excluded: networks.length - reachedNets.length,
    statistics,
    ...(note ? { note } : {}),
  };
}

async function trainAndMeasure(
  axes: StudyAxes,
  trainData: Dataset,
  testData: Dataset,
  measures: string[],
  o: StudyOptions & { backend: BackendName; targetLoss: number },
): Promise<StudyNetwork> {
  const started = performance.now();
  const init = randomModel({ inputs: trainData.d, hidden: Array.from({ length: axes.depth }, () => axes.width), classes: trainData.classes, activation: axes.activation, seed: axes.seed });
  const noisy = corruptLabels(trainData, axes.labelNoise, axes.seed).data;
  const minibatch = axes.batchSize > 0;
  const r = await train(init, noisy, {
    backend: o.backend,
    targetLoss: o.targetLoss,
    weightDecay: axes.weightDecay,
    lr: axes.lr,
    testData,
    ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
    ...(minibatch ? { batchSize: axes.batchSize, shuffleSeed: axes.seed } : {}),
    ...(minibatch && o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(minibatch && o.optimizer !== undefined ? { optimizer: o.optimizer } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const reached = r.loss <= o.targetLoss;
  const values: Record<string, number | null> = {};
  const ctx = { model: r.model, init, data: noisy, backend: o.backend, seed: axes.seed, cache: new Map<string, unknown>(), ...(o.signal ? { signal: o.signal } : {}) };
  for (const m of measures) values[m] = reached ? await measureFunction(m)(ctx) : null;
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
