/** --model/--hidden and --data/--dataset: where a subcommand's model and data come from. */
import { standardize } from '../data.js';
import { fail } from '../errors.js';
import { parseActivation, randomModel } from '../model.js';
import { DATASET_NAMES, isCsvPath, loadDataset, readDataFile, readModelFile } from '../node/datasets.js';
import { assertAllocationsFit, forwardCache, modelParameters, parameterCountOf } from '../resources/memory-plan.js';
import { platformMemoryBudget } from '../memory.js';
import type { Dataset, Model, Reduction } from '../types.js';
import { choice, int, intList, str, type OptionSpec, type ParsedValues } from './args.js';

export const SOURCE_OPTIONS: OptionSpec = {
  model: { type: 'string' },
  hidden: { type: 'string' },
  activation: { type: 'string' },
  seed: { type: 'string' },
  init: { type: 'string' },
  data: { type: 'string' },
  dataset: { type: 'string' },
  'no-standardize': { type: 'boolean' },
  'no-header': { type: 'boolean' },
  classes: { type: 'string' },
  reduction: { type: 'string' },
  backend: { type: 'string' },
};

export const SOURCE_HELP = `  --model FILE            model JSON (format hessbound.mlp.v1)
  --hidden LIST           or a seeded random model with these hidden widths, e.g. 16,16
  --activation A          sigmoid|tanh|softplus|gelu|silu|identity (random model; default tanh)
  --seed S                random model seed (default 0)
  --init glorot|he        random model initialisation (default glorot)
  --data FILE             data: JSON {"x","y"} / {"x","targets"}, or CSV (label last)
  --dataset NAME          or an embedded data set: ${DATASET_NAMES.join('|')}
  --no-standardize        keep embedded data sets' (and CSV files') raw features
  --no-header             the CSV file has no header line (by default a numeric first line is refused)
  --classes C             the CSV file's number of classes (default: largest label + 1, at most 4x the
                          distinct labels)
  --reduction mean|sum    loss reduction (default mean)
  --backend native|wasm   force a backend (default: native, else WebAssembly)`;

export function loadData(values: ParsedValues): Dataset {
  const file = str(values, 'data');
  const name = str(values, 'dataset');
  if (file && name) fail('BAD_OPTION', 'give either --data FILE or --dataset NAME, not both');
  if (!file && (values['classes'] !== undefined || values['no-header'])) fail('BAD_OPTION', '--classes and --no-header apply to --data FILE.csv', 'drop them, or read the data from a CSV file');
  if (file) {
    const classes = int(values, 'classes', undefined, 2);
    const data = readDataFile(file, { ...(values['no-header'] ? { header: false } : {}), ...(classes !== undefined ? { classes } : {}) });
    return values['no-standardize'] || !isCsvPath(file) ? data : standardize(data);
  }
  if (name) return loadDataset(name, { standardize: !values['no-standardize'] });
  return fail('BAD_OPTION', 'no data given', `add --data FILE or --dataset ${DATASET_NAMES.join('|')}`);
}

export function loadModel(values: ParsedValues, data: Dataset): Model {
  const file = str(values, 'model');
  const hidden = intList(values, 'hidden');
  if (file && hidden) fail('BAD_OPTION', 'give either --model FILE or --hidden LIST, not both');
  if (file) {
    for (const flag of ['activation', 'seed', 'init'])
      if (values[flag] !== undefined) fail('BAD_OPTION', `--${flag} applies to random models (--hidden), not to --model FILE`);
    return readModelFile(file);
  }
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
    seed: int(values, 'seed', 0) as number,
    init: choice(values, 'init', ['glorot', 'he'] as const, 'glorot'),
  });
}

export function reductionOf(values: ParsedValues): Reduction {
  return choice(values, 'reduction', ['mean', 'sum'] as const, 'mean');
}

export function backendOf(values: ParsedValues): 'native' | 'wasm' | undefined {
  const b = str(values, 'backend');
  if (b === undefined) return undefined;
  return choice(values, 'backend', ['native', 'wasm'] as const, 'native');
}
