/**
 * Guards of a sweep's output files: an exclusive lock (two sweeps on one file would write every
 * point twice), the sweep's spec stored beside its output (so --resume of a different sweep is
 * refused, saying what differs), and the data sets checked before any file is touched.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { fail } from '../errors.js';
import { gridDatasetIds, gridJobIterator, JOB_DEFAULTS, type SweepGrid, type SweepJob } from '../sweep/job.js';
import { isContentDatasetId } from '../queue/content-data.js';
import { loadDataById } from './dataset-ids.js';
import { platformMemoryBudget } from '../memory.js';
import { assertAllocationsFit } from '../resources/memory-plan.js';
import { knownDataShape, pointAllocations, type DataShape } from '../resources/point-plan.js';

export const SPEC_FORMAT = 'hessbound.sweep-spec.v1';

export function lockPath(csvPath: string): string {
  return `${csvPath}.lock`;
}

export function specPath(csvPath: string): string {
  return `${csvPath}.spec.json`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock on a sweep's output (an O_EXCL lock file holding pid and host); a lock left by a
 * process that no longer runs on this host is taken over. Returns the release function.
 */
export function acquireSweepLock(csvPath: string): () => void {
  const path = lockPath(csvPath);
  const me = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${JSON.stringify(me)}\n`);
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off('exit', release);
        try {
          unlinkSync(path);
        } catch {
          // Already gone (removed by hand): nothing to release.
        }
      };
      // Ctrl-C / SIGTERM end the CLI with process.exit (signals.ts) before the sweep's finally runs.
      process.once('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fail('IO', `cannot create the lock file ${path}: ${(err as Error).message}`, 'check that the output folder is writable');
    }
    let owner: { pid?: number; host?: string; since?: string } = {};
    try {
      owner = JSON.parse(readFileSync(path, 'utf8')) as typeof owner;
    } catch {
      // Unreadable: a lock being written right now, or damaged; treated as held.
    }
    const stale = owner.host === me.host && typeof owner.pid === 'number' && !alive(owner.pid);
    if (!stale || attempt > 0)
      fail(
        'IO',
        `another sweep is writing ${csvPath} (process ${owner.pid ?? '?'} on ${owner.host ?? '?'}, since ${owner.since ?? '?'})`,
        `wait for it to finish or stop it; if no sweep runs, delete ${path}`,
      );
    try {
      unlinkSync(path);
    } catch {
      // Someone else took it over first; the next attempt reports them.
    }
  }
  return fail('IO', `cannot lock ${csvPath}`, `delete ${path} if no sweep runs`);
}

type Spec = Record<string, unknown>;

/** The normalized sweep: the grid with defaults filled in (seed counts as lists), or the job keys. */
export function sweepSpec(grid: SweepGrid | undefined, jobs: readonly SweepJob[], backend?: string): Spec {
  if (!grid) return { format: SPEC_FORMAT, jobs: jobs.map((j) => j.key).sort(), ...(backend ? { backend } : {}) };
  const normalized: Spec = { ...JOB_DEFAULTS };
  for (const [key, value] of Object.entries(grid)) if (value !== undefined) normalized[key] = value;
  if (typeof normalized['seeds'] === 'number') normalized['seeds'] = Array.from({ length: normalized['seeds'] as number }, (_, i) => i);
  // The canonical data set ids of the jobs (e.g. synthetic:... with defaults), not as typed.
  normalized['datasets'] = [...gridDatasetIds(grid)].sort();
  delete normalized['dataset'];
  // The backend the points run on: part of the sweep's identity (native and WebAssembly differ in the last bits).
  if (backend) normalized['backend'] = backend;
  return { format: SPEC_FORMAT, grid: normalized };
}

function show(value: unknown): string {
  return value === undefined ? '(not set)' : JSON.stringify(value);
}

/** What differs between two specs, one "key: stored vs now" per difference. */
export function specDifferences(stored: Spec, now: Spec): string[] {
  const a = (stored['grid'] ?? stored) as Spec;
  const b = (now['grid'] ?? now) as Spec;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k}: ${show(a[k])} in the file, ${show(b[k])} now`);
}

/**
 * On a fresh start writes the spec beside the output; on resume compares it with the stored one
 * and refuses a different sweep. A resumed output without a spec (older versions) gets one.
 */
export function checkSweepSpec(csvPath: string, spec: Spec, resuming: boolean): void {
  const path = specPath(csvPath);
  if (resuming && existsSync(path)) {
    let stored: Spec;
    try {
      stored = JSON.parse(readFileSync(path, 'utf8')) as Spec;
    } catch (err) {
      return fail('BAD_DATA', `${path} is damaged: ${(err as Error).message}`, 'delete it to resume without the check, or --overwrite');
    }
    // Outputs written before the backend was stored: their rows' backend column says it.
    const storedBody = (stored['grid'] ?? stored) as Spec;
    const differences = specDifferences(stored, spec).filter((d) => 'backend' in storedBody || !d.startsWith('backend: '));
    if (differences.length > 0)
      fail(
        'BAD_OPTION',
        `--resume of ${csvPath} with a different sweep: ${differences.join('; ')}`,
        'resume with the options of the sweep that wrote the file, or write this one to another --out (or --overwrite)',
      );
    return;
  }
  try {
    writeFileSync(`${path}.tmp`, `${JSON.stringify(spec, null, 1)}\n`);
    renameSync(`${path}.tmp`, path);
  } catch (err) {
    fail('IO', `cannot write ${path}: ${(err as Error).message}`, 'check that the output folder is writable');
  }
}

/** The shapes of data sets by id: known ones without loading, others loaded (an unknown or bad one fails). */
function dataShapes(ids: ReadonlySet<string>): Map<string, DataShape> {
  const shapes = new Map<string, DataShape>();
  // Content ids (sha256:...) were made from loaded data and are checked by hash where they run.
  for (const id of ids) {
    if (isContentDatasetId(id)) continue;
    const known = knownDataShape(id);
    const shape = known ?? loadDataById(id);
    if (!known) shapes.set(id, { n: shape.n, d: shape.d, classes: shape.classes });
    else shapes.set(id, known);
  }
  return shapes;
}

/** Loads each data set of the jobs once, so an unknown or bad one fails before any point or file. */
export function validateSweepData(jobs: readonly SweepJob[]): void {
  const shapes = dataShapes(new Set(jobs.flatMap((j) => (j.spec.testData ? [j.spec.dataset, j.spec.testData] : [j.spec.dataset]))));
  // Every point's memory plan before the first one starts (each point checks again where it runs).
  for (const job of jobs) {
    const data = shapes.get(job.spec.dataset);
    const test = job.spec.testData ? shapes.get(job.spec.testData) : undefined;
    if (data && (test || !job.spec.testData)) assertAllocationsFit(pointAllocations(job.spec, data, test), platformMemoryBudget());
  }
}

/**
 * validateSweepData for a grid, without generating it: each data set loaded once, and the memory
 * plan of every (data set, depth, width) shape (the plan reads nothing else that varies by point).
 */
export function validateGridData(grid: SweepGrid): void {
  const first = gridJobIterator(grid).next();
  if (first.done) return;
  const spec = first.value.spec;
  const datasets = gridDatasetIds(grid);
  const shapes = dataShapes(new Set(spec.testData ? [...datasets, spec.testData] : datasets));
  const test = spec.testData ? shapes.get(spec.testData) : undefined;
  if (spec.testData && !test) return;
  const depths = grid.depth === undefined ? [spec.depth] : typeof grid.depth === 'number' ? [grid.depth] : [...new Set(grid.depth)];
  const widths = [...new Set(grid.widths)];
  const budget = platformMemoryBudget();
  for (const id of datasets) {
    const data = shapes.get(id);
    if (!data) continue;
    for (const depth of depths) for (const width of widths) assertAllocationsFit(pointAllocations({ ...spec, width, depth }, data, test), budget);
  }
}
