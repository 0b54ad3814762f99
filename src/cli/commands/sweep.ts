/** hessbound sweep: train and measure a grid of widths x seeds in parallel, streaming results to CSV. */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Activation } from '../../types.js';
import { fail, HessboundError, type ErrorCode } from '../../errors.js';
import { defaultJsonlPath } from '../../node/sweep-files.js';
import { JOB_DEFAULTS, type SweepGrid } from '../../sweep/job.js';
import { decimal, int, intList, num, parse, str, type ParsedValues } from '../args.js';
import { parseQueueUrl } from '../../queue/connection.js';
import type { TraceSplitConfig } from '../../split/tile-sums.js';
import type { Subcommand } from '../registry.js';
import { onInterrupt } from '../signals.js';
import { describeFailures, runSweepWithProgress, sweepTable, writePlot } from '../sweep-report.js';
import { backendOf, checkDatasetName, reductionOf } from '../sources.js';
import { checkPlotPath } from '../plot-path.js';
import { QUEUE_HELP, QUEUE_OPTIONS, queueExecutorOf, queueSummary } from '../queue-options.js';
import { SWEEP_DATA_HELP, SWEEP_DATA_OPTIONS, sweepFileData, sweepTestData } from '../sweep-data.js';
import { TRAINING_OPTIONS, trainingOptions } from './train.js';

const HELP = `hessbound sweep — lambda_max and the Wolkowicz–Styan bound at trained points, across widths and seeds

Usage: hessbound sweep --dataset NAME --widths LIST --seeds K [options]

  --dataset NAME          iris|wine|breast_cancer|digits, or synthetic:n=120,d=32,classes=3,rho=0.5[,seed=S]
  --datasets LIST         several data sets, e.g. iris,wine (one set of points each)
${SWEEP_DATA_HELP}
  --rhos LIST             synthetic data: one set of points per pairwise cosine, e.g. 0,0.5,0.9
                          (then rho may be left out of --dataset: synthetic:n=24,d=32,classes=3)
  --widths LIST           hidden widths, e.g. 4,8,16,32,64
  --seeds K               seeds 0..K-1 of the random initialisation (or a list, e.g. 0,5,9)
  --activation A          sigmoid|tanh|softplus|gelu|silu|identity|relu|leaky_relu (default ${JOB_DEFAULTS.activation};
                          leaky_relu with slope 0.01)
  --activations LIST      several, e.g. tanh,relu
  --depth D, --depths LIST   hidden layers, all of the same width (default 1; a list runs each)
  --weight-decay WD       L2 decay (sweep default ${JOB_DEFAULTS.weightDecay}: a finite minimiser, see docs/diagnostics.md)
  --weight-decays LIST    several, e.g. 0,1e-4,1e-3
  --hsr BETA, --hsrs LIST HSR training (one hidden layer; docs/hsr.md): add BETA x a WS bound to the
                          objective; a list runs each, e.g. 0,0.01,0.1 (0: plain training, same key as
                          without the option)
  --hsr-target T          upper (WS bound on lambda_max, default) or spread
  --target-loss L         stop training at this training cross-entropy (default 0: off)
  --test-fraction F       hold out F of each class for testing (same split for every point; --split-seed S)
  --test-data FILE        or a separate test file
  --save-models DIR       write each trained model to DIR/<key>.json
  --workers W             worker threads (default: one per core, ${availableParallelism()} here; at most
                          the cores unless --force)
  --force                 allow more --workers than cores
  --out FILE              results CSV (default results.csv), plus JSON lines next to it (.jsonl)
  --jsonl FILE            JSON lines somewhere else; --no-jsonl for none
  --plot FILE.svg         also write the SVG plot (lambda_max and bound vs width; their ratio)
  --resume                continue an interrupted sweep: points already in --out are skipped
  --overwrite             start --out afresh if it exists
  --grad-tol T, --max-steps N, --adam-steps N, --lr LR   training (see hessbound train --help)
  --batch-size B          mini-batch training (docs/training.md): B samples per batch, shuffles seeded
                          by the point's seed; then full-batch L-BFGS to --grad-tol (the protocol's
                          critical point) unless --no-polish. Its own keys and CSV columns.
  --epochs E, --optimizer adam|sgd, --momentum M, --check-every K, --no-polish   with --batch-size
  --dense-max-params N    lambda_max by a dense eigensolve up to N parameters, Lanczos above (default ${JOB_DEFAULTS.denseMaxParameters})
  --track K               also lambda_max and the WS bound every K training steps (in the JSON lines)
  --reduction mean|sum    loss reduction (default mean)
  --backend B             force a backend: native | wasm | wasm-threads
${QUEUE_HELP}
  --split-queue URL       points on local threads, but a point whose closed-form traces cost at least
                          --split-above multiply-adds (dual evaluation, one hidden layer) splits them
                          into tiles for 'hessbound worker' processes on that queue; same bits as a
                          local dual run (docs/distributed.md). Not with --queue
  --split-above M         the threshold in multiply-adds (default 1e11, about a minute on one core)
  --tiles-per-job K       tiles per queue job of a split point (default 8)
  --json                  print the rows as one JSON object instead of the table
  --quiet                 no progress bar

Each point: random init (seed) -> train (to the gradient tolerance or target loss) -> closed-form
traces and WS bound -> exact lambda_max -> diagnostics. Every varied axis is a CSV column; flagged
points (column flags) are marked in the table and drawn hollow in grey in the plot. Rows are appended to the CSV as points finish, so an interrupted sweep loses only
the points that were running; rerun with --resume.`;

const OPTIONS = {
  dataset: { type: 'string' },
  datasets: { type: 'string' },
  'test-data': { type: 'string' },
  rhos: { type: 'string' },
  activations: { type: 'string' },
  depths: { type: 'string' },
  'weight-decays': { type: 'string' },
  hsr: { type: 'string' },
  hsrs: { type: 'string' },
  'hsr-target': { type: 'string' },
  'save-models': { type: 'string' },
  widths: { type: 'string' },
  seeds: { type: 'string' },
  activation: { type: 'string' },
  depth: { type: 'string' },
  workers: { type: 'string' },
  force: { type: 'boolean' },
  out: { type: 'string' },
  jsonl: { type: 'string' },
  'no-jsonl': { type: 'boolean' },
  plot: { type: 'string' },
  resume: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  'dense-max-params': { type: 'string' },
  reduction: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  ...TRAINING_OPTIONS,
  track: { type: 'string' },
  ...QUEUE_OPTIONS,
  'split-queue': { type: 'string' },
  'split-above': { type: 'string' },
  'tiles-per-job': { type: 'string' },
  ...SWEEP_DATA_OPTIONS,
} as const;

function seedsOf(values: ParsedValues): number | number[] {
  const text = str(values, 'seeds');
  if (text === undefined) fail('BAD_OPTION', 'no --seeds given', 'add --seeds K (seeds 0..K-1) or a list such as --seeds 0,1,2');
  if (!text.includes(',')) return int(values, 'seeds', undefined, 1) as number;
  const list = text.split(',').map((s) => decimal(s.trim()));
  if (list.some((n) => !Number.isSafeInteger(n) || n < 0)) fail('BAD_OPTION', `--seeds must be a count or a list of non-negative integers, got '${text}'`);
  return list;
}

/** The grid the options describe (every axis value checked before anything runs; points made lazily). */
function numberList(values: ParsedValues, name: string): number[] | undefined {
  const text = str(values, name);
  if (text === undefined) return undefined;
  const list = text.split(',').map((s) => decimal(s.trim()));
  if (list.some((n) => !Number.isFinite(n))) fail('BAD_OPTION', `--${name} must be a comma-separated list of numbers, got '${text}'`);
  return list;
}

function stringList(values: ParsedValues, name: string): string[] | undefined {
  const text = str(values, name);
  if (text === undefined) return undefined;
  const list = text.split(',').map((s) => s.trim());
  if (list.some((s) => s === '')) fail('BAD_OPTION', `--${name} must be a comma-separated list, got '${text}'`);
  return list;
}

/** The data sets of the grid; a synthetic id may leave out rho when --rhos gives it. */
function datasetsOf(values: ParsedValues): string[] {
  const one = str(values, 'dataset');
  const file = str(values, 'data');
  // Synthetic ids hold commas, so --datasets splits only between ids.
  const many = str(values, 'datasets')?.split(/,(?=\s*(?:synthetic:|file:|[a-z_]+(?:,|$)))/i).map((s) => s.trim());
  const given = [one, file, many].filter((v) => v !== undefined).length;
  if (given === 0) fail('BAD_OPTION', 'no --dataset given', 'e.g. --dataset iris (or digits, wine, breast_cancer, synthetic:n=120,d=32,classes=3,rho=0.5), --datasets iris,wine or --data FILE');
  if (given > 1) fail('BAD_OPTION', 'give one of --dataset, --datasets and --data');
  const ids = file ? [`file:${resolve(file)}`] : (many ?? [one as string]);
  // A mistyped name fails here, with a suggestion, not in the first job.
  for (const id of ids) if (!/^\s*(synthetic|file|sha256):/i.test(id)) checkDatasetName(id);
  const rhos = str(values, 'rhos') !== undefined;
  return ids.map((id) => (rhos && id.toLowerCase().startsWith('synthetic:') && !/[:,]\s*rho=/.test(id) ? `${id},rho=0` : id));
}

export function gridOf(values: ParsedValues): SweepGrid {
  const datasets = datasetsOf(values);
  const widths = intList(values, 'widths');
  if (!widths) fail('BAD_OPTION', 'no --widths given', 'e.g. --widths 4,8,16,32,64');
  if (values['depth'] !== undefined && values['depths'] !== undefined) fail('BAD_OPTION', 'give --depth or --depths, not both');
  const depths = intList(values, 'depth') ?? intList(values, 'depths');
  const activation = str(values, 'activation');
  const activations = stringList(values, 'activations');
  const rhos = numberList(values, 'rhos');
  const weightDecays = numberList(values, 'weight-decays');
  const hsrs = numberList(values, 'hsrs') ?? numberList(values, 'hsr');
  if (values['hsr'] !== undefined && values['hsrs'] !== undefined) fail('BAD_OPTION', 'give --hsr or --hsrs, not both');
  const hsrTarget = str(values, 'hsr-target');
  if (hsrTarget !== undefined && hsrs === undefined) fail('BAD_OPTION', '--hsr-target needs --hsr BETA or --hsrs LIST', 'e.g. --hsrs 0,0.1 --hsr-target spread');
  const testData = str(values, 'test-data');
  const dense = int(values, 'dense-max-params');
  const training = trainingOptions(values);
  if (testData !== undefined && training.testFraction !== undefined) fail('BAD_OPTION', 'give --test-fraction or --test-data, not both');
  if (activation !== undefined && activations !== undefined) fail('BAD_OPTION', 'give --activation or --activations, not both');
  if (training.weightDecay !== undefined && weightDecays !== undefined) fail('BAD_OPTION', 'give --weight-decay or --weight-decays, not both');
  return {
    ...(datasets.length === 1 ? { dataset: datasets[0] as string } : { datasets }),
    ...(rhos ? { rhos } : {}),
    ...(activations ? { activations: activations as Activation[] } : {}),
    ...(weightDecays ? { weightDecays } : {}),
    ...(hsrs ? { hsrs } : {}),
    ...(hsrTarget !== undefined ? { hsrTarget: hsrTarget as SweepGrid['hsrTarget'] } : {}),
    ...(testData !== undefined ? { testData } : {}),
    widths,
    seeds: seedsOf(values),
    ...(depths ? { depth: depths.length === 1 ? (depths[0] as number) : depths } : {}),
    ...(activation ? { activation: activation as SweepGrid['activation'] } : {}),
    ...(dense !== undefined ? { denseMaxParameters: dense } : {}),
    reduction: reductionOf(values),
    ...training,
    ...(int(values, 'track', undefined, 1) !== undefined ? { track: int(values, 'track', undefined, 1) as number } : {}),
  };
}

/** --split-queue: large points' traces over a queue's workers, the points themselves on local threads. */
function splitConfigOf(values: ParsedValues): TraceSplitConfig | undefined {
  const url = str(values, 'split-queue');
  const above = num(values, 'split-above');
  const perJob = int(values, 'tiles-per-job', undefined, 1);
  if (url === undefined) {
    if (above !== undefined || perJob !== undefined) fail('BAD_OPTION', '--split-above and --tiles-per-job apply only with --split-queue', 'add --split-queue URL, or leave them out');
    return undefined;
  }
  // A point on a queue worker waiting for its own tiles holds that worker: with every worker so
  // held, no tile would run. Local points and queue tiles cannot deadlock.
  if (str(values, 'queue') !== undefined) fail('BAD_OPTION', '--split-queue works with points on local threads, not with --queue', 'drop --queue (the points run here, their large traces on the queue), or drop --split-queue');
  if (above !== undefined && !(above >= 0)) fail('BAD_OPTION', `--split-above must be a non-negative number of multiply-adds, got ${above}`);
  parseQueueUrl(url);
  return { url, aboveMultiplyAdds: above ?? 1e11, ...(perJob !== undefined ? { tilesPerJob: perJob } : {}) };
}

async function run(argv: string[]): Promise<void> {
  const values = parse(argv, OPTIONS);
  // File data enters the jobs by content hash (a path exists only on this machine).
  const fileData = sweepFileData(values);
  const testFile = sweepTestData(values);
  const grid = gridOf({ ...values, ...(fileData ? { dataset: fileData.id, data: undefined } : {}), ...(testFile ? { 'test-data': testFile.id } : {}) });
  const workers = int(values, 'workers', undefined, 1);
  const backend = backendOf(values);
  const csvPath = str(values, 'out') ?? 'results.csv';
  if (values['jsonl'] && values['no-jsonl']) fail('BAD_OPTION', 'give --jsonl FILE or --no-jsonl, not both');
  const jsonlPath = values['no-jsonl'] ? null : (str(values, 'jsonl') ?? defaultJsonlPath(csvPath));
  if (values['resume'] && values['overwrite']) fail('BAD_OPTION', 'give --resume or --overwrite, not both');
  const plot = str(values, 'plot');
  // Before the sweep: a bad plot path must not cost the whole run.
  if (plot !== undefined) checkPlotPath(plot);
  const saveModels = str(values, 'save-models');

  // Ctrl-C: every finished point is already on disk.
  // Ctrl-C / SIGTERM (signals.ts exits 130/143): every finished point is already on disk.
  onInterrupt(() => {
    process.stderr.write(`\nhessbound: interrupted; finished points are in ${csvPath}. Rerun with --resume to continue.\n`);
  });
  const splitTraces = splitConfigOf(values);
  const executor = await queueExecutorOf(values, workers, backend, [fileData, testFile]);
  const result = await runSweepWithProgress(
    {
      grid,
      ...(workers !== undefined ? { workers } : {}),
      ...(values['force'] ? { force: true } : {}),
      ...(backend ? { backend } : {}),
      ...(saveModels !== undefined ? { saveModels } : {}),
      files: { csvPath, jsonlPath, resume: values['resume'] === true, overwrite: values['overwrite'] === true },
      ...(executor ? { executor } : {}),
      ...(splitTraces ? { splitTraces } : {}),
    },
    !values['quiet'] && (process.stderr.isTTY || !values['json']),
  ).finally(() => executor?.close());
  if (plot && result.rows.length > 0) writePlot(plot, result.rows);
  if (values['json']) {
    process.stdout.write(`${JSON.stringify({ csv: csvPath, jsonl: jsonlPath, plot: plot ?? null, workers: result.workers, blasThreads: result.blasThreads, seconds: result.seconds, resumed: result.resumed, rows: result.rows, failures: result.failures })}\n`);
  } else {
    process.stdout.write(`${sweepTable(result.rows)}\n\n`);
    process.stdout.write(`${result.rows.length} point(s) in ${csvPath}${jsonlPath ? ` (and ${jsonlPath})` : ''}${plot ? `; plot: ${plot}` : ''}; ${result.seconds.toFixed(1)} s ${executor ? queueSummary(executor, result.workers) : `on ${result.workers} worker(s) x ${result.blasThreads} BLAS thread(s)`}\n`);
  }
  const first = result.failures[0];
  if (first) throw new HessboundError(first.error.code as ErrorCode, describeFailures(result.failures).replace(/^hessbound: /, '').trimEnd());
}

export const sweepCommand: Subcommand = { name: 'sweep', summary: 'lambda_max and the WS bound across widths and seeds (parallel, resumable)', help: HELP, run };
