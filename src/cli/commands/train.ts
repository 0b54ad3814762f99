/** hessbound train: train a model to a near-critical point and save it (hessbound.mlp.v1 JSON). */
import { writeModelFile } from '../../node/datasets.js';
import { loadDatasetById } from '../../sweep/dataset-id.js';
import { train, TRAIN_DEFAULTS, type TrainOptions, type TrainResult } from '../../train.js';
import type { Dataset } from '../../types.js';
import { fail } from '../../errors.js';
import { int, num, parse, str, type ParsedValues } from '../args.js';
import { fmt, keyValueTable } from '../format.js';
import { choice } from '../args.js';
import { HSR_TARGETS } from '../../analysis/hsr.js';
import { createProgressBar } from '../progress.js';
import type { Subcommand } from '../registry.js';
import { backendOf, loadData, loadModel, reductionOf, SOURCE_HELP, SOURCE_OPTIONS } from '../sources.js';

const HELP = `hessbound train — full-batch training to a near-critical point (Adam, then L-BFGS)

Usage: hessbound train (--model FILE | --hidden LIST) (--data FILE | --dataset NAME) --out model.json [options]

${SOURCE_HELP}
                          --dataset also takes synthetic data: synthetic:n=120,d=32,classes=3,rho=0.5
  --out FILE              where to save the trained model (hessbound.mlp.v1 JSON)
  --grad-tol T            stop when the gradient norm <= T (absolute; default ${TRAIN_DEFAULTS.gradTol})
  --max-steps N           iteration budget, Adam and L-BFGS together (default ${TRAIN_DEFAULTS.maxSteps})
  --adam-steps N          Adam iterations before L-BFGS (default ${TRAIN_DEFAULTS.adamSteps}; 0: L-BFGS only)
  --lr LR                 Adam learning rate (default ${TRAIN_DEFAULTS.lr})
  --weight-decay WD       add WD/2 |params|^2 to the loss (default 0; gives separable data a finite minimiser)
  --hsr BETA              HSR: add BETA x a WS bound of the Hessian to the objective (one hidden layer;
                          its closed-form gradient, docs/hsr.md); steers training toward flatter minima
  --hsr-target T          upper (WS bound on lambda_max, default) or spread (bound on lambda_max - lambda_min)
  --json                  print one JSON object (with the training curve) instead of the summary
  --quiet                 no progress bar

On separable data (most MLPs wider than a few units fit their training set exactly) cross-entropy has
no finite minimiser: the loss keeps falling as the weights grow, and the gradient with it, so the
tolerance is reached at a point whose scale depends on it.`;

export const TRAINING_OPTIONS = {
  'grad-tol': { type: 'string' },
  'max-steps': { type: 'string' },
  'adam-steps': { type: 'string' },
  lr: { type: 'string' },
  'weight-decay': { type: 'string' },
} as const;

/** --grad-tol and friends as train() options (only those given; train() checks the values). */
export function trainingOptions(values: ParsedValues): Pick<TrainOptions, 'gradTol' | 'maxSteps' | 'adamSteps' | 'lr' | 'weightDecay'> {
  const gradTol = num(values, 'grad-tol');
  const maxSteps = int(values, 'max-steps');
  const adamSteps = int(values, 'adam-steps');
  const lr = num(values, 'lr');
  const weightDecay = num(values, 'weight-decay');
  return {
    ...(gradTol !== undefined ? { gradTol } : {}),
    ...(maxSteps !== undefined ? { maxSteps } : {}),
    ...(adamSteps !== undefined ? { adamSteps } : {}),
    ...(lr !== undefined ? { lr } : {}),
    ...(weightDecay !== undefined ? { weightDecay } : {}),
  };
}

/** Embedded and file data as for every command, plus synthetic:... identifiers. */
export function loadDataOrSynthetic(values: ParsedValues): Dataset {
  const name = str(values, 'dataset');
  if (name?.trim().toLowerCase().startsWith('synthetic:')) {
    if (str(values, 'data')) fail('BAD_OPTION', 'give either --data FILE or --dataset NAME, not both');
    return loadDatasetById(name);
  }
  return loadData(values);
}

function summary(r: TrainResult, out: string, tolerance: number): string {
  const status = r.converged ? `yes (gradient norm <= ${tolerance})` : `no: stopped by ${r.stopReason === 'maxSteps' ? '--max-steps' : 'a stall (no further decrease in float64)'}`;
  return keyValueTable([
    ['saved to', out],
    ['backend', r.backend],
    ['loss', fmt(r.loss)],
    ...(r.objective !== r.loss ? [['objective (with weight decay)', fmt(r.objective)] as [string, string]] : []),
    ['gradient norm', fmt(r.gradNorm)],
    ...(r.hsr ? [['HSR penalty', `${fmt(r.hsr.beta)} x ${r.hsr.target} ${fmt(r.hsr.value)} = ${fmt(r.hsr.penalty)} (${(100 * r.hsr.share).toFixed(1)}% of the objective)`] as [string, string]] : []),
    ['converged', status],
    ['steps', `${r.steps.adam} Adam + ${r.steps.lbfgs} L-BFGS (${r.steps.evaluations} loss/gradient evaluations)`],
    ['seconds', r.seconds.toFixed(3)],
  ]);
}

async function run(argv: string[]): Promise<void> {
  const values = parse(argv, { ...SOURCE_OPTIONS, ...TRAINING_OPTIONS, out: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' }, hsr: { type: 'string' }, 'hsr-target': { type: 'string' } });
  const out = str(values, 'out');
  if (!out) fail('BAD_OPTION', 'no --out given', 'add --out model.json: where to save the trained model');
  const data = loadDataOrSynthetic(values);
  const model = loadModel(values, data);
  const options = trainingOptions(values);
  const hsrBeta = num(values, 'hsr');
  if (hsrBeta === undefined && str(values, 'hsr-target')) fail('BAD_OPTION', '--hsr-target needs --hsr BETA', 'e.g. --hsr 0.01 --hsr-target spread');
  const hsr = hsrBeta !== undefined ? { hsr: { beta: hsrBeta, target: choice(values, 'hsr-target', HSR_TARGETS, 'upper') } } : {};
  const backend = backendOf(values);
  const bar = createProgressBar('train', process.stderr, !values['quiet'] && (process.stderr.isTTY || !values['json']));
  const result = await train(model, data, {
    ...options,
    ...hsr,
    reduction: reductionOf(values),
    ...(backend ? { backend } : {}),
    onProgress: (f) => bar.update(f),
  });
  bar.done();
  writeModelFile(out, result.model);
  const tolerance = options.gradTol ?? TRAIN_DEFAULTS.gradTol;
  if (values['json']) {
    const { model: _model, ...rest } = result;
    process.stdout.write(`${JSON.stringify({ out, ...rest })}\n`);
  } else process.stdout.write(`${summary(result, out, tolerance)}\n`);
  if (!result.converged && !values['json'])
    process.stderr.write(`hessbound: note: the gradient norm ${fmt(result.gradNorm, 3)} did not reach ${tolerance}; raise --max-steps or loosen --grad-tol\n`);
}

export const trainCommand: Subcommand = { name: 'train', summary: 'train a model to a near-critical point and save it', help: HELP, run };
