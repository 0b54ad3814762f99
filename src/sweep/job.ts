/**
 * A sweep point as a serializable job: a flat spec (JSON in), a result (JSON out), keyed by the
 * SHA-256 of the spec's canonical JSON. Anything that can run `runPoint(spec)` — a worker thread,
 * another process, a machine pulling from a queue — produces the same result for the same key.
 * Pure: no Node built-ins.
 */
import { fail } from '../errors.js';
import { parseActivation } from '../model.js';
import { TRAIN_DEFAULTS } from '../train.js';
import type { Activation, Reduction } from '../types.js';
import { canonicalDatasetId } from './dataset-id.js';
import { sha256Hex } from './sha256.js';

/** Bumped when a job's meaning changes, so old results never answer new questions. */
export const JOB_FORMAT = 'hessbound.sweep-job.v1';

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
  /** lambda_max by a dense eigensolve up to this many parameters, by Lanczos above. */
  denseMaxParameters: number;
  /** lambda_max and the WS bound every `track` training steps (absent: not tracked; keys unchanged). */
  track?: number;
}

export type SweepJobInput = Partial<SweepJobSpec> & Pick<SweepJobSpec, 'dataset' | 'width' | 'seed'>;

export interface SweepJob {
  key: string;
  spec: SweepJobSpec;
}

export const JOB_DEFAULTS = {
  activation: 'tanh',
  depth: 1,
  reduction: 'mean',
  gradTol: TRAIN_DEFAULTS.gradTol,
  maxSteps: TRAIN_DEFAULTS.maxSteps,
  adamSteps: TRAIN_DEFAULTS.adamSteps,
  lr: TRAIN_DEFAULTS.lr,
  weightDecay: TRAIN_DEFAULTS.weightDecay,
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

/** A complete, validated spec with defaults filled in and the data set id canonical. */
export function normalizeJob(input: SweepJobInput): SweepJobSpec {
  if (typeof input !== 'object' || input === null) fail('BAD_OPTION', 'a sweep job must be an object');
  if (input.format !== undefined && input.format !== JOB_FORMAT)
    fail('BAD_OPTION', `unsupported sweep job format ${JSON.stringify(input.format)}; expected "${JOB_FORMAT}"`);
  const known = new Set(['format', 'dataset', 'activation', 'width', 'depth', 'seed', ...Object.keys(JOB_DEFAULTS)]);
  known.add('track');
  for (const key of Object.keys(input)) if (!known.has(key)) fail('BAD_OPTION', `unknown sweep job field '${key}'`);
  const d = JOB_DEFAULTS;
  const reduction = input.reduction ?? d.reduction;
  if (reduction !== 'mean' && reduction !== 'sum') fail('BAD_OPTION', `reduction must be 'mean' or 'sum', got ${String(reduction)}`);
  return {
    format: JOB_FORMAT,
    dataset: canonicalDatasetId(input.dataset),
    activation: parseActivation(input.activation ?? d.activation),
    width: integer(input.width, 'width', 1, 1_000_000),
    depth: integer(input.depth ?? d.depth, 'depth', 1, 100),
    seed: integer(input.seed, 'seed', 0),
    reduction,
    gradTol: nonNegative(input.gradTol ?? d.gradTol, 'gradTol'),
    maxSteps: integer(input.maxSteps ?? d.maxSteps, 'maxSteps', 0, 1_000_000_000),
    adamSteps: integer(input.adamSteps ?? d.adamSteps, 'adamSteps', 0, 1_000_000_000),
    lr: nonNegative(input.lr ?? d.lr, 'lr', true),
    weightDecay: nonNegative(input.weightDecay ?? d.weightDecay, 'weightDecay'),
    denseMaxParameters: integer(input.denseMaxParameters ?? d.denseMaxParameters, 'denseMaxParameters', 0),
    ...(input.track ? { track: integer(input.track, 'track', 1, 1_000_000_000) } : {}),
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

/** A grid of jobs: widths x seeds (x depths), the other fields shared. */
export interface SweepGrid extends Omit<Partial<SweepJobSpec>, 'width' | 'seed' | 'depth' | 'format'> {
  dataset: string;
  widths: readonly number[];
  /** A count K (seeds 0..K-1) or an explicit list. */
  seeds: number | readonly number[];
  /** One depth or several. Default 1. */
  depth?: number | readonly number[];
}

export function gridJobs(grid: SweepGrid): SweepJob[] {
  const { widths, seeds, depth, ...shared } = grid;
  if (!Array.isArray(widths) || widths.length === 0) fail('BAD_OPTION', 'widths must be a non-empty list of positive integers, e.g. [4, 8, 16]');
  const seedList = typeof seeds === 'number' ? Array.from({ length: integer(seeds, 'seeds', 1, 100_000) }, (_, i) => i) : seeds;
  if (!Array.isArray(seedList) || seedList.length === 0) fail('BAD_OPTION', 'seeds must be a positive count or a non-empty list');
  const depths = depth === undefined ? [JOB_DEFAULTS.depth] : typeof depth === 'number' ? [depth] : depth;
  const jobs: SweepJob[] = [];
  const seen = new Set<string>();
  for (const d of depths)
    for (const width of widths)
      for (const seed of seedList) {
        const job = makeJob({ ...shared, width, seed, depth: d });
        if (seen.has(job.key)) continue; // repeated widths or seeds in the lists
        seen.add(job.key);
        jobs.push(job);
      }
  return jobs;
}
