/** Flattens a validated model and data set into the kernel's ProblemSpec. */
import type { ProblemSpec } from './backend/types.js';
import { withClasses } from './data.js';
import { fail } from './errors.js';
import { flattenParams, hasBias, layerSizes, negativeSlopeOf, validateModelForData } from './model.js';
import { ACTIVATIONS } from './types.js';
import type { Dataset, Model, Reduction } from './types.js';

export function reductionCode(reduction: Reduction | undefined): number {
  if (reduction === undefined || reduction === 'mean') return 0;
  if (reduction === 'sum') return 1;
  return fail('BAD_OPTION', `unknown reduction '${String(reduction)}'`, "use 'mean' (the default) or 'sum'");
}

/**
 * Integer labels only say which classes occur: re-encode them for the model's output width when
 * they fit, and name the offending label when they do not.
 */
export function alignLabels(model: Model, data: Dataset): Dataset {
  const outputs = layerSizes(model).at(-1) as number;
  if (!data.labels || data.classes === outputs) return data;
  let worst = 0;
  data.labels.forEach((label, i) => {
    if (label > (data.labels![worst] ?? 0)) worst = i;
  });
  const label = data.labels[worst] as number;
  if (label >= outputs)
    fail('BAD_LABELS', `label ${label} (sample ${worst}) is out of range for a model with ${outputs} outputs`, `labels must be integers 0..${outputs - 1}`);
  return withClasses(data, outputs);
}

export function toProblemSpec(model: Model, dataIn: Dataset, reduction?: Reduction, params?: Float64Array): ProblemSpec {
  const data = alignLabels(model, dataIn);
  validateModelForData(model, data);
  return {
    sizes: Int32Array.from(layerSizes(model)),
    hasBias: Uint8Array.from(hasBias(model).map((b) => (b ? 1 : 0))),
    activation: ACTIVATIONS.indexOf(model.activation),
    leakySlope: negativeSlopeOf(model),
    params: params ?? flattenParams(model),
    x: data.x,
    targets: data.targets,
    samples: data.n,
    reduction: reductionCode(reduction),
  };
}
