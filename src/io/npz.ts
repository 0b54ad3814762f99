/**
 * NumPy `.npz` archives (`numpy.savez` / `savez_compressed`): a zip of `.npy` files, read with
 * `fflate`. Data sets are `x` (n x d) with `y` (n integer labels) or `targets` (n x c).
 * Pure TypeScript, no Node built-ins.
 */
import { unzipSync } from 'fflate';
import { adoptMatrix, assemble, type DenseMatrix } from '../data.js';
import { fail, HessboundError } from '../errors.js';
import { formatBytes, platformMemoryBudget } from '../memory.js';
import type { Dataset } from '../types.js';
import { asBytes, describeShape } from './bytes.js';
import { parseNpy, type NumericArray } from './npy.js';

export function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 0x03 || bytes[2] === 0x05) && (bytes[3] === 0x04 || bytes[3] === 0x06);
}

/**
 * The arrays of an .npz archive by name (without `.npy`): those `wanted` (default all). Members are
 * chosen by name and their declared sizes checked against the memory budget before any is inflated
 * (fflate inflates into a buffer of the declared size and never beyond it), so a small archive that
 * expands to gigabytes is refused unread; `names` receives every member's name.
 */
export function parseNpz(input: Uint8Array | ArrayBuffer, wanted?: (name: string) => boolean, names: string[] = []): Map<string, NumericArray> {
  const bytes = asBytes(input, 'an .npz archive', 'BAD_DATA');
  let entries: Record<string, Uint8Array>;
  let declared = 0;
  const budget = platformMemoryBudget();
  try {
    entries = unzipSync(bytes, {
      filter: (file) => {
        if (!file.name.endsWith('.npy')) return false;
        const name = file.name.replace(/\.npy$/, '');
        names.push(name);
        if (wanted && !wanted(name)) return false;
        // The inflated bytes, and their float64 copy (8 bytes a value for 1-byte values at most).
        declared += file.originalSize;
        if (9 * declared > budget)
          fail('TOO_LARGE', `the .npz member ${name}.npy declares ${formatBytes(file.originalSize)} (${formatBytes(declared)} so far), which with its float64 copy needs up to ${formatBytes(9 * declared)}, more than available memory allows (${formatBytes(budget)})`, 'subsample the data or save it as float32; HESSBOUND_MAX_MEMORY caps what hessbound uses');
        return true;
      },
    });
  } catch (err) {
    if (err instanceof HessboundError) throw err;
    return fail('BAD_DATA', `the .npz archive is not a readable zip file: ${err instanceof Error ? err.message : String(err)}`,
      'save it again with numpy.savez(path, x=x, y=y)');
  }
  const arrays = new Map<string, NumericArray>();
  for (const [name, data] of Object.entries(entries)) arrays.set(name.replace(/\.npy$/, ''), parseNpy(data, name, { adopt: true })); // inflated: our own bytes
  return arrays;
}

/** The features as the data set's own matrix: parseNpy's values are never shared with a caller, so no copy. */
function featureMatrix(x: NumericArray, what: string): DenseMatrix {
  if (x.shape.length !== 2) {
    fail('BAD_DATA', `${what} has shape ${describeShape(x.shape)}; features must be a 2-D array (samples x features)`,
      x.shape.length === 1 ? 'one feature per sample? reshape it: x.reshape(-1, 1)' : 'flatten each sample: x.reshape(len(x), -1)');
  }
  return adoptMatrix(x.values, x.shape[0] as number, x.shape[1] as number, what);
}

/**
 * A data set from NumPy arrays: `x` (n x d), and `y` (n integer labels, or an n x 1 column) or
 * `targets` (n x c soft targets, rows summing to 1).
 */
export function datasetFromArrays(x: NumericArray, supervision: { y: NumericArray } | { targets: NumericArray }, options: { name?: string; classes?: number } = {}): Dataset {
  // The caller keeps its arrays: the data set gets copies.
  const copy = (a: NumericArray): NumericArray => ({ ...a, values: a.values.slice() });
  return datasetFromOwnArrays(copy(x), 'y' in supervision ? { y: supervision.y } : { targets: copy(supervision.targets) }, options);
}

/** datasetFromArrays for arrays parsed here (no one else holds them): their values become the data set's, uncopied. */
export function datasetFromOwnArrays(x: NumericArray, supervision: { y: NumericArray } | { targets: NumericArray }, options: { name?: string; classes?: number } = {}): Dataset {
  const features = featureMatrix(x, 'x');
  const opts = { ...(options.name !== undefined ? { name: options.name } : {}), ...(options.classes !== undefined ? { classes: options.classes } : {}) };
  if ('y' in supervision) {
    const y = supervision.y;
    const isColumn = y.shape.length === 2 && y.shape[1] === 1;
    if (y.shape.length !== 1 && !isColumn) {
      fail('BAD_LABELS', `y has shape ${describeShape(y.shape)}; labels must be 1-D (one integer class per sample)`,
        'for soft targets (n x c) save them as "targets" instead of "y"');
    }
    return assemble(features, { kind: 'labels', values: y.values }, opts);
  }
  const targets = supervision.targets;
  if (targets.shape.length !== 2) fail('BAD_DATA', `targets has shape ${describeShape(targets.shape)}; soft targets are 2-D (samples x classes)`);
  return assemble(features, { kind: 'targets', matrix: adoptMatrix(targets.values, targets.shape[0] as number, targets.shape[1] as number, 'targets') }, opts);
}

const DATA_MEMBERS = ['x', 'X', 'y', 'labels', 'targets'];

/** A data set from an .npz archive holding `x` and `y` (or `targets`). */
export function parseNpzDataset(input: Uint8Array | ArrayBuffer, options: { name?: string; classes?: number } = {}): Dataset {
  const names: string[] = [];
  // Only the members a data set uses are inflated.
  const arrays = parseNpz(input, (name) => DATA_MEMBERS.includes(name), names);
  const x = arrays.get('x') ?? arrays.get('X');
  const y = arrays.get('y') ?? arrays.get('labels');
  const targets = arrays.get('targets');
  const hint = 'save it as numpy.savez(path, x=features, y=labels) (or targets=soft_targets)';
  if (!x) fail('BAD_DATA', `the .npz archive has no "x" array (it has: ${names.join(', ') || 'none'})`, hint);
  if (y && targets) fail('BAD_DATA', 'the .npz archive has both "y" and "targets"; keep one of them');
  if (!y && !targets) fail('BAD_DATA', `the .npz archive has no "y" (labels) or "targets" array (it has: ${names.join(', ')})`, hint);
  return datasetFromOwnArrays(x, y ? { y } : { targets: targets as NumericArray }, options);
}
