/**
 * Bench C: the closed-form WS bound (kernel command "traces") on digits, one-hidden-layer tanh MLPs
 * of growing width: dual versus primal evaluation (and which one `auto` picks), against the exact
 * lambda_max by Lanczos and, while the Hessian is small enough, the dense eigen-solve. Every figure
 * is the fastest of `repeat` runs in this one process, so the ratios come from one run.
 *
 *   node --import tsx bench/closed-form.ts [--widths 16,64,256,1024] [--repeat 3] [--quick] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

import { getBackend } from '../src/backend/select.js';
import type { KernelBackend, ProblemSpec } from '../src/backend/types.js';
import { closedFormTraces } from '../src/bound.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { toProblemSpec } from '../src/problem.js';

export interface ClosedFormRow {
  dataset: string;
  width: number;
  parameters: number;
  autoMethod: string;
  dual: number | null;
  primal: number | null;
  lanczos: number | null;
  dense: number | null;
  lambdaMax: number | null;
  upper: number;
  lanczosOverClosedForm: number | null;
  denseOverClosedForm: number | null;
}

/** Skip an evaluation whose multiply-add estimate predicts more than this many seconds. */
const MAX_PREDICTED_SECONDS = 60;
/** Rough sustained speed used only for that prediction (multiply-adds per second). */
const PREDICTION_RATE = 3e10;
/** Dense eigen-solve only up to this many parameters (P^2 doubles and an O(P^3) solve). */
const MAX_DENSE_PARAMETERS = 5000;

async function seconds(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

function median(values: number[]): number {
  const v = [...values].sort((x, y) => x - y);
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : 0.5 * (v[mid - 1]! + v[mid]!);
}

/**
 * Closed form (dual, primal) and Lanczos timed in turn, `repeat` rounds, so that load from other
 * processes hits them alike: times are the fastest round, the ratio is the median of per-round ratios.
 */
async function measure(backend: KernelBackend, dataset: string, width: number, repeat: number): Promise<ClosedFormRow> {
  const data = loadDataset(dataset);
  const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation: 'tanh', seed: 0 });
  const spec: ProblemSpec = toProblemSpec(model, data);
  const probe = await closedFormTraces(backend, spec, { method: 'auto' });
  const cost = probe.cost!;
  const feasible = (madds: number) => madds / PREDICTION_RATE <= MAX_PREDICTED_SECONDS;
  const lanczosOptions = { method: 1, which: 0, k: 1, tolerance: 1e-10 };
  const lanczos = JSON.parse(await backend.run('analyze', spec, lanczosOptions)) as { lambdaMax: number };
  const times = { dual: [] as number[], primal: [] as number[], lanczos: [] as number[], ratio: [] as number[] };
  for (let i = 0; i < repeat; i++) {
    const dual = feasible(cost.dual) ? await seconds(() => closedFormTraces(backend, spec, { method: 'dual' })) : Infinity;
    const primal = feasible(cost.primal) ? await seconds(() => closedFormTraces(backend, spec, { method: 'primal' })) : Infinity;
    const lz = await seconds(() => backend.run('analyze', spec, lanczosOptions));
    times.dual.push(dual);
    times.primal.push(primal);
    times.lanczos.push(lz);
    times.ratio.push(lz / Math.min(dual, primal));
  }
  let dense: number | null = null;
  if (probe.parameters <= MAX_DENSE_PARAMETERS) dense = await seconds(() => backend.run('analyze', spec, { method: 0 }));
  const best = (v: number[]) => (Number.isFinite(Math.min(...v)) ? Math.min(...v) : null);
  return {
    dataset,
    width,
    parameters: probe.parameters,
    autoMethod: probe.method,
    dual: best(times.dual),
    primal: best(times.primal),
    lanczos: best(times.lanczos),
    dense,
    lambdaMax: lanczos.lambdaMax,
    upper: probe.bound.upper,
    lanczosOverClosedForm: median(times.ratio),
    denseOverClosedForm: dense === null ? null : dense / Math.min(...times.dual, ...times.primal),
  };
}

const fmt = (s: number | null) => (s === null ? '—' : s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);

function printRow(r: ClosedFormRow): void {
  const ratio = (x: number | null) => (x === null ? '—' : `${x.toFixed(2)}x`);
  console.log(
    [r.dataset.padEnd(7), String(r.width).padStart(5), String(r.parameters).padStart(8), r.autoMethod.padEnd(6),
      fmt(r.dual).padStart(10), fmt(r.primal).padStart(10), fmt(r.lanczos).padStart(10), fmt(r.dense).padStart(10),
      ratio(r.lanczosOverClosedForm).padStart(14), ratio(r.denseOverClosedForm).padStart(12),
      (r.upper / (r.lambdaMax ?? NaN)).toFixed(1).padStart(10)].join(' '),
  );
}

export async function runClosedForm(opt: { quick: boolean; widths?: number[]; repeat?: number }): Promise<ClosedFormRow[]> {
  console.log('\n== Bench C: closed-form traces (WS bound) vs Lanczos lambda_max ==');
  const backend = await getBackend('native');
  const repeat = opt.repeat ?? (opt.quick ? 1 : 3);
  const widths = opt.widths ?? (opt.quick ? [16, 64] : [16, 64, 256, 1024]);
  console.log('dataset width        P auto         dual     primal    lanczos      dense lanczos/closed dense/closed upper/lmax');
  const rows: ClosedFormRow[] = [];
  for (const [dataset, list] of [['iris', [16, 64, 256]], ['digits', widths]] as const)
    for (const width of list) {
      const row = await measure(backend, dataset, width, repeat);
      printRow(row);
      rows.push(row);
    }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const widths = value('--widths')?.split(',').map(Number);
  const repeat = value('--repeat') ? Number(value('--repeat')) : undefined;
  const rows = await runClosedForm({ quick: args.includes('--quick'), widths, repeat });
  const json = value('--json');
  if (json) writeFileSync(json, JSON.stringify(rows, null, 2));
}

