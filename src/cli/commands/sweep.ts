/** hessbound sweep: train and measure a grid of widths x seeds in parallel, streaming results to CSV. */
import { availableParallelism } from 'node:os';
import { fail, HessboundError, type ErrorCode } from '../../errors.js';
import { defaultJsonlPath } from '../../node/sweep-files.js';
import { JOB_DEFAULTS, type SweepGrid } from '../../sweep/job.js';
import { int, intList, parse, str, type ParsedValues } from '../args.js';
import type { Subcommand } from '../registry.js';
import { describeFailures, runSweepWithProgress, sweepTable, writePlot } from '../sweep-report.js';
import { backendOf, reductionOf } from '../sources.js';
import { QUEUE_HELP, QUEUE_OPTIONS, queueExecutorOf, queueSummary } from '../queue-options.js';
import { SWEEP_DATA_HELP, SWEEP_DATA_OPTIONS, sweepFileData } from '../sweep-data.js';
import { TRAINING_OPTIONS, trainingOptions } from './train.js';

const HELP = `hessbound sweep — lambda_max and the Wolkowicz–Styan bound at trained points, across widths and seeds

Usage: hessbound sweep --dataset NAME --widths LIST --seeds K [options]

  --dataset NAME          iris|wine|breast_cancer|digits, or synthetic:n=120,d=32,classes=3,rho=0.5[,seed=S]
${SWEEP_DATA_HELP}
  --widths LIST           hidden widths, e.g. 4,8,16,32,64
  --seeds K               seeds 0..K-1 of the random initialisation (or a list, e.g. 0,5,9)
  --activation A          sigmoid|tanh|softplus|gelu|silu|identity (default ${JOB_DEFAULTS.activation})
  --depth D               hidden layers, all of the same width (default 1; a list runs each)
  --workers W             worker threads (default: one per core, ${availableParallelism()} here)
  --out FILE              results CSV (default results.csv), plus JSON lines next to it (.jsonl)
  --jsonl FILE            JSON lines somewhere else; --no-jsonl for none
  --plot FILE             also write the SVG plot (lambda_max and bound vs width; their ratio)
  --resume                continue an interrupted sweep: points already in --out are skipped
  --overwrite             start --out afresh if it exists
  --grad-tol T, --max-steps N, --adam-steps N, --lr LR, --weight-decay WD   training (see hessbound train --help)
  --dense-max-params N    lambda_max by a dense eigensolve up to N parameters, Lanczos above (default ${JOB_DEFAULTS.denseMaxParameters})
  --reduction mean|sum    loss reduction (default mean)
  --backend native|wasm   force a backend
${QUEUE_HELP}
  --json                  print the rows as one JSON object instead of the table
  --quiet                 no progress bar

Each point: random init (seed) -> train to the gradient tolerance -> closed-form traces and WS bound ->
exact lambda_max. Rows are appended to the CSV as points finish, so an interrupted sweep loses only
the points that were running; rerun with --resume.`;

const OPTIONS = {
  dataset: { type: 'string' },
  widths: { type: 'string' },
  seeds: { type: 'string' },
  activation: { type: 'string' },
  depth: { type: 'string' },
  workers: { type: 'string' },
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
  ...QUEUE_OPTIONS,
  ...SWEEP_DATA_OPTIONS,
} as const;

function seedsOf(values: ParsedValues): number | number[] {
  const text = str(values, 'seeds');
  if (text === undefined) fail('BAD_OPTION', 'no --seeds given', 'add --seeds K (seeds 0..K-1) or a list such as --seeds 0,1,2');
  if (!text.includes(',')) return int(values, 'seeds', undefined, 1) as number;
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isSafeInteger(n) || n < 0)) fail('BAD_OPTION', `--seeds must be a count or a list of non-negative integers, got '${text}'`);
  return list;
}

/** The grid the options describe (checked by gridJobs before anything runs). */
export function gridOf(values: ParsedValues): SweepGrid {
  const dataset = str(values, 'dataset');
  if (!dataset) fail('BAD_OPTION', 'no --dataset given', 'e.g. --dataset iris (or digits, wine, breast_cancer, synthetic:n=120,d=32,classes=3,rho=0.5)');
  const widths = intList(values, 'widths');
  if (!widths) fail('BAD_OPTION', 'no --widths given', 'e.g. --widths 4,8,16,32,64');
  const depths = intList(values, 'depth');
  const activation = str(values, 'activation');
  const dense = int(values, 'dense-max-params');
  return {
    dataset,
    widths,
    seeds: seedsOf(values),
    ...(depths ? { depth: depths.length === 1 ? (depths[0] as number) : depths } : {}),
    ...(activation ? { activation: activation as SweepGrid['activation'] } : {}),
    ...(dense !== undefined ? { denseMaxParameters: dense } : {}),
    reduction: reductionOf(values),
    ...trainingOptions(values),
  };
}

async function run(argv: string[]): Promise<void> {
  const values = parse(argv, OPTIONS);
  const fileData = sweepFileData(values);
  const grid = gridOf(fileData ? { ...values, dataset: fileData.id } : values);
  const workers = int(values, 'workers', undefined, 1);
  const backend = backendOf(values);
  const csvPath = str(values, 'out') ?? 'results.csv';
  if (values['jsonl'] && values['no-jsonl']) fail('BAD_OPTION', 'give --jsonl FILE or --no-jsonl, not both');
  const jsonlPath = values['no-jsonl'] ? null : (str(values, 'jsonl') ?? defaultJsonlPath(csvPath));
  if (values['resume'] && values['overwrite']) fail('BAD_OPTION', 'give --resume or --overwrite, not both');
  const plot = str(values, 'plot');

  // Ctrl-C: every finished point is already on disk.
  process.once('SIGINT', () => {
    process.stderr.write(`\nhessbound: interrupted; finished points are in ${csvPath}. Rerun with --resume to continue.\n`);
    process.exit(130);
  });
  const executor = await queueExecutorOf(values, workers, backend, fileData);
  const result = await runSweepWithProgress(
    {
      grid,
      ...(workers !== undefined ? { workers } : {}),
      ...(backend ? { backend } : {}),
      files: { csvPath, jsonlPath, resume: values['resume'] === true, overwrite: values['overwrite'] === true },
      ...(executor ? { executor } : {}),
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
