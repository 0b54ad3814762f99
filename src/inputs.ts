/** Normalises what users pass (objects, JSON text, nested arrays, ml-matrix) into Model / Dataset. */
import { toDataset, toDenseMatrix, type LabelsOrTargets } from './data.js';
import { fail } from './errors.js';
import { parseModelJson, validateModel, type ModelJson } from './model.js';
import type { Dataset, MatrixLike, Model } from './types.js';

export type ModelInput = Model | ModelJson | string;

/** Data as a Dataset, or features with labels (`y`) or soft targets (`targets`). */
export type DataInput =
  | Dataset
  | { x: MatrixLike | Float64Array; y: LabelsOrTargets; d?: number; classes?: number }
  | { x: MatrixLike | Float64Array; targets: MatrixLike; d?: number };

function isModel(input: unknown): input is Model {
  const m = input as Model;
  return typeof m === 'object' && m !== null && Array.isArray(m.layers) && m.layers[0]?.weight instanceof Float64Array;
}

export function toModel(input: ModelInput): Model {
  if (isModel(input)) return validateModel(input);
  if (typeof input === 'string' || (typeof input === 'object' && input !== null)) return parseModelJson(input);
  return fail('BAD_MODEL', 'expected a model: a Model, its JSON object, or JSON text');
}

function isDataset(input: unknown): input is Dataset {
  const d = input as Dataset;
  return typeof d === 'object' && d !== null && d.x instanceof Float64Array && d.targets instanceof Float64Array && typeof d.n === 'number';
}

export function toDatasetInput(input: DataInput): Dataset {
  if (isDataset(input)) return input;
  if (typeof input !== 'object' || input === null || !('x' in input))
    return fail('BAD_DATA', 'expected data: a Dataset or {x, y} / {x, targets}');
  if ('targets' in input && input.targets !== undefined) return toDataset(input.x, input.targets, { ...(input.d ? { d: input.d } : {}) });
  if ('y' in input) {
    const { x, y, d, classes } = input;
    return toDataset(x, y, { ...(d ? { d } : {}), ...(classes ? { classes } : {}) });
  }
  return fail('BAD_DATA', 'the data needs "y" (integer labels) or "targets" (soft targets)');
}

/** A square symmetric matrix from any MatrixLike or a flat Float64Array of n*n values. */
export function toSquareMatrix(input: MatrixLike | Float64Array): { n: number; data: Float64Array } {
  if (input instanceof Float64Array) {
    const n = Math.round(Math.sqrt(input.length));
    if (n * n !== input.length || n === 0)
      fail('SHAPE_MISMATCH', `a flat matrix must hold n*n values; ${input.length} is not a square`);
    for (let i = 0; i < input.length; i++)
      if (!Number.isFinite(input[i])) fail('NON_FINITE', `matrix entry ${i} (row ${Math.floor(i / n)}) is not finite`);
    return { n, data: input };
  }
  const m = toDenseMatrix(input, 'matrix');
  if (m.rows !== m.cols) fail('SHAPE_MISMATCH', `the matrix must be square, got ${m.rows} x ${m.cols}`);
  return { n: m.rows, data: m.data };
}
