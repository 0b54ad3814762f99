/** Flattens a validated model and data set into the kernel's ProblemSpec. */
import type { ProblemSpec } from './backend/types.js';
import { fail } from './errors.js';
import { flattenParams, hasBias, layerSizes, validateModelForData } from './model.js';
import { ACTIVATIONS } from './types.js';
import type { Dataset, Model, Reduction } from './types.js';

export function reductionCode(reduction: Reduction | undefined): number {
  if (reduction === undefined || reduction === 'mean') return 0;
  if (reduction === 'sum') return 1;
  return fail('BAD_OPTION', `unknown reduction '${String(reduction)}'`, "use 'mean' (the default) or 'sum'");
}

export function toProblemSpec(model: Model, data: Dataset, reduction?: Reduction, params?: Float64Array): ProblemSpec {
  validateModelForData(model, data);
  return {
    sizes: Int32Array.from(layerSizes(model)),
    hasBias: Uint8Array.from(hasBias(model).map((b) => (b ? 1 : 0))),
    activation: ACTIVATIONS.indexOf(model.activation),
    params: params ?? flattenParams(model),
    x: data.x,
    targets: data.targets,
    samples: data.n,
    reduction: reductionCode(reduction),
  };
}
