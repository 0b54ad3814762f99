/**
 * The sharpness-versus-generalization study (issue 24; Jiang et al. 2020's protocol): train every
 * network of a hyperparameter grid to the same training cross-entropy, leave out (and count) those
 * that did not reach it, measure the rest, and rank-correlate every measure with the gap.
 */
import { throwIfAborted } from '../backend/cancel.js';
import { getBackend } from '../backend/select.js';
import { HessboundError, fail } from '../errors.js';
import { toDatasetInput, type DataInput } from '../inputs.js';
import { stratifiedSplit } from '../analysis/split.js';
import { bootstrapInterval, granulatedTau, kendallTau, type AxisTau, type Interval, type Network } from '../analysis/rank-correlation.js';
import { parseActivation } from '../model.js';
import { contentIdOfText, serializeDataset } from '../sweep/dataset-content.js';
import { formatDatasetId, loadDatasetById, parseDatasetId } from '../sweep/dataset-id.js';
import { normalizeJob, type SweepJobInput } from '../sweep/job.js';
import type { SweepRecord } from '../sweep/result.js';
import { inProcessExecutor, type PointExecutor } from '../sweep/sweep.js';
import { TRAIN_DEFAULTS, type MinibatchOptimizer, type StopReason } from '../train.js';
import type { Activation, BackendName, Dataset } from '../types.js';
import { parseMeasures } from './measure-registry.js';

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
  /**
   * Where the networks are trained and measured: each is a sweep job with the study's fields
   * (src/sweep/job.ts), so a queue executor (src/queue/coordinator.ts, hessbound study --queue)
   * runs them on queue workers. Default: one after another in this process. In-memory data
   * travels by content id (sha256:..., serializeDataset): a queue executor must hold its text.
   */
  executor?: PointExecutor;
  /** Loads a data set by id (default: synthetic ids, and embedded names where the entry registered a loader). */
  loadData?: (id: string) => Dataset;
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
  /** What stopped training; 'diverged' when it produced non-finite parameters (a learning rate too large). */
  stopReason: StopReason | 'diverged';
  /** The training cross-entropy reached target: the network counts in the statistics. */
  reached: boolean;
  /** Null for a diverged network (so are the accuracies and the gap). */
  trainLoss: number | null;
  trainAccuracy: number | null;
  testAccuracy: number | null;
  /** trainAccuracy - testAccuracy (on the labels trained on, noisy ones included). */
  gap: number | null;
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

/** The content id a study gives in-memory data (the queue stores its text under it). */
export function studyDataText(data: DataInput): { id: string; text: string } {
  const text = serializeDataset(toDatasetInput(data));
  return { id: contentIdOfText(text), text };
}

/** One data set per rho (synthetic ids), or the data as given (in-memory data by its content id). */
function dataSets(dataInput: DataInput | string, rhos: readonly number[] | undefined, load: (id: string) => Dataset): { id: string; rho: number | null; data: Dataset }[] {
  if (typeof dataInput !== 'string') {
    if (rhos !== undefined) fail('BAD_OPTION', 'a rho grid needs synthetic data given by its id', "e.g. study('synthetic:n=300,d=32,classes=3', { grid: { rhos: [0, 0.5], ... } })");
    const data = toDatasetInput(dataInput);
    return [{ id: studyDataText(data).id, rho: null, data }];
  }
  const text = rhos !== undefined && /^\s*synthetic:/i.test(dataInput) && !/[:,]\s*rho=/.test(dataInput) ? `${dataInput},rho=0` : dataInput;
  const id = parseDatasetId(text);
  if (rhos === undefined) return [{ id: formatDatasetId(id), rho: id.kind === 'synthetic' ? id.options.rho : null, data: load(formatDatasetId(id)) }];
  if (id.kind !== 'synthetic') fail('BAD_OPTION', `rhos apply to synthetic data sets only, not to '${dataInput}'`, 'e.g. synthetic:n=300,d=32,classes=3 with rhos [0, 0.5]');
  return rhos.map((rho) => {
    const one = formatDatasetId({ kind: 'synthetic', options: { ...id.options, rho } });
    return { id: one, rho, data: load(one) };
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
  const load = options.loadData ?? ((id: string) => loadDatasetById(id));
  const sets = dataSets(dataInput, rhos, load).map((s) => ({ ...s, split: stratifiedSplit(s.data, testFraction, splitSeed) }));
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

  const loaded = new Map(sets.map((set) => [set.id, set.data]));
  const executor = options.executor ?? inProcessExecutor({ backend, loadData: (id) => loaded.get(id) ?? load(id) });
  const networks = await runNetworks(points.map((p) => ({ axes: p.axes, spec: networkSpec(p.axes, p.set.id, splitTrain, measures, { ...options, targetLoss, testFraction, splitSeed }) })), executor, options);
  const axisNames = STUDY_AXES.filter((a) => new Set(points.map((p) => p.axes[a])).size > 1);
  const reachedNets = networks.filter((n) => n.reached);
  const statistics = measures.map((measure): MeasureStatistics => {
    const nets: Network[] = reachedNets
      .filter((n) => n.measures[measure] !== null && Number.isFinite(n.measures[measure]))
      .map((n) => ({ axes: n.axes as unknown as Network['axes'], measure: n.measures[measure] as number, gap: n.gap as number }));
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

/** A network of the grid as a sweep job: the study's fields, and only what differs from a plain point's defaults. */
function networkSpec(axes: StudyAxes, dataset: string, splitTrain: number, measures: string[], o: StudyOptions & { targetLoss: number; testFraction: number; splitSeed: number }): SweepJobInput {
  const minibatch = axes.batchSize > 0;
  return {
    dataset,
    activation: axes.activation,
    width: axes.width,
    depth: axes.depth,
    seed: axes.seed,
    lr: axes.lr,
    weightDecay: axes.weightDecay,
    targetLoss: o.targetLoss,
    testFraction: o.testFraction,
    splitSeed: o.splitSeed,
    ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
    // Mini-batch to the target loss, without the sweep's full-batch polish (the study stops at a loss, not a critical point).
    ...(minibatch ? { batchSize: axes.batchSize, polish: false, ...(o.epochs !== undefined ? { epochs: o.epochs } : {}), ...(o.optimizer !== undefined ? { optimizer: o.optimizer } : {}) } : {}),
    measures,
    ...(axes.labelNoise > 0 ? { labelNoise: axes.labelNoise } : {}),
    ...(axes.trainSize !== splitTrain ? { trainSize: axes.trainSize } : {}),
  };
}

function networkOf(axes: StudyAxes, record: SweepRecord): StudyNetwork {
  const r = record.result;
  if (!record.study || r.testAccuracy === null || r.gap === null) fail('KERNEL', `the point ${record.key} came back without the study's fields`, 'a queue worker runs an older hessbound: update it');
  return {
    axes,
    stopReason: r.stopReason,
    reached: record.study.reached,
    trainLoss: r.loss,
    trainAccuracy: r.trainAccuracy,
    testAccuracy: r.testAccuracy,
    gap: r.gap,
    measures: record.study.measures,
    seconds: r.seconds,
  };
}

/** Runs the networks on the executor, as many at once as it takes; results in grid order. */
async function runNetworks(jobs: { axes: StudyAxes; spec: SweepJobInput }[], executor: PointExecutor, options: StudyOptions): Promise<StudyNetwork[]> {
  const specs = jobs.map((j) => normalizeJob(j.spec));
  const out: StudyNetwork[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < jobs.length) {
      throwIfAborted(options.signal);
      const i = next++;
      const axes = (jobs[i] as (typeof jobs)[number]).axes;
      try {
        out[i] = networkOf(axes, await executor.run(specs[i] as (typeof specs)[number], () => {}, options.signal));
      } catch (error) {
        // Divergence is an outcome of the grid (a learning rate too large), not a failure of the study: left out and counted.
        if (!(error instanceof HessboundError && error.code === 'NON_FINITE')) throw error;
        out[i] = { axes, stopReason: 'diverged', reached: false, trainLoss: null, trainAccuracy: null, testAccuracy: null, gap: null, measures: Object.fromEntries(specs[i]!.measures!.map((m) => [m, null])), seconds: 0 };
      }
      options.onNetwork?.(++done, jobs.length, out[i] as StudyNetwork);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(executor.concurrency, jobs.length)) }, lane));
  return out;
}
