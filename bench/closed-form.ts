/**
 * Bench C (issue 3): the closed-form WS bound (kernel command "traces": tr(H), tr(H^2) and the five
 * WS numbers) against the exact lambda_max by Lanczos (largest end) and against the dense Hessian
 * with its full spectrum, on digits (N = 1797) over widths 16..4096; the dual (Gram) against the
 * primal (block) evaluation and their crossover; and where the closed form wins: small N (digits'
 * first N samples at width 1024; iris and wine).
 *
 * One-hidden-layer tanh MLPs at hessbound's seeded Glorot initialisation (seed 0), standardized
 * data, native backend. The closed form is timed without the data-orthogonality summary
 * (`orthogonality: false`, as analyze() and the sweep call it), i.e. the traces and the bound only.
 *
 * Calls take milliseconds to tens of seconds, so instead of Benchmark.js (whose calibration cycles
 * would multiply the run time) each width is timed in interleaved rounds (dual, primal, Lanczos,
 * dense, then again), after one untimed warm-up call of each: times are medians with their ranges,
 * ratios the median of the per-round ratios, so load from other processes hits both sides alike.
 * A method whose predicted time exceeds the limit, or whose dense Hessian does not fit in memory,
 * is not run and is marked as such (the prediction uses the multiply-add counts and the rate
 * measured at the previous width).
 *
 *   npm run bench -- closed-form [--quick] [--widths 16,64,1024] [--samples 3]
 *   node --import tsx bench/closed-form.ts [--quick] [--widths ...] [--repeat 3] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

import { getBackend } from '../src/backend/select.js';
import type { KernelBackend, ProblemSpec } from '../src/backend/types.js';
import { closedFormTraces, type ClosedFormTraces } from '../src/bound.js';
import { denseBytes, formatBytes, memoryBudget } from '../src/memory.js';
import { loadDataset, randomModel, type Dataset } from '../src/index.js';
import { toProblemSpec } from '../src/problem.js';
import { buildStamps, printBuildStamps, type BuildStamps } from './lib/builds.js';
import { DEFAULT_OPTIONS, QUICK_OPTIONS, type BenchOptions } from './lib/options.js';
import { fmtRatio, fmtSeconds, summarize, type Summary } from './lib/stats.js';

export const DIGITS_WIDTHS = [16, 32, 64, 96, 128, 256, 512, 1024, 2048, 4096];
const QUICK_WIDTHS = [16, 64, 1024];
/** Width and sample counts of the small-N scan (digits' first N samples). */
const N_SCAN_WIDTH = 1024;
const N_SCAN = [75, 150, 300, 600, 1200];
const QUICK_N_SCAN = [150, 600];
/** Other small data sets (N = 150 and 178). */
const SMALL_SETS: { dataset: 'iris' | 'wine'; widths: number[] }[] = [
  { dataset: 'iris', widths: [16, 256, 1024, 4096] },
  { dataset: 'wine', widths: [16, 256, 1024, 4096] },
];
const QUICK_SMALL_SETS: typeof SMALL_SETS = [{ dataset: 'iris', widths: [16, 1024] }];

/** Run a method only while its predicted time per call is below this (seconds); quick: 10. */
const LIMIT_SECONDS = 90;
const QUICK_LIMIT_SECONDS = 10;
/** In the small-N scan and the small data sets: the limit for the evaluation auto does not pick (seconds). */
const SCAN_OTHER_LIMIT = 5;
/** A method predicted above this (seconds per call) is timed in one round only. */
const ONE_ROUND_ABOVE = 20;
/** Initial guesses before anything was measured: multiply-adds per second (closed form), flops per second (eigensolve). */
const INITIAL_MADD_RATE = 1e10;
const INITIAL_EIGEN_FLOPS = 1e10;

const LANCZOS = { method: 1, which: 0, k: 1, tolerance: 1e-10, maxIterations: 300, seed: 0 };

export type Status = 'measured' | 'too slow' | 'beyond memory' | 'not applicable';

export interface MethodTiming {
  status: Status;
  /** Seconds per call, over the rounds it ran in; null when it did not run. */
  seconds: Summary | null;
  /** Why it was not run: the prediction or the memory it needs. */
  note?: string;
}

export interface ClosedFormRow {
  dataset: string;
  samples: number;
  width: number;
  parameters: number;
  /** What `auto` picks, and the multiply-add counts it compares. */
  autoMethod: string;
  cost: { dual: number; primal: number };
  dual: MethodTiming;
  primal: MethodTiming;
  lanczos: MethodTiming & { products: number; lambdaMax: number; residual: number };
  dense: MethodTiming & { hessian?: number; eigen?: number };
  /** Median over rounds: Lanczos time / closed form (auto's pick; the faster of the two when auto's pick did not run). */
  lanczosOverClosedForm: Summary | null;
  denseOverClosedForm: Summary | null;
  /** primal / dual time, per round (both measured). */
  primalOverDual: Summary | null;
  /** Was auto's pick the faster of the two (when both ran)? */
  autoPickedFaster: boolean | null;
  /** WS upper bound / lambda_max. */
  upperOverLambdaMax: number;
  /** Approximate multiply-adds: the closed form (auto's pick) and Lanczos (products x per-HVP count). */
  madds: { closedForm: number; lanczos: number };
}

export interface Crossover {
  /** Widths bracketing the measured crossover (primal faster below, dual above), or null. */
  between: [number, number] | null;
  /** Log-linear interpolation of primal/dual = 1 between them. */
  width: number | null;
  /** Where `auto` switches from primal to dual in this run. */
  autoSwitch: [number, number] | null;
}

export interface ClosedFormBenchResult {
  rounds: number;
  limitSeconds: number;
  digits: ClosedFormRow[];
  crossover: Crossover;
  nScan: ClosedFormRow[];
  smallSets: ClosedFormRow[];
  builds: { before: BuildStamps; after: BuildStamps };
}

async function seconds(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

/** The first n samples of a data set (digits' order is already mixed across classes). */
function headOf(data: Dataset, n: number): Dataset {
  if (n >= data.n) return data;
  return {
    n,
    d: data.d,
    classes: data.classes,
    x: data.x.slice(0, n * data.d),
    targets: data.targets.slice(0, n * data.classes),
    labels: data.labels ? data.labels.slice(0, n) : null,
    name: `${data.name ?? 'data'}[0:${n}]`,
  };
}

/** Approximate multiply-adds of one Hessian-vector product (docs, Bench B): two N x h x (d+1) GEMMs and six N x h x c. */
function hvpMadds(n: number, d: number, h: number, c: number): number {
  return n * h * (2 * (d + 1) + 6 * c);
}

/** Rates measured so far, to predict the next width's time: seconds = madds / rate (eigensolve: flops / rate). */
class Predictor {
  dual = INITIAL_MADD_RATE;
  primal = INITIAL_MADD_RATE;
  eigenFlops = INITIAL_EIGEN_FLOPS;
  /** Dense Hessian build (Kronecker blocks): seconds per P^2 entry times N, measured. */
  hessianPerEntrySample = 1 / INITIAL_MADD_RATE;

  denseSeconds(P: number, n: number): number {
    return (4 / 3) * P ** 3 / this.eigenFlops + P * P * n * this.hessianPerEntrySample;
  }
}

interface Context {
  backend: KernelBackend;
  rounds: number;
  limit: number;
  predictor: Predictor;
  budget: number;
}

/** `otherLimit`: the limit for the closed-form evaluation that auto does not pick (default: the bench's limit). */
async function measure(ctx: Context, dataset: string, data: Dataset, width: number, otherLimit = ctx.limit): Promise<ClosedFormRow> {
  const { backend, predictor } = ctx;
  const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation: 'tanh', seed: 0 });
  const spec: ProblemSpec = toProblemSpec(model, data);
  const traceOptions = { orthogonality: false } as const;
  // Untimed: auto's choice and the cost counts (this also warms up the forward pass and the tiles).
  const probe: ClosedFormTraces = await closedFormTraces(backend, spec, { ...traceOptions, method: 'auto' });
  const cost = probe.cost ?? { dual: Number.NaN, primal: Number.NaN };
  const P = probe.parameters;
  const n = data.n;

  const plan = (predicted: number, limit: number, memoryNeed?: number): MethodTiming & { predicted: number; rounds: number } => {
    if (memoryNeed !== undefined && memoryNeed > ctx.budget)
      return { status: 'beyond memory', seconds: null, note: `needs ${formatBytes(memoryNeed)}, budget ${formatBytes(ctx.budget)}`, predicted, rounds: 0 };
    if (predicted > limit) return { status: 'too slow', seconds: null, note: `predicted ~${fmtSeconds(predicted)} a call`, predicted, rounds: 0 };
    return { status: 'measured', seconds: null, predicted, rounds: predicted > ONE_ROUND_ABOVE ? 1 : ctx.rounds };
  };
  // The closed form is what this bench is about: auto's pick always runs; the other one within its limit.
  const dualPlan = plan(cost.dual / predictor.dual, probe.method === 'dual' ? Infinity : otherLimit);
  const primalPlan = plan(cost.primal / predictor.primal, probe.method === 'primal' ? Infinity : otherLimit);
  const densePlan = plan(predictor.denseSeconds(P, n), ctx.limit, denseBytes(P));

  const t = { dual: [] as number[], primal: [] as number[], lanczos: [] as number[], dense: [] as number[], hessian: [] as number[], eigen: [] as number[] };
  const lanczosRun = async () => JSON.parse(await backend.run('analyze', spec, LANCZOS)) as { lambdaMax: number; lanczos: { products: number; topResiduals: number[] } };
  const denseRun = async () => JSON.parse(await backend.run('analyze', spec, { method: 0, k: 1, maxDenseBytes: ctx.budget })) as { lambdaMax: number; seconds: Record<string, number> };
  // Warm-ups (untimed) of what runs in several rounds; single-round methods are too slow to repeat.
  const lz = await lanczosRun();
  if (probe.method !== 'primal' && primalPlan.rounds > 1) await closedFormTraces(backend, spec, { ...traceOptions, method: 'primal' });
  if (probe.method !== 'dual' && dualPlan.rounds > 1) await closedFormTraces(backend, spec, { ...traceOptions, method: 'dual' });
  if (densePlan.rounds > 1) await denseRun();

  const perRound: { lanczos: number; closed: number; dense: number; dual: number; primal: number }[] = [];
  for (let r = 0; r < ctx.rounds; r++) {
    const round = { lanczos: Number.NaN, closed: Number.NaN, dense: Number.NaN, dual: Number.NaN, primal: Number.NaN };
    if (r < dualPlan.rounds) t.dual.push((round.dual = await seconds(() => closedFormTraces(backend, spec, { ...traceOptions, method: 'dual' }))));
    if (r < primalPlan.rounds) t.primal.push((round.primal = await seconds(() => closedFormTraces(backend, spec, { ...traceOptions, method: 'primal' }))));
    t.lanczos.push((round.lanczos = await seconds(lanczosRun)));
    if (r < densePlan.rounds) {
      let phases: Record<string, number> = {};
      t.dense.push((round.dense = await seconds(async () => (phases = (await denseRun()).seconds))));
      t.hessian.push(phases['hessian'] ?? Number.NaN);
      t.eigen.push(phases['eigen'] ?? Number.NaN);
    }
    round.closed = probe.method === 'dual' ? round.dual : round.primal;
    perRound.push(round);
  }

  const timing = (p: MethodTiming, values: number[]): MethodTiming =>
    p.status === 'measured' ? { status: 'measured', seconds: summarize(values) } : { status: p.status, seconds: null, ...(p.note ? { note: p.note } : {}) };
  const ratioOf = (f: (r: (typeof perRound)[number]) => number): Summary | null => {
    const v = perRound.map(f).filter(Number.isFinite);
    return v.length ? summarize(v) : null;
  };
  // Update the rates for the next width's prediction (medians).
  const med = (v: number[]) => summarize(v).median;
  if (t.dual.length) predictor.dual = cost.dual / med(t.dual);
  if (t.primal.length) predictor.primal = cost.primal / med(t.primal);
  if (t.eigen.length) predictor.eigenFlops = ((4 / 3) * P ** 3) / med(t.eigen);
  if (t.hessian.length) predictor.hessianPerEntrySample = med(t.hessian) / (P * P * n);

  const closedMadds = probe.method === 'dual' ? cost.dual : cost.primal;
  const denseTiming = timing(densePlan, t.dense);
  return {
    dataset,
    samples: n,
    width,
    parameters: P,
    autoMethod: probe.method,
    cost,
    dual: timing(dualPlan, t.dual),
    primal: timing(primalPlan, t.primal),
    lanczos: {
      ...timing({ status: 'measured', seconds: null }, t.lanczos),
      products: lz.lanczos.products,
      lambdaMax: lz.lambdaMax,
      residual: lz.lanczos.topResiduals[0] ?? Number.NaN,
    },
    dense: { ...denseTiming, ...(t.hessian.length ? { hessian: med(t.hessian), eigen: med(t.eigen) } : {}) },
    lanczosOverClosedForm: ratioOf((r) => r.lanczos / r.closed),
    denseOverClosedForm: ratioOf((r) => r.dense / r.closed),
    primalOverDual: ratioOf((r) => r.primal / r.dual),
    autoPickedFaster: t.dual.length && t.primal.length ? (med(t.dual) < med(t.primal)) === (probe.method === 'dual') : null,
    upperOverLambdaMax: probe.bound.upper / lz.lambdaMax,
    madds: { closedForm: closedMadds, lanczos: lz.lanczos.products * hvpMadds(n, data.d, width, data.classes) },
  };
}

const HEADER =
  'data         N  width        P auto   dual                primal              Lanczos (HVPs)           dense                    Lanczos/closed     dense/closed   primal/dual  madds closed/Lanczos  upper/lmax';

function cell(m: MethodTiming): string {
  if (m.status === 'measured' && m.seconds) {
    const s = m.seconds;
    return s.n > 1 ? `${fmtSeconds(s.median)} (${fmtSeconds(s.min)}-${fmtSeconds(s.max)})` : `${fmtSeconds(s.median)} (1 run)`;
  }
  return m.status === 'too slow' ? `too slow: ${m.note?.replace('predicted ', '').replace(' a call', '')}` : m.status;
}

function ratioCell(s: Summary | null): string {
  if (!s) return '-';
  return s.n > 1 ? `${fmtRatio(s.median)} (${fmtRatio(s.min)}-${fmtRatio(s.max)})` : fmtRatio(s.median);
}

function printRow(r: ClosedFormRow): void {
  console.log(
    [
      r.dataset.padEnd(7), String(r.samples).padStart(5), String(r.width).padStart(6), String(r.parameters).padStart(8), r.autoMethod.padEnd(6),
      cell(r.dual).padEnd(19), cell(r.primal).padEnd(19), `${cell(r.lanczos)} ${r.lanczos.products}`.padEnd(24), cell(r.dense).padEnd(24),
      ratioCell(r.lanczosOverClosedForm).padEnd(18), ratioCell(r.denseOverClosedForm).padEnd(14), ratioCell(r.primalOverDual).padEnd(12),
      (r.madds.closedForm / r.madds.lanczos).toFixed(2).padStart(8), r.upperOverLambdaMax.toFixed(1).padStart(18),
    ].join(' '),
  );
}

function crossoverOf(rows: ClosedFormRow[]): Crossover {
  let between: [number, number] | null = null;
  let width: number | null = null;
  const both = rows.filter((r) => r.primalOverDual);
  for (let i = 1; i < both.length; i++) {
    const a = both[i - 1]!;
    const b = both[i]!;
    const ra = a.primalOverDual!.median;
    const rb = b.primalOverDual!.median;
    if (ra <= 1 && rb > 1) {
      between = [a.width, b.width];
      // log(ratio) linear in log(width)
      const f = Math.log(ra) / (Math.log(ra) - Math.log(rb));
      width = Math.exp(Math.log(a.width) + f * (Math.log(b.width) - Math.log(a.width)));
      break;
    }
  }
  let autoSwitch: [number, number] | null = null;
  for (let i = 1; i < rows.length; i++)
    if (rows[i - 1]!.autoMethod === 'primal' && rows[i]!.autoMethod === 'dual') autoSwitch = [rows[i - 1]!.width, rows[i]!.width];
  return { between, width, autoSwitch };
}

export async function runClosedForm(opt: BenchOptions, repeat?: number): Promise<ClosedFormBenchResult> {
  console.log('\n== Bench C: closed-form WS bound vs exact lambda_max (Lanczos) vs dense eigen-solve ==');
  const before = buildStamps();
  printBuildStamps(before, false);
  const backend = await getBackend('native');
  const rounds = repeat ?? (opt.quick ? 1 : Math.min(opt.samples, 3));
  const limit = opt.quick ? QUICK_LIMIT_SECONDS : LIMIT_SECONDS;
  const ctx: Context = { backend, rounds, limit, predictor: new Predictor(), budget: memoryBudget(backend) };
  const widths = opt.widths ?? (opt.quick ? QUICK_WIDTHS : DIGITS_WIDTHS);
  console.log(
    `tanh MLPs d-h-c, seed-0 Glorot initialisation, standardized data, native (${backend.linalg}); ${rounds} interleaved round(s) per width ` +
      `(one round for a method predicted above ${ONE_ROUND_ABOVE} s); a method predicted above ${limit} s a call is not run; ` +
      `dense memory budget ${formatBytes(ctx.budget)}. Closed form without the orthogonality summary. Lanczos: largest end, k = 1, tolerance 1e-10.` +
      (opt.quick ? ' (QUICK: a smoke test, not figures to quote)' : ''),
  );
  console.log('Times: median (min-max) over rounds. Ratios: median (min-max) of per-round ratios; closed = auto\'s pick.');
  console.log(`\n-- digits (N = 1797, d = 64, c = 10), widths ${widths.join(', ')} --`);
  console.log(HEADER);
  const digits = loadDataset('digits');
  const digitsRows: ClosedFormRow[] = [];
  for (const width of widths) {
    const row = await measure(ctx, 'digits', digits, width);
    printRow(row);
    digitsRows.push(row);
  }
  const crossover = crossoverOf(digitsRows);
  console.log(
    `dual vs primal: measured crossover ${crossover.between ? `between widths ${crossover.between.join(' and ')} (interpolated ~${crossover.width!.toFixed(0)})` : 'not bracketed by these widths'}; ` +
      `auto switches ${crossover.autoSwitch ? `between ${crossover.autoSwitch.join(' and ')}` : 'nowhere in this range'}` +
      `${digitsRows.some((r) => r.autoPickedFaster === false) ? `; auto picked the slower one at width(s) ${digitsRows.filter((r) => r.autoPickedFaster === false).map((r) => r.width).join(', ')}` : ''}`,
  );
  const at1024 = digitsRows.find((r) => r.width === 1024);
  if (at1024?.lanczosOverClosedForm) {
    const r = at1024.lanczosOverClosedForm.median;
    console.log(
      `issue 3 target, width 1024 on digits: closed form ${r >= 10 ? 'MET' : 'MISSED'} (target >= 10x faster than Lanczos' lambda_max; measured ${fmtRatio(r)}, ` +
        `i.e. the closed form takes ${fmtRatio(1 / r)} the time of Lanczos). Multiply-adds: closed form ${at1024.madds.closedForm.toExponential(2)}, ` +
        `Lanczos ${at1024.lanczos.products} HVPs x ${hvpMadds(1797, 64, 1024, 10).toExponential(2)} = ${at1024.madds.lanczos.toExponential(2)}`,
    );
  }

  const scan = opt.quick ? QUICK_N_SCAN : N_SCAN;
  console.log(`\n-- small N: digits' first N samples, width ${N_SCAN_WIDTH} (N = ${scan.join(', ')}; N = 1797 is above) --`);
  console.log(HEADER);
  const nScan: ClosedFormRow[] = [];
  for (const n of scan) {
    const row = await measure(ctx, 'digits', headOf(digits, n), N_SCAN_WIDTH, SCAN_OTHER_LIMIT);
    printRow(row);
    nScan.push(row);
  }

  console.log('\n-- small data sets: iris (N = 150, d = 4, c = 3), wine (N = 178, d = 13, c = 3) --');
  console.log(HEADER);
  const smallSets: ClosedFormRow[] = [];
  for (const { dataset, widths: ws } of opt.quick ? QUICK_SMALL_SETS : SMALL_SETS) {
    const data = loadDataset(dataset);
    // Rates differ by data set; start each set from fresh guesses.
    ctx.predictor = new Predictor();
    for (const width of ws) {
      const row = await measure(ctx, dataset, data, width, SCAN_OTHER_LIMIT);
      printRow(row);
      smallSets.push(row);
    }
  }
  const after = buildStamps();
  if (after.addon !== before.addon)
    console.log(`NOTE: the addon file was rebuilt during the bench (${before.addon} -> ${after.addon}); this process had loaded the earlier one`);
  return { rounds, limitSeconds: limit, digits: digitsRows, crossover, nScan, smallSets, builds: { before, after } };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const widths = value('--widths')?.split(',').map(Number);
  const repeat = value('--repeat') ? Number(value('--repeat')) : undefined;
  const base = args.includes('--quick') ? QUICK_OPTIONS : DEFAULT_OPTIONS;
  const result = await runClosedForm({ ...base, ...(widths ? { widths } : {}) }, repeat);
  const json = value('--json');
  if (json) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
}
