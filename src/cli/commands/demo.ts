/** hessbound demo: the main job on an embedded default, a small width sweep on iris in seconds. */
import { join, resolve } from 'node:path';
import { fail } from '../../errors.js';
import { parseActivation } from '../../model.js';
import type { SweepGrid } from '../../sweep/job.js';
import type { SweepResult } from '../../sweep/result.js';
import { int, parse, str } from '../args.js';
import { table } from '../format.js';
import { checkPlotPath } from '../plot-path.js';
import type { Subcommand } from '../registry.js';
import { backendOf } from '../sources.js';
import { runSweepWithProgress, sig, sweepTable, writePlot } from '../sweep-report.js';
import { TRAINING_OPTIONS, trainingOptions } from './train.js';

/**
 * Weight decay 1e-3 (the sweep default) gives every point a finite minimiser, so lambda_max is a
 * property of the network, not of the tolerance; a fifth of each class is held out for testing.
 */
export const DEMO_GRID: SweepGrid = { dataset: 'iris', activation: 'tanh', widths: [4, 8, 16, 32, 64], seeds: 3, depth: 1, weightDecay: 1e-3, testFraction: 0.2 };

const HELP = `hessbound demo — how sharpness and the Wolkowicz–Styan bound change with width, on iris

Usage: hessbound demo [--out-dir DIR] [--workers W] [--backend native|wasm] [--quiet] [--activation A]
                      [--weight-decay WD] [--target-loss L] [--grad-tol T] [--max-steps N]
                      [--test-fraction F | --test-data FILE] [--split-seed S]

Trains one-hidden-layer tanh MLPs (or --activation A: relu, leaky_relu, gelu, ...) of widths ${DEMO_GRID.widths.join(', ')} on 80% of iris (${String(DEMO_GRID.seeds)} seeds each,
weight decay ${String(DEMO_GRID.weightDecay)}) to a minimiser, then computes the closed-form WS bound and the exact
lambda_max of each (cross-entropy Hessian on the training samples) and the accuracy on the held-out
20%. Flagged points (docs/diagnostics.md) are marked and left out of the medians. Prints a table and
writes hessbound-demo.csv, hessbound-demo.jsonl and hessbound-demo.svg (the plot) in DIR (default:
the current directory). The same as:
  hessbound sweep --dataset iris [--activation A] --widths ${DEMO_GRID.widths.join(',')} --seeds ${String(DEMO_GRID.seeds)} --weight-decay ${String(DEMO_GRID.weightDecay)} --test-fraction ${String(DEMO_GRID.testFraction)} --out hessbound-demo.csv --plot hessbound-demo.svg --overwrite`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Medians per width over the unflagged points: the lines of the plot, as text. */
export function medianTable(rows: readonly SweepResult[]): string {
  const widths = [...new Set(rows.map((r) => r.width))].sort((a, b) => a - b);
  const body = widths.map((w) => {
    const all = rows.filter((r) => r.width === w);
    const at = all.filter((r) => !r.flags);
    const ratios = at.map((r) => r.ratio).filter((v): v is number => v !== null);
    const tests = at.map((r) => r.testAccuracy).filter((v): v is number => v !== null);
    const m = (vs: number[], f: (v: number) => string) => (vs.length ? f(median(vs)) : '—');
    return [
      String(w),
      String(all[0]?.parameters ?? ''),
      `${at.length}/${all.length}`,
      m(at.map((r) => r.lambdaMax), (v) => sig(v, 4)),
      m(at.map((r) => r.bound), (v) => sig(v, 4)),
      m(ratios, (v) => v.toFixed(3)),
      m(tests, (v) => `${(100 * v).toFixed(1)}%`),
    ];
  });
  return table(['width', 'params', 'unflagged', 'median lambda_max', 'median WS bound', 'median bound/lmax', 'median test acc'], body);
}

/** The closing summary: medians over unflagged points only, saying how many were left out. */
export function summaryLine(rows: readonly SweepResult[]): string {
  const kept = rows.filter((r) => !r.flags);
  const left = rows.length - kept.length;
  const ratios = kept.map((r) => r.ratio).filter((v): v is number => v !== null);
  const tests = kept.map((r) => r.testAccuracy).filter((v): v is number => v !== null);
  if (ratios.length === 0) return `All ${rows.length} points are flagged; no summary.`;
  return (
    `Over the ${kept.length} unflagged networks (${left} flagged, left out): median bound / lambda_max ${median(ratios).toFixed(3)}` +
    ` (range ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})` +
    (tests.length ? `; median test accuracy ${(100 * median(tests)).toFixed(1)}%` : '') +
    '.'
  );
}

async function run(argv: string[]): Promise<void> {
  const values = parse(argv, { 'out-dir': { type: 'string' }, workers: { type: 'string' }, backend: { type: 'string' }, quiet: { type: 'boolean' }, 'test-data': { type: 'string' }, activation: { type: 'string' }, ...TRAINING_OPTIONS });
  // The protocol options override the demo's defaults (the same meaning as in train and sweep).
  const training = trainingOptions(values);
  const testData = str(values, 'test-data');
  if (testData !== undefined && training.testFraction !== undefined) fail('BAD_OPTION', 'give --test-fraction or --test-data, not both');
  const activation = parseActivation(str(values, 'activation') ?? DEMO_GRID.activation);
  const grid: SweepGrid = { ...DEMO_GRID, activation, ...training, ...(testData !== undefined ? { testFraction: 0, testData: `file:${resolve(testData)}` } : {}) };
  const dir = str(values, 'out-dir') ?? '.';
  const workers = int(values, 'workers', undefined, 1);
  const backend = backendOf(values);
  const csvPath = join(dir, 'hessbound-demo.csv');
  const svgPath = join(dir, 'hessbound-demo.svg');
  checkPlotPath(svgPath, '--out-dir');
  process.stdout.write(
    `hessbound demo: ${activation} MLPs with one hidden layer of width ${grid.widths.join(', ')} on iris (150 samples, 4 features, 3 classes;\n` +
      `${grid.testData ? `tested on ${testData}` : `${150 - Math.round(150 * (grid.testFraction ?? 0))} for training, ${Math.round(150 * (grid.testFraction ?? 0))} held out`}), ${String(grid.seeds)} seeds each, weight decay ${String(grid.weightDecay)}, trained to gradient norm <= ${(grid.gradTol ?? 1e-6).toExponential(0)}${grid.targetLoss ? ` or loss <= ${grid.targetLoss}` : ''};\n` +
      `then the closed-form Wolkowicz–Styan bound and the exact lambda_max of the cross-entropy Hessian on the training samples.\n\n`,
  );
  const result = await runSweepWithProgress(
    { grid, ...(workers !== undefined ? { workers } : {}), ...(backend ? { backend } : {}), files: { csvPath, overwrite: true } },
    !values['quiet'],
  );
  if (result.failures.length > 0) fail('KERNEL', `${result.failures.length} demo point(s) failed: ${result.failures[0]?.error.message ?? ''}`);
  writePlot(svgPath, result.rows);
  process.stdout.write(`${sweepTable(result.rows)}\n\nPer width (the lines of the plot):\n${medianTable(result.rows)}\n\n`);
  process.stdout.write(`${summaryLine(result.rows)}\n\n`);
  process.stdout.write(
    `Wrote ${csvPath} (one row per network), ${csvPath.replace(/\.csv$/, '.jsonl')} (with training curves) and ${svgPath} (the plot).\n` +
      `${result.rows.length} networks in ${result.seconds.toFixed(1)} s on ${result.workers} worker(s).\n`,
  );
}

export const demoCommand: Subcommand = { name: 'demo', summary: 'a small width sweep on iris: table and plot in seconds', help: HELP, run };
