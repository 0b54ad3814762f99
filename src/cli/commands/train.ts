/** hessbound train: train a model to a near-critical point and save it (hessbound.mlp.v1 JSON). */
import { writeModelFile } from '../../node/datasets.js';
import { MINIBATCH_DEFAULTS, MINIBATCH_OPTIMIZERS, train, TRAIN_DEFAULTS, type MinibatchOptimizer, type TrainOptions, type TrainResult } from '../../train.js';
import { fail } from '../../errors.js';
import { choice, int, num, parse, str, type ParsedValues } from '../args.js';
import { fmt, keyValueTable } from '../format.js';
import { kinkRows } from '../diagnostics-rows.js';
import { HSR_TARGETS } from '../../analysis/hsr.js';
import { createProgressBar } from '../progress.js';
import type { Subcommand } from '../registry.js';
import { backendOf, loadData, loadModel, loadTestData, reductionOf, SOURCE_HELP, SOURCE_OPTIONS } from '../sources.js';
import { TRACK_CLI_OPTIONS, trackCliOptions, trackSummary, writeTrackFiles } from '../track-files.js';

const HELP = `hessbound train — training to a near-critical point (full batch: Adam, then L-BFGS; or mini-batch)

Usage: hessbound train (--model FILE | --hidden LIST) (--data FILE | --dataset NAME) --out model.json [options]

${SOURCE_HELP}
  --out FILE              where to save the trained model: .json (hessbound.mlp.v1) or .safetensors
                          (F64, nn.Sequential names, loads into PyTorch with strict=True)
  --grad-tol T            stop when the gradient norm <= T (absolute; default ${TRAIN_DEFAULTS.gradTol})
  --target-loss L         also stop when the training cross-entropy <= L (default 0: off)
  --test-fraction F       hold out F of each class for testing (stratified, seeded; 0 < F < 1)
  --split-seed S          seed of that split (default 0)
  --test-data FILE        or a separate test file (same features and classes)
  --max-steps N           iteration budget, Adam and L-BFGS together (default ${TRAIN_DEFAULTS.maxSteps})
  --adam-steps N          Adam iterations before L-BFGS (default ${TRAIN_DEFAULTS.adamSteps}; 0: L-BFGS only)
  --lr LR                 Adam (or SGD) learning rate (default ${TRAIN_DEFAULTS.lr})
  --weight-decay WD       add WD/2 |params|^2 to the loss (default ${TRAIN_DEFAULTS.weightDecay}, as sweeps: gives separable
                          data a finite minimiser; 0: the bare cross-entropy). Saved with the model:
                          analyze and bound use it unless given --weight-decay themselves
  --batch-size B          mini-batch training with B samples per batch (1..N), in place of full-batch
                          Adam; seeded shuffles, bit-identical for any thread count (docs/training.md)
  --epochs E              with --batch-size: passes over the data (default ${MINIBATCH_DEFAULTS.epochs})
  --optimizer O           with --batch-size: adam (default) or sgd (with momentum)
  --momentum M            with --optimizer sgd: v = M v + g, x -= lr v (default ${MINIBATCH_DEFAULTS.momentum})
  --shuffle-seed S        with --batch-size: seed of the shuffles (default ${MINIBATCH_DEFAULTS.shuffleSeed})
  --polish                with --batch-size: then full-batch L-BFGS to --grad-tol (a critical point;
                          sweeps polish by default, --no-polish turns it off there)
  --check-every K         with --batch-size: test the stopping rules on the full-batch loss and gradient
                          every K epochs (default ${MINIBATCH_DEFAULTS.checkEvery}; 0: at the end only; each check
                          costs about one more epoch's passes)
  --hsr BETA              HSR: add BETA x a WS bound of the Hessian to the objective (one hidden layer;
                          its closed-form gradient, docs/hsr.md); steers training toward flatter minima
  --hsr-target T          upper (WS bound on lambda_max, default) or spread (bound on lambda_max - lambda_min)
  --json                  print one JSON object (with the training curve) instead of the summary
  --quiet                 no progress bar
  --track K               every K steps (and at the end): lambda_max (Lanczos, warm-started) and the
                          WS bound; in the JSON as "track", and in --track-out
  --track-out FILE        with --track: one JSON line per tracked point
  --plot FILE.svg         with --track: SVG of lambda_max, WS bound, loss and gradient norm vs step

On separable data (most MLPs wider than a few units fit their training set exactly) cross-entropy has
no finite minimiser: the loss keeps falling as the weights grow, and the gradient with it, so the
tolerance is reached at a point whose scale depends on it. The default weight decay gives a point
that does not (docs/training.md); --weight-decay 0 trains the bare cross-entropy. Every result says
why training stopped (gradTol, targetLoss, maxSteps, stalled) and carries diagnostics and flags
(docs/diagnostics.md).`;

export const TRAINING_OPTIONS = {
  'grad-tol': { type: 'string' },
  'max-steps': { type: 'string' },
  'adam-steps': { type: 'string' },
  lr: { type: 'string' },
  'weight-decay': { type: 'string' },
  'target-loss': { type: 'string' },
  'test-fraction': { type: 'string' },
  'split-seed': { type: 'string' },
  'batch-size': { type: 'string' },
  epochs: { type: 'string' },
  optimizer: { type: 'string' },
  momentum: { type: 'string' },
  polish: { type: 'boolean' },
  'no-polish': { type: 'boolean' },
  'check-every': { type: 'string' },
} as const;

type MinibatchCliOptions = Pick<TrainOptions, 'batchSize' | 'epochs' | 'optimizer' | 'momentum' | 'polish' | 'checkEvery'>;

/** --batch-size and friends (only those given; train() and the sweep jobs check the rest). */
function minibatchOptions(values: ParsedValues): MinibatchCliOptions {
  const text = str(values, 'batch-size');
  const batchSize = text === undefined ? undefined : Number(text);
  if (batchSize !== undefined && !(Number.isSafeInteger(batchSize) && batchSize >= 1))
    fail('BAD_OPTION', `--batch-size must be a positive integer (samples per batch), got '${text}'`, 'e.g. --batch-size 128; leave it out for full-batch training');
  if (values['polish'] && values['no-polish']) fail('BAD_OPTION', 'give --polish or --no-polish, not both');
  const epochs = int(values, 'epochs', undefined, 1);
  const optimizer = str(values, 'optimizer') !== undefined ? choice<MinibatchOptimizer>(values, 'optimizer', MINIBATCH_OPTIMIZERS, 'adam') : undefined;
  const momentum = num(values, 'momentum');
  const checkEvery = int(values, 'check-every');
  const polish = values['polish'] ? true : values['no-polish'] ? false : undefined;
  return {
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(epochs !== undefined ? { epochs } : {}),
    ...(optimizer !== undefined ? { optimizer } : {}),
    ...(momentum !== undefined ? { momentum } : {}),
    ...(polish !== undefined ? { polish } : {}),
    ...(checkEvery !== undefined ? { checkEvery } : {}),
  };
}

/** --grad-tol and friends as train() options (only those given; train() checks the values). */
export function trainingOptions(values: ParsedValues): Pick<TrainOptions, 'gradTol' | 'maxSteps' | 'adamSteps' | 'lr' | 'weightDecay' | 'targetLoss' | 'testFraction' | 'splitSeed'> & MinibatchCliOptions {
  const targetLoss = num(values, 'target-loss');
  const testFraction = num(values, 'test-fraction');
  const splitSeed = int(values, 'split-seed');
  if (testFraction !== undefined && !(testFraction > 0 && testFraction < 1))
    fail('BAD_OPTION', `--test-fraction must be strictly between 0 and 1, got ${testFraction}`, 'e.g. --test-fraction 0.2 holds out a fifth of each class');
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
    ...(targetLoss !== undefined ? { targetLoss } : {}),
    ...(testFraction !== undefined ? { testFraction } : {}),
    ...(splitSeed !== undefined ? { splitSeed } : {}),
    ...minibatchOptions(values),
  };
}

const STOPPED_BY: Record<TrainResult['stopReason'], string> = {
  gradTol: 'the gradient tolerance',
  targetLoss: 'the target loss',
  maxSteps: '--max-steps',
  stalled: 'a stall (no further decrease in float64)',
  epochs: '--epochs (add --polish for full-batch L-BFGS to a critical point)',
};

function stepsLine(r: TrainResult): string {
  const m = r.minibatch;
  const evaluations = `(${r.steps.evaluations} full-batch loss/gradient evaluations)`;
  if (!m) return `${r.steps.adam} Adam + ${r.steps.lbfgs} L-BFGS ${evaluations}`;
  const polish = m.polish ? ` + ${r.steps.lbfgs} L-BFGS` : '';
  return `${r.steps.minibatch} mini-batch ${m.optimizer === 'sgd' ? 'SGD' : 'Adam'} (${r.steps.epochs} epochs of ${m.batchesPerEpoch} batches of ${m.batchSize})${polish} ${evaluations}`;
}

function percent(v: number | null): string {
  return v === null ? '—' : `${(100 * v).toFixed(1)}%`;
}
/** What the minimised objective adds to the cross-entropy, as the model file records it. */
function objectiveTerms(r: TrainResult): string {
  const o = r.model.objective;
  const terms = ['cross-entropy'];
  if (o && o.weightDecay > 0) terms.push(`weight decay ${o.weightDecay}`);
  if (o?.hsr) terms.push(`HSR penalty`);
  return terms.join(' + ');
}

function summary(r: TrainResult, out: string, tolerance: number): string {
  const status = r.converged ? `yes (${r.stopReason === 'gradTol' ? `gradient norm <= ${tolerance}` : 'target loss reached'})` : `no: stopped by ${STOPPED_BY[r.stopReason]}`;
  const d = r.diagnostics;
  return keyValueTable([
    ['saved to', out],
    ['backend', r.backend],
    ['loss', fmt(r.loss)],
    ...(r.objective !== r.loss ? [[`objective (${objectiveTerms(r)})`, fmt(r.objective)] as [string, string]] : []),
    ['gradient norm', fmt(r.gradNorm)],
    ...(r.hsr ? [['HSR penalty', `${fmt(r.hsr.beta)} x ${r.hsr.target} ${fmt(r.hsr.value)} = ${fmt(r.hsr.penalty)} (${(100 * r.hsr.share).toFixed(1)}% of the objective)`] as [string, string]] : []),
    ['converged', status],
    ['steps', stepsLine(r)],
    ['train accuracy', `${percent(r.trainAccuracy)} of ${r.trainSamples} samples`],
    ...(r.testAccuracy !== null
      ? ([
          ['test accuracy', `${percent(r.testAccuracy)} of ${r.testSamples} samples (gap ${percent(r.gap)})`],
          ['test loss', fmt(r.testLoss)],
        ] as Array<[string, string]>)
      : []),
    ['parameter norm', fmt(d.parameterNorm)],
    ['scale derivative', `${fmt(d.scaleDerivative, 3)} (theta.grad F / F)`],
    ['saturated', `${percent(d.saturatedFraction)} of (sample, unit) pairs; ${d.collapsedCells} collapsed cell(s)`],
    ...kinkRows(d),
    ['flags', d.flags.length ? d.flags.join(', ') : 'none'],
    ['seconds', r.seconds.toFixed(3)],
  ]);
}

async function run(argv: string[]): Promise<void> {
  const values = parse(argv, { ...SOURCE_OPTIONS, ...TRAINING_OPTIONS, 'test-data': { type: 'string' }, ...TRACK_CLI_OPTIONS, out: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean' }, hsr: { type: 'string' }, 'hsr-target': { type: 'string' }, 'shuffle-seed': { type: 'string' } });
  const tracking = trackCliOptions(values);
  const out = str(values, 'out');
  if (!out) fail('BAD_OPTION', 'no --out given', 'add --out model.json: where to save the trained model');
  const data = loadData(values);
  const model = loadModel(values, data);
  const shuffleSeed = int(values, 'shuffle-seed');
  const options = { ...trainingOptions(values), ...(shuffleSeed !== undefined ? { shuffleSeed } : {}) };
  const testData = loadTestData(values);
  if (testData && options.testFraction !== undefined) fail('BAD_OPTION', 'give --test-fraction or --test-data, not both');
  const hsrBeta = num(values, 'hsr');
  if (hsrBeta === undefined && str(values, 'hsr-target')) fail('BAD_OPTION', '--hsr-target needs --hsr BETA', 'e.g. --hsr 0.01 --hsr-target spread');
  const hsr = hsrBeta !== undefined ? { hsr: { beta: hsrBeta, target: choice(values, 'hsr-target', HSR_TARGETS, 'upper') } } : {};
  const backend = backendOf(values);
  const bar = createProgressBar('train', process.stderr, !values['quiet'] && (process.stderr.isTTY || !values['json']));
  const result = await train(model, data, {
    ...options,
    ...hsr,
    reduction: reductionOf(values),
    ...(testData ? { testData } : {}),
    ...(backend ? { backend } : {}),
    onProgress: (f) => bar.update(f),
    ...tracking.options,
  });
  bar.done();
  writeModelFile(out, result.model);
  writeTrackFiles(result, tracking);
  const tolerance = options.gradTol ?? TRAIN_DEFAULTS.gradTol;
  if (values['json']) {
    const { model: _model, split, ...rest } = result;
    // The split's indices are long; the JSON says how it was made.
    const splitInfo = split?.kind === 'fraction' ? { kind: split.kind, fraction: split.fraction, seed: split.seed } : split;
    process.stdout.write(`${JSON.stringify({ out, ...rest, split: splitInfo })}\n`);
  } else process.stdout.write(`${summary(result, out, tolerance)}\n${trackSummary(result, tracking)}`);
  if (result.diagnostics.flags.length > 0 && !values['json'])
    process.stderr.write(`hessbound: note: this point is flagged (${result.diagnostics.flags.join(', ')}); see docs/diagnostics.md\n`);
  if (result.stopReason === 'epochs' && !values['json'])
    process.stderr.write(`hessbound: note: the epochs ended at gradient norm ${fmt(result.gradNorm, 3)} (not a critical point); add --polish, or more --epochs\n`);
  else if (!result.converged && !values['json'])
    process.stderr.write(`hessbound: note: the gradient norm ${fmt(result.gradNorm, 3)} did not reach ${tolerance}; raise --max-steps or loosen --grad-tol\n`);
}

export const trainCommand: Subcommand = { name: 'train', summary: 'train a model to a near-critical point and save it', help: HELP, run };
