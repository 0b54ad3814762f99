/**
 * A sweep point as a serializable job: a flat spec (JSON in), a result (JSON out), keyed by the
 * SHA-256 of the spec's canonical JSON. Anything that can run `runPoint(spec)` — a worker thread,
 * another process, a machine pulling from a queue — produces the same result for the same key.
 * Pure: no Node built-ins.
 */
import { fail } from '../errors.js';
import { parseActivation } from '../model.js';
import { MINIBATCH_DEFAULTS, MINIBATCH_OPTIMIZERS, TRAIN_DEFAULTS, type MinibatchOptimizer, type TrainOptions } from '../train.js';
import type { Activation, Reduction } from '../types.js';
import { HSR_TARGETS, type HsrTarget } from '../analysis/hsr.js';
import { canonicalDatasetId, formatDatasetId, parseDatasetId } from './dataset-id.js';
import { sha256Hex } from './sha256.js';

/**
 * Bumped when a job's meaning changes, so old results never answer new questions.
 * v2: targetLoss, testFraction, splitSeed, testData; weight decay 1e-3 by default.
 */
export const JOB_FORMAT = 'hessbound.sweep-job.v2';

export interface SweepJobSpec {
  format: typeof JOB_FORMAT;
  /** Embedded data set name or synthetic identifier (see dataset-id.ts), canonical form. */
  dataset: string;
  activation: Activation;
  /** Units in every hidden layer. */
  width: number;
  /** Number of hidden layers. */
  depth: number;
  /** Seed of the random initialisation (Glorot normal, zero biases). */
  seed: number;
  reduction: Reduction;
  gradTol: number;
  maxSteps: number;
  adamSteps: number;
  lr: number;
  weightDecay: number;
  /** Stop when the training cross-entropy reaches this (0: off). */
  targetLoss: number;
  /** Fraction of each class held out for testing (0: no split). */
  testFraction: number;
  /** Seed of the stratified split (the same split for every point of a sweep by default). */
  splitSeed: number;
  /** A separate test set: a data set id (embedded name, synthetic:..., file:PATH), or '' for none. */
  testData: string;
  /** lambda_max by a dense eigensolve up to this many parameters, by Lanczos above. */
  denseMaxParameters: number;
  /** lambda_max and the WS bound every `track` training steps (absent: not tracked; keys unchanged). */
  track?: number;
  /**
   * HSR training: beta x the WS number `hsrTarget` added to the objective (docs/hsr.md). Absent for
   * beta 0, so plain points keep the key they had before this field existed.
   */
  hsr?: number;
  /** With `hsr`: 'upper' (default) or 'spread'; absent without `hsr`. */
  hsrTarget?: HsrTarget;
  /**
   * Mini-batch training (docs/training.md): samples per batch. Absent for full-batch points (their
   * keys do not change), and so are the fields below; the shuffles are seeded by `seed`.
   */
  batchSize?: number;
  epochs?: number;
  optimizer?: MinibatchOptimizer;
  /** SGD only. */
  momentum?: number;
  /** Full-batch L-BFGS to gradTol after the epochs: the protocol's critical point. Default true in sweeps. */
  polish?: boolean;
  checkEvery?: number;
  /**
   * A study point (issue 24, src/study/): the generalization measures to compute once the network
   * reached targetLoss (names as parseMeasures gives them). Absent for sweep points (their keys do
   * not change), and so are the two fields below, which need it and a testFraction.
   */
  measures?: string[];
  /** Study points: the fraction of training labels corrupted, seeded by `seed` (absent: none). */
  labelNoise?: number;
  /** Study points: train on the first trainSize of one shuffle (splitSeed) of the training split (absent: all of it). */
  trainSize?: number;
}

export type SweepJobInput = Partial<SweepJobSpec> & Pick<SweepJobSpec, 'dataset' | 'width' | 'seed'>;

export interface SweepJob {
  key: string;
  spec: SweepJobSpec;
}

/**
 * Sweep defaults. Weight decay 1e-3 (train()'s default too): cross-entropy on separable data has no
 * finite minimiser, so without decay the trained lambda_max is set by gradTol, not by the network;
 * with 1e-3 the point is a true minimiser of the regularised objective and lambda_max agrees at
 * gradTol 1e-6 and 1e-10 to 1e-4 relative (test/protocol.test.ts; 1e-4 decay does not quite).
 */
export const JOB_DEFAULTS = {
  activation: 'tanh',
  depth: 1,
  reduction: 'mean',
  gradTol: TRAIN_DEFAULTS.gradTol,
  maxSteps: TRAIN_DEFAULTS.maxSteps,
  adamSteps: TRAIN_DEFAULTS.adamSteps,
  lr: TRAIN_DEFAULTS.lr,
  weightDecay: TRAIN_DEFAULTS.weightDecay,
  targetLoss: 0,
  testFraction: 0,
  splitSeed: 0,
  testData: '',
  denseMaxParameters: 1500,
} as const;

function integer(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max)
    fail('BAD_OPTION', `${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  return value;
}

function nonNegative(value: unknown, name: string, strict = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (strict && value === 0))
    fail('BAD_OPTION', `${name} must be a ${strict ? 'positive' : 'non-negative'} number, got ${String(value)}`);
  return value;
}

function testFractionOf(value: unknown): number {
  if (value === 0) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= 1)
    fail('BAD_OPTION', `testFraction must be 0 (no split) or strictly between 0 and 1, got ${String(value)}`, 'e.g. 0.2 holds out a fifth of each class');
  return value;
}

function testDataOf(value: unknown, fraction: unknown): string {
  if (typeof value !== 'string') fail('BAD_OPTION', `testData must be a data set id or '', got ${String(value)}`);
  if (value === '') return '';
  if (fraction !== 0) fail('BAD_OPTION', 'give testFraction or testData, not both');
  return canonicalDatasetId(value);
}

/** The HSR fields of a spec: none at beta 0 (the key of a plain point does not change). */
function hsrFields(beta: unknown, target: unknown, depth: number): Pick<SweepJobSpec, 'hsr' | 'hsrTarget'> {
  if (target !== undefined && !HSR_TARGETS.includes(target as HsrTarget))
    fail('BAD_OPTION', `hsrTarget must be one of ${HSR_TARGETS.join(', ')}, got ${String(target)}`);
  if (beta === undefined || beta === 0) return {};
  const value = nonNegative(beta, 'hsr');
  if (depth !== 1)
    fail('BAD_OPTION', `hsr needs one hidden layer (the WS bound's gradient is closed-form only there), got depth ${depth}`, 'use --depth 1 with --hsrs, or leave --hsrs out');
  return { hsr: value, hsrTarget: (target as HsrTarget | undefined) ?? 'upper' };
}

const MINIBATCH_FIELDS = ['batchSize', 'epochs', 'optimizer', 'momentum', 'polish', 'checkEvery'] as const;

/**
 * The mini-batch fields of a spec: none without batchSize. Sweeps polish by default (a mini-batch
 * end point is not critical, and the sweep protocol's point is).
 */
function minibatchFields(input: SweepJobInput): Pick<SweepJobSpec, (typeof MINIBATCH_FIELDS)[number]> {
  if (input.batchSize === undefined) {
    const stray = MINIBATCH_FIELDS.filter((k) => input[k] !== undefined);
    if (stray.length > 0) fail('BAD_OPTION', `${stray.join(', ')} need(s) batchSize (mini-batch training)`, 'e.g. --batch-size 128 --epochs 20');
    return {};
  }
  const optimizer = input.optimizer ?? MINIBATCH_DEFAULTS.optimizer;
  if (!MINIBATCH_OPTIMIZERS.includes(optimizer)) fail('BAD_OPTION', `optimizer must be one of ${MINIBATCH_OPTIMIZERS.join(', ')}, got ${String(optimizer)}`);
  if (input.momentum !== undefined && optimizer !== 'sgd') fail('BAD_OPTION', "momentum applies to optimizer 'sgd' only", 'add --optimizer sgd, or leave --momentum out');
  const momentum = input.momentum ?? MINIBATCH_DEFAULTS.momentum;
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) fail('BAD_OPTION', `momentum must be a number in [0, 1), got ${String(momentum)}`);
  if (input.polish !== undefined && typeof input.polish !== 'boolean') fail('BAD_OPTION', `polish must be true or false, got ${String(input.polish)}`);
  return {
    batchSize: integer(input.batchSize, 'batchSize', 1, 1_000_000_000),
    epochs: integer(input.epochs ?? MINIBATCH_DEFAULTS.epochs, 'epochs', 1, 1_000_000_000),
    optimizer,
    ...(optimizer === 'sgd' ? { momentum } : {}),
    polish: input.polish ?? true,
    checkEvery: integer(input.checkEvery ?? MINIBATCH_DEFAULTS.checkEvery, 'checkEvery', 0, 1_000_000_000),
  };
}

/** A spec's mini-batch fields as train() options (none for a full-batch point). */
export function minibatchTrainOptions(spec: SweepJobSpec): Pick<TrainOptions, 'batchSize' | 'epochs' | 'optimizer' | 'momentum' | 'polish' | 'checkEvery' | 'shuffleSeed'> {
  if (spec.batchSize === undefined) return {};
  return {
    batchSize: spec.batchSize,
    ...(spec.epochs !== undefined ? { epochs: spec.epochs } : {}),
    ...(spec.optimizer !== undefined ? { optimizer: spec.optimizer } : {}),
    ...(spec.momentum !== undefined ? { momentum: spec.momentum } : {}),
    ...(spec.polish !== undefined ? { polish: spec.polish } : {}),
    ...(spec.checkEvery !== undefined ? { checkEvery: spec.checkEvery } : {}),
    shuffleSeed: spec.seed,
  };
}

const STUDY_FIELDS = ['measures', 'labelNoise', 'trainSize'] as const;
// A measure name's shape (the registry, which the point's run consults, decides whether it exists).
const MEASURE_NAME = /^[A-Za-z][A-Za-z0-9]*(@rho=[0-9.eE+-]+)?$/;

/** The study fields of a spec: none for a sweep point; labelNoise and trainSize only with measures and a split. */
function studyFields(input: SweepJobInput, testFraction: number): Pick<SweepJobSpec, (typeof STUDY_FIELDS)[number]> {
  if (input.measures === undefined) {
    const stray = STUDY_FIELDS.filter((k) => input[k] !== undefined);
    if (stray.length > 0) fail('BAD_OPTION', `${stray.join(', ')} need(s) measures (a study point)`);
    return {};
  }
  const m = input.measures;
  if (!Array.isArray(m) || m.length === 0 || m.some((n) => typeof n !== 'string' || !MEASURE_NAME.test(n)))
    fail('BAD_OPTION', 'measures must be a non-empty list of measure names', 'study points come from hessbound study; see docs/measures.md for the names');
  if (testFraction === 0) fail('BAD_OPTION', 'a study point needs a testFraction (its gap is measured on the held-out part)');
  const noise = input.labelNoise;
  if (noise !== undefined && (typeof noise !== 'number' || !(noise > 0 && noise <= 1))) fail('BAD_OPTION', `labelNoise must be in (0, 1] (absent for none), got ${String(noise)}`);
  return {
    measures: [...m],
    ...(noise !== undefined ? { labelNoise: noise } : {}),
    ...(input.trainSize !== undefined ? { trainSize: integer(input.trainSize, 'trainSize', 1, 1_000_000_000) } : {}),
  };
}

/** A complete, validated spec with defaults filled in and the data set id canonical. */
export function normalizeJob(input: SweepJobInput): SweepJobSpec {
  if (typeof input !== 'object' || input === null) fail('BAD_OPTION', 'a sweep job must be an object');
  if (input.format !== undefined && input.format !== JOB_FORMAT)
    fail('BAD_OPTION', `unsupported sweep job format ${JSON.stringify(input.format)}; expected "${JOB_FORMAT}"`);
  const known = new Set(['format', 'dataset', 'activation', 'width', 'depth', 'seed', ...Object.keys(JOB_DEFAULTS)]);
  known.add('track');
  known.add('hsr');
  known.add('hsrTarget');
  for (const field of MINIBATCH_FIELDS) known.add(field);
  for (const field of STUDY_FIELDS) known.add(field);
  for (const key of Object.keys(input)) if (!known.has(key)) fail('BAD_OPTION', `unknown sweep job field '${key}'`);
  const d = JOB_DEFAULTS;
  const reduction = input.reduction ?? d.reduction;
  const depth = integer(input.depth ?? d.depth, 'depth', 1, 100);
  if (reduction !== 'mean' && reduction !== 'sum') fail('BAD_OPTION', `reduction must be 'mean' or 'sum', got ${String(reduction)}`);
  return {
    format: JOB_FORMAT,
    dataset: canonicalDatasetId(input.dataset),
    activation: parseActivation(input.activation ?? d.activation),
    width: integer(input.width, 'width', 1, 1_000_000),
    depth,
    seed: integer(input.seed, 'seed', 0),
    reduction,
    gradTol: nonNegative(input.gradTol ?? d.gradTol, 'gradTol'),
    maxSteps: integer(input.maxSteps ?? d.maxSteps, 'maxSteps', 0, 1_000_000_000),
    adamSteps: integer(input.adamSteps ?? d.adamSteps, 'adamSteps', 0, 1_000_000_000),
    lr: nonNegative(input.lr ?? d.lr, 'lr', true),
    weightDecay: nonNegative(input.weightDecay ?? d.weightDecay, 'weightDecay'),
    targetLoss: nonNegative(input.targetLoss ?? d.targetLoss, 'targetLoss'),
    testFraction: testFractionOf(input.testFraction ?? d.testFraction),
    splitSeed: integer(input.splitSeed ?? d.splitSeed, 'splitSeed', 0),
    testData: testDataOf(input.testData ?? d.testData, input.testFraction ?? d.testFraction),
    denseMaxParameters: integer(input.denseMaxParameters ?? d.denseMaxParameters, 'denseMaxParameters', 0),
    ...(input.track ? { track: integer(input.track, 'track', 1, 1_000_000_000) } : {}),
    ...hsrFields(input.hsr, input.hsrTarget, depth),
    ...minibatchFields(input),
    ...studyFields(input, testFractionOf(input.testFraction ?? d.testFraction)),
    ...(input.measures !== undefined && (input.hsr || input.track || input.testData) ? fail('BAD_OPTION', 'a study point trains plainly: no hsr, track or testData') : {}),
    ...(input.batchSize !== undefined && input.hsr ? fail('BAD_OPTION', 'HSR training is full-batch only (its penalty is a function of all samples)', 'leave --batch-size out with --hsr/--hsrs') : {}),
  };
}

/** JSON with keys sorted: the same spec always gives the same text, in any JS engine. */
export function canonicalJson(spec: SweepJobSpec): string {
  const entries = Object.entries(spec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

/** 16 hex digits (64 bits) of SHA-256 of the canonical JSON: short enough for CSV, ample for sweeps. */
export function jobKey(spec: SweepJobSpec): string {
  return sha256Hex(canonicalJson(spec)).slice(0, 16);
}

export function makeJob(input: SweepJobInput): SweepJob {
  const spec = normalizeJob(input);
  return { key: jobKey(spec), spec };
}

/**
 * A grid of jobs: the product of the study axes (data sets x rhos x activations x depths x weight
 * decays x HSR betas x widths x seeds), the other fields shared.
 */
export interface SweepGrid extends Omit<Partial<SweepJobSpec>, 'width' | 'seed' | 'depth' | 'format' | 'dataset'> {
  /** One data set, or use `datasets` for several. */
  dataset?: string;
  datasets?: readonly string[];
  /** Synthetic data sets only: replaces their rho, one job set per value. */
  rhos?: readonly number[];
  activations?: readonly Activation[];
  weightDecays?: readonly number[];
  widths: readonly number[];
  /** A count K (seeds 0..K-1) or an explicit list. */
  seeds: number | readonly number[];
  /** One depth or several. Default 1. */
  depth?: number | readonly number[];
  /** HSR betas, one set of points each (0: plain training); `hsrTarget` applies to the others. */
  hsrs?: readonly number[];
}

/** The data set ids of a grid: each data set, and for synthetic ones each rho. */
function gridDatasets(grid: SweepGrid): string[] {
  if (grid.dataset !== undefined && grid.datasets !== undefined) fail('BAD_OPTION', 'give dataset or datasets, not both');
  const names = grid.datasets ?? (grid.dataset !== undefined ? [grid.dataset] : []);
  if (!Array.isArray(names) || names.length === 0) fail('BAD_OPTION', 'the sweep needs a data set', 'e.g. --dataset iris, or --datasets iris,wine');
  if (grid.rhos === undefined) return names.map((n) => canonicalDatasetId(n));
  if (!Array.isArray(grid.rhos) || grid.rhos.length === 0) fail('BAD_OPTION', 'rhos must be a non-empty list of numbers in [0, 1)');
  return names.flatMap((name) => {
    const id = parseDatasetId(name);
    if (id.kind !== 'synthetic') fail('BAD_OPTION', `rhos apply to synthetic data sets only, not to '${name}'`, 'e.g. --dataset synthetic:n=24,d=32,classes=3 --rhos 0,0.5');
    return grid.rhos!.map((rho) => formatDatasetId({ kind: 'synthetic', options: { ...id.options, rho } }));
  });
}

function list<T>(value: readonly T[] | undefined, name: string): readonly (T | undefined)[] {
  if (value === undefined) return [undefined];
  if (!Array.isArray(value) || value.length === 0) fail('BAD_OPTION', `${name} must be a non-empty list`);
  return value;
}

/** Repeated values (equal once normalized) give one point: the first is kept. */
function distinct<T>(values: readonly T[], identity: (value: T) => string = (v) => JSON.stringify(v) ?? 'undefined'): T[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const id = identity(v);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

type Shared = Omit<SweepGrid, 'widths' | 'seeds' | 'depth' | 'dataset' | 'datasets' | 'rhos' | 'activations' | 'weightDecays' | 'hsrs'>;

/** A grid's axes, checked and with repeats removed, so that every combination is a distinct point. */
interface GridAxes {
  shared: Shared;
  datasets: string[];
  activations: (Activation | undefined)[];
  depths: number[];
  weightDecays: (number | undefined)[];
  hsrs: (number | undefined)[];
  widths: number[];
  seeds: number[];
}

/** One axis value of a grid point (undefined: the axis is not swept, the shared value applies). */
interface GridCoordinates {
  dataset: string;
  activation: Activation | undefined;
  depth: number;
  weightDecay: number | undefined;
  hsr: number | undefined;
  width: number;
  seed: number;
}

function jobAt(shared: Shared, c: GridCoordinates): SweepJob {
  return makeJob({
    ...shared,
    dataset: c.dataset,
    ...(c.activation !== undefined ? { activation: c.activation } : {}),
    ...(c.weightDecay !== undefined ? { weightDecay: c.weightDecay } : {}),
    ...(c.hsr !== undefined ? { hsr: c.hsr } : {}),
    width: c.width,
    seed: c.seed,
    depth: c.depth,
  });
}

function gridAxes(grid: SweepGrid): GridAxes {
  const { widths, seeds, depth, dataset: _dataset, datasets: _datasets, rhos: _rhos, activations, weightDecays, hsrs, ...shared } = grid;
  const datasetIds = gridDatasets(grid);
  if (activations !== undefined && shared.activation !== undefined) fail('BAD_OPTION', 'give activation or activations, not both');
  if (weightDecays !== undefined && shared.weightDecay !== undefined) fail('BAD_OPTION', 'give weightDecay or weightDecays, not both');
  if (hsrs !== undefined && shared.hsr !== undefined) fail('BAD_OPTION', 'give hsr or hsrs, not both');
  if (!Array.isArray(widths) || widths.length === 0) fail('BAD_OPTION', 'widths must be a non-empty list of positive integers, e.g. [4, 8, 16]');
  // A seed count is stored as its list in the sweep's spec file: kept to 100,000.
  const seedList = typeof seeds === 'number' ? Array.from({ length: integer(seeds, 'seeds', 1, 100_000) }, (_, i) => i) : seeds;
  if (!Array.isArray(seedList) || seedList.length === 0) fail('BAD_OPTION', 'seeds must be a positive count or a non-empty list');
  const depths = depth === undefined ? [JOB_DEFAULTS.depth] : typeof depth === 'number' ? [depth] : depth;
  if (!Array.isArray(depths) || depths.length === 0) fail('BAD_OPTION', 'depth must be a number or a non-empty list');
  const axes: GridAxes = {
    shared,
    datasets: distinct(datasetIds),
    activations: distinct(list(activations, 'activations').map((a) => (a === undefined ? undefined : parseActivation(a)))),
    depths: distinct(depths),
    weightDecays: distinct(list(weightDecays, 'weightDecays')),
    hsrs: distinct(list(hsrs, 'hsrs')),
    widths: distinct(widths),
    seeds: distinct(seedList),
  };
  // Every axis value is checked now (one job per value), so a bad one fails before the first point
  // runs, not when a lazy iteration reaches it.
  const first: GridCoordinates = {
    dataset: axes.datasets[0] as string,
    activation: axes.activations[0],
    depth: axes.depths[0] as number,
    weightDecay: axes.weightDecays[0],
    hsr: axes.hsrs[0],
    width: axes.widths[0] as number,
    seed: axes.seeds[0] as number,
  };
  jobAt(shared, first);
  for (const dataset of axes.datasets.slice(1)) jobAt(shared, { ...first, dataset });
  for (const activation of axes.activations.slice(1)) jobAt(shared, { ...first, activation });
  // Depth and HSR beta constrain each other (HSR needs one hidden layer): every pair.
  for (const d of axes.depths) for (const hsr of axes.hsrs) jobAt(shared, { ...first, depth: d, hsr });
  for (const weightDecay of axes.weightDecays.slice(1)) jobAt(shared, { ...first, weightDecay });
  for (const width of axes.widths.slice(1)) jobAt(shared, { ...first, width });
  for (const seed of axes.seeds.slice(1)) jobAt(shared, { ...first, seed });
  return axes;
}

/** How many points a grid has (repeated axis values counted once), without making any. */
export function gridSize(grid: SweepGrid): number {
  const a = gridAxes(grid);
  return a.datasets.length * a.activations.length * a.depths.length * a.weightDecays.length * a.hsrs.length * a.widths.length * a.seeds.length;
}

/** The distinct data set ids of a grid (test data not included), canonical. */
export function gridDatasetIds(grid: SweepGrid): string[] {
  return gridAxes(grid).datasets;
}

/** Relative cost of a point by its shape: what parallel sweeps start first. */
export function shapeCost(width: number, depth: number): number {
  return width * depth * (depth > 1 ? width : 1);
}

/**
 * The grid's jobs, one at a time: a million-point grid costs nothing until its points are asked for.
 * `largestFirst` orders the (depth, width) shapes by cost, most expensive first (for parallel runs,
 * so one big point does not run alone at the end); otherwise data set, activation, depth, weight
 * decay, HSR beta, width, seed, in the order given.
 */
export function* gridJobIterator(grid: SweepGrid, options: { largestFirst?: boolean } = {}): Generator<SweepJob, void, undefined> {
  const a = gridAxes(grid);
  if (options.largestFirst) {
    const shapes = a.depths.flatMap((depth) => a.widths.map((width) => ({ depth, width })));
    // Stable: equal costs keep the order given.
    shapes.sort((x, y) => shapeCost(y.width, y.depth) - shapeCost(x.width, x.depth));
    for (const { depth, width } of shapes)
      for (const dataset of a.datasets)
        for (const activation of a.activations)
          for (const weightDecay of a.weightDecays)
            for (const hsr of a.hsrs)
              for (const seed of a.seeds) yield jobAt(a.shared, { dataset, activation, depth, weightDecay, hsr, width, seed });
    return;
  }
  for (const dataset of a.datasets)
    for (const activation of a.activations)
      for (const depth of a.depths)
        for (const weightDecay of a.weightDecays)
          for (const hsr of a.hsrs)
            for (const width of a.widths)
              for (const seed of a.seeds) yield jobAt(a.shared, { dataset, activation, depth, weightDecay, hsr, width, seed });
}

/** The coordinates of a point as a result row records them. */
export type GridPointFields = Pick<SweepJobSpec, 'dataset' | 'activation' | 'depth' | 'weightDecay' | 'width' | 'seed'> & { hsr?: number };

/**
 * Whether a point (e.g. a row of an earlier run's CSV, with its key) is one of the grid's, found
 * from its coordinates in constant time, without generating the grid.
 */
export function gridContains(grid: SweepGrid, point: GridPointFields & { key: string }): boolean {
  return gridMembership(grid)(point);
}

/** gridContains for many points: the grid's axes are checked once. */
export function gridMembership(grid: SweepGrid): (point: GridPointFields & { key: string }) => boolean {
  const a = gridAxes(grid);
  const on = <T>(axis: readonly (T | undefined)[], value: T): T | undefined | null => {
    if (axis.length === 1 && axis[0] === undefined) return undefined;
    return axis.includes(value) ? value : null;
  };
  return (point) => {
    const activation = on(a.activations, point.activation);
    const weightDecay = on(a.weightDecays, point.weightDecay);
    // Plain points record hsr 0; a grid without hsrs has none.
    const hsr = a.hsrs.length === 1 && a.hsrs[0] === undefined ? undefined : on(a.hsrs, point.hsr ?? 0);
    if (activation === null || weightDecay === null || hsr === null) return false;
    if (!a.datasets.includes(point.dataset) || !a.depths.includes(point.depth) || !a.widths.includes(point.width) || !a.seeds.includes(point.seed)) return false;
    try {
      return jobAt(a.shared, { dataset: point.dataset, activation, depth: point.depth, weightDecay, hsr, width: point.width, seed: point.seed }).key === point.key;
    } catch {
      return false;
    }
  };
}

/**
 * Most points gridJobs makes at once: it returns an array of jobs (about 1 KB each), so a million
 * would hold a gigabyte. Sweeps do not use it: they take their points from gridJobIterator, lazily.
 */
export const MAX_GRID_POINTS = 100_000;

/** A grid's jobs as an array (small grids: tests, listings); sweeps iterate lazily instead. */
export function gridJobs(grid: SweepGrid): SweepJob[] {
  const count = gridSize(grid);
  if (count > MAX_GRID_POINTS)
    fail('TOO_LARGE', `the grid has ${count.toLocaleString('en-US')} points, more than a list of jobs holds (${MAX_GRID_POINTS.toLocaleString('en-US')})`, 'iterate them with gridJobIterator, or run them with sweep(), which makes each job when it is due');
  return [...gridJobIterator(grid)];
}
