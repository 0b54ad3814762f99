/** --model/--hidden and --data/--dataset: where a subcommand's model and data come from. */
import { standardize, standardizeOwned } from '../data.js';
import { fail } from '../errors.js';
import { parseActivation, randomModel } from '../model.js';
import { standardizeLike } from '../node/dataset-ids.js';
import { DATASET_NAMES, isEmbeddedDatasetName, loadDataset, readDataFile, readModelFile, unknownDatasetMessage } from '../node/datasets.js';
import { loadDatasetById } from '../sweep/dataset-id.js';
import { assertAllocationsFit, forwardCache, modelParameters, parameterCountOf } from '../resources/memory-plan.js';
import { platformMemoryBudget } from '../memory.js';
import { readDataArrayFiles } from '../node/format-files.js';
import type { Dataset, Model, Reduction } from '../types.js';
import { choice, int, intList, num, str, type OptionSpec, type ParsedValues } from './args.js';

export const SOURCE_OPTIONS: OptionSpec = {
  model: { type: 'string' },
  hidden: { type: 'string' },
  activation: { type: 'string' },
  'negative-slope': { type: 'string' },
  seed: { type: 'string' },
  init: { type: 'string' },
  data: { type: 'string' },
  dataset: { type: 'string' },
  'no-standardize': { type: 'boolean' },
  'no-header': { type: 'boolean' },
  classes: { type: 'string' },
  reduction: { type: 'string' },
  backend: { type: 'string' },
  'data-x': { type: 'string' },
  'data-y': { type: 'string' },
  'layer-order': { type: 'string' },
};

export const SOURCE_HELP = `  --model FILE            model: JSON (hessbound.mlp.v1), .safetensors (PyTorch state_dict) or .onnx
  --layer-order A,B,C     safetensors with named modules: the Linear modules, input to output
  --hidden LIST           or a seeded random model with these hidden widths, e.g. 16,16
  --activation A          sigmoid|tanh|softplus|gelu|silu|identity|relu|leaky_relu (random model; default
                          tanh; or of a safetensors --model without activation metadata)
  --negative-slope S      leaky_relu's slope for u <= 0 (default 0.01; or of a safetensors --model
                          without negative_slope metadata)
  --seed S                random model seed (default 0)
  --init glorot|he        random model initialisation (default glorot)
  --data FILE             data: JSON {"x","y"} / {"x","targets"}, CSV (label last), or .npz (x, y|targets)
  --data-x X.npy --data-y Y.npy   or NumPy features (n x d) and labels (n) / soft targets (n x c)
  --dataset NAME          or an embedded data set: ${DATASET_NAMES.join('|')},
                          or synthetic data: synthetic:n=120,d=32,classes=3,rho=0.5[,seed=S]
  --no-standardize        keep the raw features (by default every data file, CSV, JSON, .npz or .npy, and
                          every embedded data set is standardized per feature; synthetic data never is)
  --no-header             the CSV file has no header line (by default a numeric first line is refused)
  --classes C             the CSV file's number of classes (default: largest label + 1, at most 4x the
                          distinct labels)
  --reduction mean|sum    loss reduction (default mean)
  --backend B             force a backend: native | wasm | wasm-threads (default: native, else
                          WebAssembly; wasm-threads: the threaded WebAssembly build, HESSBOUND_THREADS threads)`;

/** An embedded data set name as given, or the CLI's error (with did-you-mean and the CLI's alternatives). */
export function checkDatasetName(name: string): string {
  if (!isEmbeddedDatasetName(name))
    fail('BAD_OPTION', unknownDatasetMessage(name), 'or your own data: --data FILE (CSV, JSON or .npz), or synthetic:n=120,d=32,classes=3,rho=0.5');
  return name;
}

export function loadData(values: ParsedValues): Dataset {
  const file = str(values, 'data');
  const name = str(values, 'dataset');
  if (file && name) fail('BAD_OPTION', 'give either --data FILE or --dataset NAME, not both');
  if (!file && (values['classes'] !== undefined || values['no-header'])) fail('BAD_OPTION', '--classes and --no-header apply to --data FILE.csv', 'drop them, or read the data from a CSV file');
  // One rule for every format: data from a file is standardized per feature unless --no-standardize.
  const arrays = loadDataArrays(values, file ?? name);
  if (arrays) return values['no-standardize'] ? arrays : standardize(arrays);
  if (file) {
    const classes = int(values, 'classes', undefined, 2);
    const data = readDataFile(file, { ...(values['no-header'] ? { header: false } : {}), ...(classes !== undefined ? { classes } : {}) });
    // Just read: standardized in place (no second matrix); one rule for every format.
    return values['no-standardize'] ? data : standardizeOwned(data);
  }
  if (name?.trim().toLowerCase().startsWith('synthetic:')) return loadDatasetById(name);
  if (name) return loadDataset(checkDatasetName(name), { standardize: !values['no-standardize'] });
  return fail('BAD_OPTION', 'no data given', `add --data FILE or --dataset ${DATASET_NAMES.join('|')}`);
}

/** --data-x X.npy --data-y Y.npy (NumPy arrays; standardized by loadData like any data file). */
function loadDataArrays(values: ParsedValues, other: string | undefined): Dataset | undefined {
  const x = str(values, 'data-x');
  const y = str(values, 'data-y');
  if (x === undefined && y === undefined) return undefined;
  if (x === undefined || y === undefined) return fail('BAD_OPTION', `--data-${x === undefined ? 'y' : 'x'} needs --data-${x === undefined ? 'x' : 'y'}`, 'give the features and the labels: --data-x X.npy --data-y Y.npy');
  if (other) return fail('BAD_OPTION', 'give either --data-x/--data-y or --data/--dataset, not both');
  return readDataArrayFiles(x, y);
}

export function loadModel(values: ParsedValues, data: Dataset): Model {
  const file = str(values, 'model');
  const hidden = intList(values, 'hidden');
  if (file && hidden) fail('BAD_OPTION', 'give either --model FILE or --hidden LIST, not both');
  if (file) {
    for (const flag of ['seed', 'init'])
      if (values[flag] !== undefined) fail('BAD_OPTION', `--${flag} applies to random models (--hidden), not to --model FILE`);
    // --activation names the activation of a safetensors file that does not (JSON and ONNX models must agree with it).
    const activation = str(values, 'activation');
    const negativeSlope = num(values, 'negative-slope');
    const layerOrder = str(values, 'layer-order')?.split(',').map((s) => s.trim()).filter((s) => s !== '');
    return readModelFile(file, { ...(activation !== undefined ? { activation } : {}), ...(negativeSlope !== undefined ? { negativeSlope } : {}), ...(layerOrder ? { layerOrder } : {}) });
  }
  if (values['layer-order'] !== undefined) fail('BAD_OPTION', '--layer-order applies to --model FILE (safetensors), not to random models');
  if (!hidden) return fail('BAD_OPTION', 'no model given', 'add --model FILE or --hidden 16 (a seeded random model)');
  // Every command runs at least a forward pass of this model over the data: refuse what cannot fit
  // before building the model (which alone may be gigabytes).
  const sizes = [data.d, ...hidden, data.classes];
  assertAllocationsFit([modelParameters(parameterCountOf(sizes)), forwardCache(sizes, data.n)], platformMemoryBudget());
  return randomModel({
    inputs: data.d,
    hidden,
    classes: data.classes,
    activation: parseActivation(str(values, 'activation') ?? 'tanh'),
    ...(values['negative-slope'] !== undefined ? { negativeSlope: num(values, 'negative-slope') as number } : {}),
    seed: int(values, 'seed', 0) as number,
    init: choice(values, 'init', ['glorot', 'he'] as const, 'glorot'),
  });
}

export function reductionOf(values: ParsedValues): Reduction {
  return choice(values, 'reduction', ['mean', 'sum'] as const, 'mean');
}

export function backendOf(values: ParsedValues): 'native' | 'wasm' | 'wasm-threads' | undefined {
  const b = str(values, 'backend');
  if (b === undefined) return undefined;
  return choice(values, 'backend', ['native', 'wasm', 'wasm-threads'] as const, 'native');
}

/**
 * A test file (--test-data) prepared like the training data: standardized with the training data's
 * raw statistics when the training data was standardized (never with its own).
 */
export function loadTestData(values: ParsedValues): Dataset | undefined {
  const file = str(values, 'test-data');
  if (file === undefined) return undefined;
  const test = readDataFile(file);
  if (values['no-standardize']) return test;
  const trainFile = str(values, 'data');
  const name = str(values, 'dataset');
  if (trainFile) return standardizeLike(readDataFile(trainFile), test);
  const arrays = loadDataArrays(values, undefined);
  if (arrays) return standardizeLike(arrays, test);
  if (name && !name.trim().toLowerCase().startsWith('synthetic:')) return standardizeLike(loadDataset(name, { standardize: false }), test);
  return test;
}

/** How the CLI prepared the features, for the tables: 'standardized' or 'raw'. */
export function featureScaling(values: ParsedValues): 'standardized' | 'raw' {
  const name = str(values, 'dataset');
  if (values['no-standardize'] || name?.trim().toLowerCase().startsWith('synthetic:')) return 'raw';
  return 'standardized';
}
