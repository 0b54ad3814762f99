/**
 * A sweep in Node: points on a worker-thread pool, each result appended to CSV and JSON lines as it
 * finishes, and points already in the CSV skipped on resume.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors.js';
import type { ModelJson } from '../model.js';
import { gridMembership, makeJob, type SweepGrid, type SweepJob, type SweepJobInput } from '../sweep/job.js';
import type { SweepResult } from '../sweep/result.js';
import { sweep, type SweepEvent } from '../sweep/sweep.js';
import type { BackendName } from '../types.js';
import { resolveBackendName } from './backend-name.js';
import { createWorkerPool, type WorkerPool } from './sweep-pool.js';
import type { TraceSplitConfig } from '../split/tile-sums.js';
import { openSweepFiles, type SweepFilesOptions } from './sweep-files.js';
import { sweepSpec, validateGridData, validateSweepData } from './sweep-guard.js';

export interface NodeSweepOptions {
  grid?: SweepGrid;
  jobs?: readonly (SweepJob | SweepJobInput)[];
  /** Worker threads (default: one per core). */
  workers?: number;
  backend?: BackendName | 'auto';
  /** Allow more workers than cores. */
  force?: boolean;
  /** Where results go; without it nothing is written (and nothing can be resumed). */
  files?: SweepFilesOptions;
  /** Write each trained model to DIR/<key>.json (hessbound.mlp.v1). */
  saveModels?: string;
  /** Runs the points instead of a local pool (e.g. a queue: src/queue/coordinator.ts); closed at the end. */
  executor?: Pick<WorkerPool, 'concurrency' | 'run' | 'workers' | 'blasThreads' | 'close'> & { backend?: BackendName };
  /** Cancels the sweep: finished points stay written, the generator throws ABORTED (resume later). */
  signal?: AbortSignal;
  /** Local pool only: points whose closed-form traces are large split them over a queue (docs/distributed.md). */
  splitTraces?: TraceSplitConfig;
}

/** The start event also carries the rows of this sweep's jobs that an earlier run already wrote. */
export type NodeSweepEvent =
  | (Extract<SweepEvent, { type: 'start' }> & { previous: SweepResult[]; workers: number; blasThreads: number })
  | Exclude<SweepEvent, { type: 'start' }>;

export async function* runSweep(options: NodeSweepOptions): AsyncGenerator<NodeSweepEvent, void, undefined> {
  // Jobs first: bad options fail before any file is touched or worker started.
  if (!options.jobs && !options.grid) fail('BAD_OPTION', 'the sweep has no jobs', 'give a grid (dataset, widths, seeds) or a job list');
  // A grid is never generated here: its points are made one at a time as they are due (a million-point
  // grid starts at once, and Ctrl-C is obeyed throughout). A job list is checked whole.
  const grid = options.jobs ? undefined : (options.grid as SweepGrid);
  const jobs = options.jobs ? options.jobs.map((j) => ('spec' in j && 'key' in j ? makeJob(j.spec) : makeJob(j as SweepJobInput))) : null;
  // The data sets load before any file is written, so a bad one leaves nothing behind to block a rerun.
  if (jobs) validateSweepData(jobs);
  else validateGridData(grid as SweepGrid);
  // The backend is part of the sweep's identity (stored with its spec; a resume on another is refused).
  const backend = options.executor?.backend ?? resolveBackendName(options.backend);
  const files = options.files ? openSweepFiles({ spec: sweepSpec(grid, jobs ?? [], backend), ...options.files }) : null;
  // The rows of earlier runs that are points of this sweep, found from their coordinates (no grid made).
  const isPoint = jobs ? ((keys) => (row: SweepResult) => keys.has(row.key))(new Set(jobs.map((j) => j.key))) : gridMembership(grid as SweepGrid);
  const previous = files ? [...files.previous.values()].filter(isPoint) : [];
  const skip = new Set(previous.map((r) => r.key));
  if (options.saveModels !== undefined) prepareModelDir(options.saveModels);
  const pool = options.executor ?? createWorkerPool({
    ...(options.force ? { force: true } : {}),
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    // Forced, never a silent fallback: a point that cannot run on it fails (BACKEND).
    backend,
    ...(options.saveModels !== undefined ? { keepModels: true } : {}),
    ...(options.splitTraces ? { split: options.splitTraces } : {}),
  });
  try {
    for await (const event of sweep({ ...(jobs ? { jobs } : { grid: grid as SweepGrid }), skip, executor: pool, ...(options.signal ? { signal: options.signal } : {}) })) {
      if (event.type === 'start') {
        yield { ...event, previous, workers: pool.workers, blasThreads: pool.blasThreads };
        continue;
      }
      if (event.type === 'result') {
        const { model, ...record } = event.record;
        if (record.result.backend !== backend)
          fail('BACKEND', `point ${record.key} ran on ${record.result.backend}, but this sweep runs on ${backend}`, 'rows of different backends differ in their last digits (or more, unconverged); this is a bug in hessbound, please report it');
        if (model && options.saveModels !== undefined) saveModel(options.saveModels, record.key, model);
        files?.append(record);
        yield { ...event, record };
        continue;
      }
      yield event;
    }
  } finally {
    await pool.close();
    files?.close();
  }
}

function prepareModelDir(dir: string): void {
  if (typeof dir !== 'string' || dir === '') fail('BAD_OPTION', 'saveModels must be a directory path');
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    fail('IO', `cannot create ${dir}: ${(err as Error).message}`);
  }
}

/** One file per point, named by its job key (so a resumed sweep overwrites nothing else). */
function saveModel(dir: string, key: string, model: ModelJson): void {
  try {
    writeFileSync(join(dir, `${key}.json`), `${JSON.stringify(model)}\n`);
  } catch (err) {
    fail('IO', `cannot write ${join(dir, `${key}.json`)}: ${(err as Error).message}`);
  }
}
