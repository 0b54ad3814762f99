/** hessbound study: the sharpness-versus-generalization study over a small grid (docs/measures.md, "The study"). */
import { writeFileSync } from 'node:fs';
import { fail } from '../../errors.js';
import { MEASURE_NAMES, RHO_MEASURE_NAMES } from '../../study/measure-registry.js';
import { STUDY_AXES, study, studyDataText, type StudyResult } from '../../study/study.js';
import { MINIBATCH_OPTIMIZERS } from '../../train.js';
import { choice, int, num, parse, str, type ParsedValues } from '../args.js';
import { fmt, keyValueTable, table } from '../format.js';
import { studyPlotSvg } from '../../plot/study-plot.js';
import { studyReportMarkdown } from '../../study/report.js';
import { createProgressBar } from '../progress.js';
import type { Subcommand } from '../registry.js';
import { backendOf, loadData } from '../sources.js';
import { QUEUE_HELP, QUEUE_OPTIONS, queueExecutorOf, queueSummary } from '../queue-options.js';
import { DATASET_NAMES } from '../../node/datasets.js';
import { loadDataById } from '../../node/dataset-ids.js';
import { createWorkerPool } from '../../node/sweep-pool.js';
import { writeContentCache } from '../../queue/content-data.js';
import { parseActivation } from '../../model.js';

const HELP = `hessbound study — train a grid of networks to the same training loss, measure each, and rank-correlate
every measure with the generalization gap (Kendall's tau and Jiang et al.'s granulated tau, bootstrap intervals)

Usage: hessbound study (--data FILE | --dataset NAME) --target-loss X [options]

  --data FILE | --dataset NAME   the data (as in hessbound train); --no-standardize, --data-x/--data-y too
  --target-loss X         train every network until its training cross-entropy is <= X (required); networks
                          that stop before are left out of the statistics and counted
  --widths LIST           hidden widths, e.g. 4,8 (default 8)
  --depths LIST           hidden layers, e.g. 1,2 (default 1)
  --seeds LIST            initialisation / label-noise / shuffle seeds (default 0,1)
  --weight-decay LIST     e.g. 0,1e-3 (default 0)
  --label-noise LIST      fractions of training labels set to another class, seeded (default 0)
  --lr LR, --lrs LIST     learning rates (default 0.01)
  --batch-size B, --batch-sizes LIST   mini-batch sizes, 0 for full batch (default 0; mini-batch points
                          use --epochs E and --optimizer adam|sgd)
  --activation A, --activations LIST   e.g. tanh,relu,leaky_relu (default tanh)
  --train-sizes LIST      training-set sizes: nested seeded subsamples of the training split (default all)
  --rhos LIST             synthetic data (--dataset synthetic:n=300,d=32,classes=3): pairwise input cosines
  --measures LIST|all     default all: ${MEASURE_NAMES.join(', ')};
                          ${RHO_MEASURE_NAMES.join(', ')} also at one radius: NAME@rho=X
  --sharpness-rhos LIST   the adaptive measures over a rho grid: one column NAME@rho=X per rho
  --test-fraction F       held-out fraction, stratified (default 0.3); --split-seed S (default 0)
  --max-steps N           training budget per network (default as hessbound train)
  --resamples N           bootstrap resamples (default 200)
  --json FILE             write the whole result (protocol, every network, statistics)
  --csv FILE              write one row per network (axes, stop reason, losses, gap, measures)
  --report FILE           write a markdown report: protocol, counts, what was left out, tau per measure
  --plot FILE             write an SVG chart of tau and granulated tau per measure with intervals
  --backend B             native | wasm | wasm-threads
  --workers W             train and measure W networks at once on worker threads (default 1: in this
                          process); the same numbers as one at a time for the same BLAS thread count
${QUEUE_HELP}
                          (each network is a queue job; start 'hessbound worker' processes; docs/distributed.md)
  --quiet                 no progress bar`;

function numberList(values: ParsedValues, name: string, fallback: number[], integer: boolean): number[] {
  const v = str(values, name);
  if (v === undefined) return fallback;
  const parts = v.split(',').map((s) => s.trim());
  const list = parts.map(Number);
  if (parts.some((s) => s === '') || list.some((n) => (integer ? !Number.isSafeInteger(n) || n < 0 : !Number.isFinite(n))))
    fail('BAD_OPTION', `--${name} must be a comma-separated list of ${integer ? 'non-negative integers' : 'numbers'}, got '${v}'`);
  return list;
}

/** A singular flag (one value) or its plural (a list), not both. */
function oneOrList(values: ParsedValues, single: string, plural: string, integer: boolean): number[] | undefined {
  if (str(values, single) !== undefined && str(values, plural) !== undefined) fail('BAD_OPTION', `give either --${single} or --${plural}, not both`);
  return str(values, plural) !== undefined ? numberList(values, plural, [], integer) : str(values, single) !== undefined ? numberList(values, single, [], integer) : undefined;
}

export function studyCsv(r: StudyResult): string {
  const head = [...STUDY_AXES, 'stopReason', 'reached', 'trainLoss', 'trainAccuracy', 'testAccuracy', 'gap', ...r.protocol.measures];
  const rows = r.networks.map((n) => [...STUDY_AXES.map((a) => n.axes[a] ?? ''), n.stopReason, n.reached, n.trainLoss, n.trainAccuracy, n.testAccuracy, n.gap, ...r.protocol.measures.map((m) => n.measures[m] ?? '')]);
  return [head, ...rows].map((row) => row.map((v) => (v === null ? '' : String(v))).join(',')).join('\n') + '\n';
}

function interval(i: { low: number | null; high: number | null }): string {
  return i.low === null || i.high === null ? '' : `[${fmt(i.low, 2)}, ${fmt(i.high, 2)}]`;
}

export function studyTable(r: StudyResult): string {
  const stops = new Map<string, number>();
  for (const n of r.networks.filter((x) => !x.reached)) stops.set(n.stopReason, (stops.get(n.stopReason) ?? 0) + 1);
  const head = keyValueTable([
    ['protocol', `train to training cross-entropy <= ${r.protocol.targetLoss}; gap = train - test accuracy (${r.protocol.trainSamples} / ${r.protocol.testSamples} samples)`],
    ['networks', `${r.networks.length} trained, ${r.reached} reached the target, ${r.excluded} left out${stops.size ? ` (stopped by ${[...stops].map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`],
    ['axes varied', r.protocol.axes.join(', ') || 'none (granulated tau undefined)'],
    ['backend', r.protocol.backend],
    ...(r.note ? ([['note', r.note]] as Array<[string, string]>) : []),
  ]);
  const rows = r.statistics.map((s) => [s.measure, String(s.networks), s.tau === null ? 'n/a' : fmt(s.tau, 3), interval(s.tauInterval), s.granulated === null ? 'n/a' : fmt(s.granulated, 3), interval(s.granulatedInterval)]);
  return `${head}\n\n${table(['measure', 'networks', 'tau', '95% interval', 'granulated tau', '95% interval'], rows)}`;
}

async function run(argv: string[]): Promise<void> {
  const values = parse(argv, {
    data: { type: 'string' }, dataset: { type: 'string' }, 'no-standardize': { type: 'boolean' }, 'no-header': { type: 'boolean' },
    classes: { type: 'string' }, 'data-x': { type: 'string' }, 'data-y': { type: 'string' }, backend: { type: 'string' },
    'target-loss': { type: 'string' }, widths: { type: 'string' }, depths: { type: 'string' }, seeds: { type: 'string' },
    'weight-decay': { type: 'string' }, 'label-noise': { type: 'string' }, measures: { type: 'string' }, activation: { type: 'string' },
    'test-fraction': { type: 'string' }, 'split-seed': { type: 'string' }, 'max-steps': { type: 'string' }, 'batch-size': { type: 'string' },
    epochs: { type: 'string' }, optimizer: { type: 'string' }, lr: { type: 'string' }, resamples: { type: 'string' },
    lrs: { type: 'string' }, 'batch-sizes': { type: 'string' }, activations: { type: 'string' }, 'train-sizes': { type: 'string' },
    rhos: { type: 'string' }, 'sharpness-rhos': { type: 'string' },
    json: { type: 'string' }, csv: { type: 'string' }, plot: { type: 'string' }, report: { type: 'string' }, quiet: { type: 'boolean' },
    workers: { type: 'string' },
    ...QUEUE_OPTIONS,
  });
  if (str(values, 'plot') === '') fail('BAD_OPTION', '--plot needs a file name');
  const targetLoss = num(values, 'target-loss') ?? fail('BAD_OPTION', '--target-loss is required', 'e.g. --target-loss 0.05: every network is trained to the same training loss');
  const name = str(values, 'dataset')?.trim();
  // Synthetic and embedded (standardized) data sets stay ids: the jobs name them, and the study makes one data
  // set per --rhos value from a synthetic one. Other data (files, --no-standardize) travels by content.
  const byId = name !== undefined && str(values, 'data') === undefined && str(values, 'data-x') === undefined &&
    (name.toLowerCase().startsWith('synthetic:') || ((DATASET_NAMES as readonly string[]).includes(name.toLowerCase().replace(/-/g, '_')) && !values['no-standardize']));
  const data = byId ? name : loadData(values);
  const backend = backendOf(values);
  const bar = createProgressBar('study', process.stderr, !values['quiet']);
  const maxSteps = int(values, 'max-steps', undefined, 1);
  const lrs = oneOrList(values, 'lr', 'lrs', false);
  const batchSizes = oneOrList(values, 'batch-size', 'batch-sizes', true);
  const epochs = int(values, 'epochs', undefined, 1);
  if (str(values, 'activation') !== undefined && str(values, 'activations') !== undefined) fail('BAD_OPTION', 'give either --activation or --activations, not both');
  const activationText = str(values, 'activations') ?? str(values, 'activation');
  const activations = activationText?.split(',').map((a) => parseActivation(a.trim()));
  const trainSizes = str(values, 'train-sizes') !== undefined ? numberList(values, 'train-sizes', [], true) : undefined;
  const rhos = str(values, 'rhos') !== undefined ? numberList(values, 'rhos', [], false) : undefined;
  const sharpnessRhos = str(values, 'sharpness-rhos') !== undefined ? numberList(values, 'sharpness-rhos', [], false) : undefined;
  const minibatch = batchSizes?.some((b) => b > 0) ?? false;
  if (!minibatch && (epochs !== undefined || values['optimizer'] !== undefined)) fail('BAD_OPTION', '--epochs and --optimizer apply to mini-batch training', 'add --batch-size B (or --batch-sizes with a size > 0)');
  const testFraction = num(values, 'test-fraction');
  const splitSeed = int(values, 'split-seed');
  const resamples = int(values, 'resamples', undefined, 1);
  const workers = int(values, 'workers', undefined, 1);
  const dataText = typeof data === 'string' ? undefined : studyDataText(data);
  const queue = await queueExecutorOf(values, workers, backend, dataText ? [dataText] : []);
  // Worker threads load in-memory data by content id from the local cache (as sweep --data does).
  if (workers !== undefined && workers > 1 && dataText) writeContentCache(dataText.id, dataText.text);
  const pool = workers !== undefined && workers > 1 ? createWorkerPool({ workers, ...(backend ? { backend } : {}) }) : undefined;
  const executor = queue ?? pool;
  const result = await study(data, {
    grid: {
      widths: numberList(values, 'widths', [8], true),
      depths: numberList(values, 'depths', [1], true),
      seeds: numberList(values, 'seeds', [0, 1], true),
      weightDecays: numberList(values, 'weight-decay', [0], false),
      labelNoise: numberList(values, 'label-noise', [0], false),
      ...(lrs ? { lrs } : {}),
      ...(batchSizes ? { batchSizes } : {}),
      ...(activations ? { activations } : {}),
      ...(trainSizes ? { trainSizes } : {}),
      ...(rhos ? { rhos } : {}),
    },
    targetLoss,
    measures: str(values, 'measures') ?? 'all',
    ...(sharpnessRhos ? { sharpnessRhos } : {}),
    ...(maxSteps !== undefined ? { maxSteps } : {}),
    ...(minibatch ? { optimizer: choice(values, 'optimizer', MINIBATCH_OPTIMIZERS, 'adam') } : {}),
    ...(epochs !== undefined ? { epochs } : {}),
    ...(testFraction !== undefined ? { testFraction } : {}),
    ...(splitSeed !== undefined ? { splitSeed } : {}),
    ...(resamples !== undefined ? { resamples } : {}),
    ...(backend ? { backend } : {}),
    ...(queue ? { executor: queue, backend: queue.backend } : pool ? { executor: pool } : {}),
    loadData: loadDataById,
    onNetwork: (done, total) => bar.update(done / total),
  }).finally(() => executor?.close());
  bar.done();

  const json = str(values, 'json');
  const csv = str(values, 'csv');
  if (json) writeFileSync(json, `${JSON.stringify(result, null, 1)}\n`);
  if (csv) writeFileSync(csv, studyCsv(result));
  const plot = str(values, 'plot');
  if (plot) writeFileSync(plot, studyPlotSvg(result));
  const report = str(values, 'report');
  if (report) writeFileSync(report, studyReportMarkdown(result));
  process.stdout.write(`${studyTable(result)}\n`);
  if (queue) process.stdout.write(`\n${result.networks.length} network(s) trained and measured ${queueSummary(queue, queue.workers)}\n`);
}

export const studyCommand: Subcommand = { name: 'study', summary: 'sharpness vs generalization: train a grid to one loss, rank-correlate every measure with the gap', help: HELP, run };
