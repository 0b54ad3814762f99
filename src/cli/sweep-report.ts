/** What `hessbound sweep` and `hessbound demo` share: running with a progress bar, the table, the plot. */
import { writeFileSync } from 'node:fs';
import { fail } from '../errors.js';
import { runSweep, type NodeSweepOptions } from '../node/sweep-run.js';
import { sweepPlotSvg } from '../sweep/plot.js';
import type { SweepFailure, SweepResult } from '../sweep/result.js';
import { table } from './format.js';
import { createProgressBar } from './progress.js';

export interface SweepRun {
  rows: SweepResult[];
  failures: SweepFailure[];
  /** Rows that an earlier run had written (resume). */
  resumed: number;
  workers: number;
  blasThreads: number;
  seconds: number;
}

/** Runs the sweep with a progress bar on stderr; rows come back sorted by width, depth and seed. */
export async function runSweepWithProgress(options: NodeSweepOptions, showProgress: boolean): Promise<SweepRun> {
  const started = Date.now();
  const bar = createProgressBar('sweep', process.stderr, showProgress);
  const rows: SweepResult[] = [];
  const failures: SweepFailure[] = [];
  let resumed = 0;
  let workers = 0;
  let blasThreads = 0;
  let note = '';
  for await (const event of runSweep(options)) {
    if (event.type === 'start') {
      rows.push(...event.previous);
      resumed = event.previous.length;
      ({ workers, blasThreads } = event);
      note = `0/${event.total} points`;
      if (showProgress && resumed > 0) process.stderr.write(`resuming: ${resumed} point(s) already in the results, ${event.total} to go\n`);
      bar.update(event.total === 0 ? 1 : 0, note);
    } else if (event.type === 'progress') bar.update(event.fraction, note);
    else {
      if (event.type === 'result') rows.push(event.record.result);
      else failures.push(event.failure);
      note = `${event.done}/${event.total} points${failures.length ? `, ${failures.length} failed` : ''}`;
      bar.update(event.fraction, note);
    }
  }
  bar.done(note);
  rows.sort((a, b) => a.dataset.localeCompare(b.dataset) || (a.rho ?? 0) - (b.rho ?? 0) || a.activation.localeCompare(b.activation) || a.depth - b.depth || a.weightDecay - b.weightDecay || a.hsr - b.hsr || a.width - b.width || a.seed - b.seed);
  return { rows, failures, resumed, workers, blasThreads, seconds: (Date.now() - started) / 1000 };
}

/** Significant digits, in exponent form for very small or large magnitudes (table columns stay narrow). */
export function sig(value: number | null, digits: number): string {
  if (value === null || !Number.isFinite(value)) return '—';
  const a = Math.abs(value);
  if (a === 0) return '0';
  return a >= 1e-3 && a < 1e5 ? value.toPrecision(digits) : value.toExponential(digits - 1);
}

/** Axes that take more than one value in these rows (each gets a table column). */
export function variedAxes(rows: readonly SweepResult[]): Array<keyof SweepResult> {
  const axes: Array<keyof SweepResult> = ['dataset', 'rho', 'activation', 'depth', 'weightDecay', 'hsr'];
  return axes.filter((a) => new Set(rows.map((r) => r[a])).size > 1);
}

function shortDataset(id: string): string {
  return id.replace(/^synthetic:/, 'syn:').replace(/,seed=0,teacher=mlp$/, '').replace(/^file:.*[\\/]/, '');
}

export function sweepTable(rows: readonly SweepResult[]): string {
  const axes = variedAxes(rows).filter((a) => a !== 'rho' || !variedAxes(rows).includes('dataset'));
  const tested = rows.some((r) => r.testAccuracy !== null);
  const flagged = rows.some((r) => r.flags !== '');
  const header = [
    ...axes.map((a) => (a === 'weightDecay' ? 'wd' : String(a))),
    'width', 'seed', 'params', 'loss', 'grad norm', 'lambda_max', 'WS bound', 'bound/lmax',
    'train acc', ...(tested ? ['test acc'] : []), ...(flagged ? ['flags'] : []), 'seconds',
  ];
  const body = rows.map((r) => [
    ...axes.map((a) => (a === 'dataset' ? shortDataset(r.dataset) : String(r[a]))),
    `${String(r.width)}${r.flags ? '!' : ''}`,
    String(r.seed),
    String(r.parameters),
    sig(r.loss, 3),
    `${sig(r.gradNorm, 2)}${r.converged ? '' : '*'}`,
    sig(r.lambdaMax, 4),
    `${sig(r.bound, 4)}${r.boundEstimated ? '~' : ''}`,
    r.ratio === null ? '—' : r.ratio.toFixed(3),
    `${(100 * r.trainAccuracy).toFixed(1)}%`,
    ...(tested ? [r.testAccuracy === null ? '—' : `${(100 * r.testAccuracy).toFixed(1)}%`] : []),
    ...(flagged ? [r.flags || '-'] : []),
    r.seconds.toFixed(2),
  ]);
  const notes: string[] = [];
  if (flagged) notes.push('! flagged point (see the flags column and docs/diagnostics.md): not a well-defined trained point; left out of summaries');
  if (rows.some((r) => !r.converged)) notes.push('* training stopped before its stopping rule was met (maxSteps or a stall)');
  if (rows.some((r) => r.boundEstimated)) notes.push('~ traces estimated by Hutch++ (deeper nets too large for exact traces)');
  return [table(header, body), ...notes].join('\n');
}

export function writePlot(path: string, rows: readonly SweepResult[]): void {
  const svg = sweepPlotSvg(rows);
  try {
    writeFileSync(path, svg);
  } catch (err) {
    fail('IO', `cannot write ${path}: ${(err as Error).message}`);
  }
}

/** The failures as stderr lines, or '' when there were none. */
export function describeFailures(failures: readonly SweepFailure[]): string {
  if (failures.length === 0) return '';
  const lines = failures.map((f) => `  width ${f.spec.width}, depth ${f.spec.depth}, seed ${f.spec.seed}${f.spec.hsr ? `, hsr ${f.spec.hsr}` : ''}: [${f.error.code}] ${f.error.message.split('\n')[0]}`);
  return `hessbound: ${failures.length} point(s) failed (not written; --resume retries them):\n${lines.join('\n')}\n`;
}
