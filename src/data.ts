/**
 * Data parsing and preparation. Pure TypeScript (no Node built-ins), so it also runs in the browser.
 *
 * Error codes: BAD_DATA (malformed input, empty data), SHAPE_MISMATCH (ragged rows, counts that do
 * not agree), NON_FINITE (NaN/Infinity features or targets), BAD_LABELS (labels or soft targets
 * that are not a valid class assignment), BAD_OPTION (bad arguments such as `d` or `classes`).
 */
import { fail } from './errors.js';
import { parseJsonText } from './model.js';
import { createRng } from './rng.js';
import type { Dataset, MatrixLike } from './types.js';

/** Soft-target rows must sum to 1 within this (relative) tolerance. */
export const TARGET_SUM_TOLERANCE = 1e-9;
/** Guards against a stray huge label allocating an enormous one-hot matrix. */
export const MAX_CLASSES = 100_000;
/**
 * Labels imply classes 0..max. Without an explicit class count, at most this many times the number
 * of distinct labels (and at least MIN_INFERRED_CLASSES) are accepted: one stray label such as 99999
 * would otherwise build a 100 000-class model whose cost grows as N c^2.
 */
export const INFERRED_CLASS_MULTIPLE = 4;
export const MIN_INFERRED_CLASSES = 16;

export interface DatasetOptions {
  /** Number of classes; default: largest label + 1 (or the width of the targets). */
  classes?: number;
  /** Features per sample; required when `x` is a flat Float64Array. */
  d?: number;
  name?: string;
}

/** Labels (one integer per sample) or soft targets (n x classes). */
export type LabelsOrTargets = readonly number[] | Int32Array | Float64Array | Uint8Array | MatrixLike;

export interface DenseMatrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

// ---------------------------------------------------------------------------------------------
// Generic helpers

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A row of a nested matrix: a plain array or a numeric typed array. */
function isRow(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

function checkEntry(value: unknown, what: string, row: number, col: number): number {
  if (typeof value !== 'number') {
    fail('BAD_DATA', `${what}[${row}][${col}] is ${describeValue(value)}, not a number`);
  }
  if (!Number.isFinite(value)) {
    fail('NON_FINITE', `${what} has ${value} at row ${row}, column ${col} (0-based)`, 'remove or impute missing values first');
  }
  return value;
}

function matrixFromRows(rows: readonly unknown[], what: string): DenseMatrix {
  const first = rows[0];
  if (rows.length === 0) return { data: new Float64Array(0), rows: 0, cols: 0 };
  if (!isRow(first)) fail('BAD_DATA', `${what} must be an array of rows; ${what}[0] is ${describeValue(first)}`);
  const cols = first.length;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, r) => {
    if (!isRow(row)) fail('BAD_DATA', `${what}[${r}] is ${describeValue(row)}, not a row of numbers`);
    if (row.length !== cols) {
      fail('SHAPE_MISMATCH', `${what} is ragged: row ${r} has ${row.length} values but row 0 has ${cols}`);
    }
    for (let c = 0; c < cols; c++) data[r * cols + c] = checkEntry(row[c], what, r, c);
  });
  return { data, rows: rows.length, cols };
}

function matrixFromFlat(values: ArrayLike<number>, rows: number, cols: number, what: string): DenseMatrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    fail('BAD_DATA', `${what} has invalid shape rows=${String(rows)}, cols=${String(cols)}`);
  }
  if (values.length !== rows * cols) {
    fail('SHAPE_MISMATCH', `${what} has ${values.length} values but rows x cols = ${rows} x ${cols} = ${rows * cols}`);
  }
  const data = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    data[i] = checkEntry(values[i], what, Math.floor(i / cols), i % cols);
  }
  return { data, rows, cols };
}

/**
 * A row-major matrix that becomes the data set's own without a copy (a 60,000 x 3,072 float64 matrix
 * is 1.5 GB): checked finite in place. Only for arrays no caller holds (parsed from bytes here).
 */
export function adoptMatrix(values: Float64Array, rows: number, cols: number, what: string): DenseMatrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || values.length !== rows * cols)
    fail('SHAPE_MISMATCH', `${what} has ${values.length} values but rows x cols = ${rows} x ${cols}`);
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] as number)) checkEntry(values[i], what, Math.floor(i / cols), i % cols);
  return { data: values, rows, cols };
}

/**
 * Converts any MatrixLike (nested arrays, `{data, rows, cols}` row-major, or an ml-matrix `Matrix`)
 * into a dense row-major copy, checking that it is rectangular and finite.
 */
export function toDenseMatrix(m: MatrixLike, what = 'matrix'): DenseMatrix {
  if (Array.isArray(m)) return matrixFromRows(m, what);
  if (isPlainObjectOrInstance(m) && typeof (m as { to2DArray?: unknown }).to2DArray === 'function') {
    return matrixFromRows((m as { to2DArray(): number[][] }).to2DArray(), what);
  }
  if (isPlainObjectOrInstance(m) && 'data' in m && 'rows' in m && 'cols' in m) {
    const { data, rows, cols } = m as { data: ArrayLike<number>; rows: number; cols: number };
    if (!isRow(data)) fail('BAD_DATA', `${what}.data must be an array or Float64Array`);
    return matrixFromFlat(data, rows, cols, what);
  }
  return fail(
    'BAD_DATA',
    `${what} must be nested arrays, {data, rows, cols} or an ml-matrix Matrix; got ${describeValue(m)}`,
  );
}

function isPlainObjectOrInstance(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function checkNotEmpty(n: number, d: number): void {
  if (n === 0) fail('BAD_DATA', 'the data has no samples');
  if (d === 0) fail('BAD_DATA', 'the data has no features (every row is empty)');
}

// ---------------------------------------------------------------------------------------------
// Labels and targets

function checkClassesOption(classes: unknown): number | undefined {
  if (classes === undefined) return undefined;
  if (typeof classes !== 'number' || !Number.isInteger(classes) || classes < 2 || classes > MAX_CLASSES) {
    fail('BAD_OPTION', `classes must be an integer between 2 and ${MAX_CLASSES}, got ${describeValue(classes)}`);
  }
  return classes;
}

/** Where label i came from, for messages (default: "label i"; CSV: "line 12"). */
export type LabelLocator = (index: number) => string;

function readLabels(
  values: ArrayLike<unknown>,
  n: number,
  classesOption: number | undefined,
  where: LabelLocator = (i) => `label ${i}`,
): { labels: Int32Array; classes: number } {
  if (values.length !== n) {
    fail('SHAPE_MISMATCH', `there are ${values.length} labels for ${n} samples`, 'give exactly one label per row of x');
  }
  const labels = new Int32Array(n);
  let largest = -1;
  let largestAt = 0;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      fail('BAD_LABELS', `${where(i)} is ${describeValue(value)}; labels must be integers 0..c-1`, 'for soft targets pass "targets" (n x c) instead of "y"');
    }
    if (value >= MAX_CLASSES)
      fail('BAD_LABELS', `${where(i)} is ${value}; at most ${MAX_CLASSES} classes are supported`, 'labels must be class indices 0..c-1; is this column really the label?');
    labels[i] = value;
    if (value > largest) [largest, largestAt] = [value, i];
  }
  if (classesOption === undefined) checkInferredClasses(labels, largest, where(largestAt));
  const classes = classesOption ?? largest + 1;
  if (largest >= classes) {
    fail('BAD_LABELS', `label ${largest} is out of range for ${classes} classes (labels must be 0..${classes - 1})`);
  }
  // A single class is fine here (a subset of a larger problem); the model decides the output width.
  if (classesOption !== undefined && classesOption < 2) {
    fail('BAD_LABELS', `classes must be at least 2 for softmax cross-entropy, got ${classesOption}`);
  }
  return { labels, classes };
}

/** Refuses a class count implied by one stray label (see INFERRED_CLASS_MULTIPLE). */
function checkInferredClasses(labels: Int32Array, largest: number, at: string): void {
  const classes = largest + 1;
  if (classes <= MIN_INFERRED_CLASSES) return;
  const distinct = new Set(labels).size;
  const limit = Math.max(MIN_INFERRED_CLASSES, INFERRED_CLASS_MULTIPLE * distinct);
  if (classes > limit)
    fail(
      'BAD_LABELS',
      `${at} is ${largest}, which implies ${classes} classes for only ${distinct} distinct labels (more than ${INFERRED_CLASS_MULTIPLE}x the distinct labels is refused: the cost grows as samples x classes^2)`,
      'fix the stray label, or state the number of classes explicitly ("classes" in the data JSON, the classes option, CLI --classes for CSV files)',
      'fix the stray label, or state the number of classes: --classes C for a CSV file, "classes": C in a data JSON',
    );
}

/** One-hot encoding of integer labels (row-major n x classes). */
export function oneHot(labels: ArrayLike<number>, classes: number): Float64Array {
  const checkedClasses = checkClassesOption(classes) as number;
  const { labels: checked } = readLabels(labels, labels.length, checkedClasses);
  const targets = new Float64Array(checked.length * checkedClasses);
  checked.forEach((label, i) => {
    targets[i * checkedClasses + label] = 1;
  });
  return targets;
}

function checkSoftTargets(targets: DenseMatrix, n: number, classesOption: number | undefined): void {
  if (targets.rows !== n) fail('SHAPE_MISMATCH', `targets have ${targets.rows} rows for ${n} samples`);
  if (targets.cols < 2) {
    fail('BAD_LABELS', `targets have ${targets.cols} column(s); softmax cross-entropy needs at least 2 classes`);
  }
  if (classesOption !== undefined && classesOption !== targets.cols) {
    fail('SHAPE_MISMATCH', `targets have ${targets.cols} columns but classes = ${classesOption}`);
  }
  for (let r = 0; r < targets.rows; r++) {
    let sum = 0;
    for (let c = 0; c < targets.cols; c++) {
      const value = targets.data[r * targets.cols + c] as number;
      if (value < 0) fail('BAD_LABELS', `targets row ${r} has the negative value ${value} in column ${c}`, 'each targets row must be a probability distribution');
      sum += value;
    }
    if (Math.abs(sum - 1) > TARGET_SUM_TOLERANCE) {
      fail('BAD_LABELS', `targets row ${r} sums to ${sum}, not 1`, 'each targets row must be a probability distribution (nonnegative, summing to 1)');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Building datasets

export function assemble(
  x: DenseMatrix,
  supervision: { kind: 'labels'; values: ArrayLike<unknown> } | { kind: 'targets'; matrix: DenseMatrix },
  options: DatasetOptions,
  where?: LabelLocator,
): Dataset {
  checkNotEmpty(x.rows, x.cols);
  const classesOption = checkClassesOption(options.classes);
  const name = options.name !== undefined ? { name: options.name } : {};
  if (supervision.kind === 'labels') {
    const { labels, classes } = readLabels(supervision.values, x.rows, classesOption, where);
    const targets = new Float64Array(x.rows * classes);
    labels.forEach((label, i) => {
      targets[i * classes + label] = 1;
    });
    return { n: x.rows, d: x.cols, classes, x: x.data, targets, labels, ...name };
  }
  checkSoftTargets(supervision.matrix, x.rows, classesOption);
  const targets = supervision.matrix;
  return { n: x.rows, d: x.cols, classes: targets.cols, x: x.data, targets: targets.data, labels: null, ...name };
}

function featuresFrom(x: MatrixLike | Float64Array, d: number | undefined): DenseMatrix {
  if (!ArrayBuffer.isView(x)) return toDenseMatrix(x, 'x');
  if (d === undefined || !Number.isInteger(d) || d <= 0) {
    fail('BAD_OPTION', 'x is a flat Float64Array, so the number of features per sample must be given as opts.d');
  }
  if (x.length % d !== 0) {
    fail('SHAPE_MISMATCH', `x has ${x.length} values, which is not a multiple of d = ${d}`);
  }
  return matrixFromFlat(x, x.length / d, d, 'x');
}

/** Matrix-shaped supervision is soft targets, except that a single column is read as labels. */
function supervisionFrom(y: LabelsOrTargets):
  | { kind: 'labels'; values: ArrayLike<unknown> }
  | { kind: 'targets'; matrix: DenseMatrix } {
  if (ArrayBuffer.isView(y)) return { kind: 'labels', values: y as ArrayLike<number> };
  const isNested = Array.isArray(y) && y.length > 0 && isRow(y[0]);
  if (Array.isArray(y) && !isNested) return { kind: 'labels', values: y as readonly unknown[] };
  const matrix = toDenseMatrix(y as MatrixLike, 'targets');
  if (matrix.cols === 1) return { kind: 'labels', values: matrix.data };
  return { kind: 'targets', matrix };
}

/**
 * Builds a Dataset from features and labels/targets.
 * - `x`: nested arrays, `{data, rows, cols}`, an ml-matrix `Matrix`, or a flat row-major
 *   Float64Array (then `opts.d` is required).
 * - `yOrTargets`: integer labels (number[] / Int32Array / ...) or soft targets (a MatrixLike,
 *   n x classes). A one-column matrix is read as labels.
 */
export function toDataset(x: MatrixLike | Float64Array, yOrTargets: LabelsOrTargets, opts: DatasetOptions = {}): Dataset {
  const features = featuresFrom(x, opts.d);
  return assemble(features, supervisionFrom(yOrTargets), opts);
}

/**
 * Parses `{"x": [[...]], "y": [...]}` (integer labels, optional `"classes"`) or
 * `{"x": [[...]], "targets": [[...]]}` (soft targets) from JSON text or a parsed object.
 */
export function parseDataJson(input: string | object, opts: { name?: string } = {}): Dataset {
  const root = typeof input === 'string' ? parseJsonText(input, 'data') : input;
  if (!isPlainObject(root)) fail('BAD_DATA', `the data must be a JSON object {"x": [[...]], "y": [...]}, got ${describeValue(root)}`);
  const { x, y, targets, classes } = root;
  if (x === undefined) fail('BAD_DATA', 'the data has no "x" (the n x d feature rows)');
  if (!Array.isArray(x)) fail('BAD_DATA', `"x" must be an array of rows, got ${describeValue(x)}`);
  if (y !== undefined && targets !== undefined) {
    fail('BAD_DATA', 'the data has both "y" and "targets"; give one of them');
  }
  const name = typeof root['name'] === 'string' ? root['name'] : opts.name;
  const options: DatasetOptions = { ...(classes !== undefined ? { classes: classes as number } : {}), ...(name !== undefined ? { name } : {}) };
  const features = toDenseMatrix(x, 'x');
  if (y !== undefined) {
    if (!Array.isArray(y)) fail('BAD_LABELS', `"y" must be an array of integer labels, got ${describeValue(y)}`);
    return assemble(features, { kind: 'labels', values: y }, options);
  }
  if (targets !== undefined) {
    if (!Array.isArray(targets)) fail('BAD_DATA', `"targets" must be an array of rows, got ${describeValue(targets)}`);
    return assemble(features, { kind: 'targets', matrix: toDenseMatrix(targets, 'targets') }, options);
  }
  return fail('BAD_DATA', 'the data needs "y" (integer labels 0..c-1) or "targets" (n x c soft targets)');
}

// ---------------------------------------------------------------------------------------------
// CSV: one reader for every CSV path, in its own module (RFC 4180 via csv-parse).

export { parseCsv, type CsvOptions } from './io/csv.js';

// ---------------------------------------------------------------------------------------------
// Transformations

/**
 * Per-feature standardization: zero mean and unit population standard deviation. A (numerically)
 * constant feature carries no information and has no scale, so it is left at 0 after centering.
 */
export function standardize(data: Dataset): Dataset {
  const x = new Float64Array(data.x);
  standardizeColumns(x, data.n, data.d);
  return { ...data, x };
}

/**
 * standardize() in place, for data no one else holds (just read from a file): a 60,000 x 3,072
 * matrix is 1.5 GB, and the copy would be a second one.
 */
export function standardizeOwned(data: Dataset): Dataset {
  standardizeColumns(data.x, data.n, data.d);
  return data;
}

function standardizeColumns(x: Float64Array, n: number, d: number): void {
  for (let j = 0; j < d; j++) {
    let mean = 0;
    let largest = 0;
    for (let i = 0; i < n; i++) {
      const value = x[i * d + j] as number;
      mean += value;
      largest = Math.max(largest, Math.abs(value));
    }
    mean /= n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += ((x[i * d + j] as number) - mean) ** 2;
    let std = Math.sqrt(variance / n);
    if (!Number.isFinite(mean) || !Number.isFinite(std)) {
      // Values near 1e154 and above overflow when summed or squared (the column became zeros):
      // the same in units of the largest value. Other columns keep their bits.
      mean = 0;
      for (let i = 0; i < n; i++) mean += (x[i * d + j] as number) / largest;
      mean = (mean / n) * largest;
      variance = 0;
      for (let i = 0; i < n; i++) variance += (((x[i * d + j] as number) - mean) / largest) ** 2;
      std = Math.sqrt(variance / n) * largest;
    }
    // Rounding leaves a tiny spread in constant columns; dividing by it would amplify noise to +-1.
    const isConstant = std <= 1e-12 * largest;
    for (let i = 0; i < n; i++) {
      x[i * d + j] = isConstant ? 0 : ((x[i * d + j] as number) - mean) / std;
    }
  }
}

/** A random subset of `count` samples (without replacement, original order kept); same classes. */
export function subsample(data: Dataset, count: number, seed: number): Dataset {
  if (!Number.isInteger(count) || count < 1) fail('BAD_OPTION', `subsample size must be a positive integer, got ${describeValue(count)}`);
  if (count >= data.n) return data;
  const rng = createRng(seed);
  const picked = rng.shuffle(Array.from({ length: data.n }, (_, i) => i)).slice(0, count).sort((a, b) => a - b);
  const { d, classes } = data;
  const x = new Float64Array(count * d);
  const targets = new Float64Array(count * classes);
  const labels = data.labels ? new Int32Array(count) : null;
  picked.forEach((source, i) => {
    x.set(data.x.subarray(source * d, (source + 1) * d), i * d);
    targets.set(data.targets.subarray(source * classes, (source + 1) * classes), i * classes);
    if (labels && data.labels) labels[i] = data.labels[source] as number;
  });
  return { ...data, n: count, x, targets, labels };
}

/**
 * Re-encodes labelled data for `classes` classes (e.g. when a subset lacks the highest labels but
 * the model has an output per class of the full problem).
 */
export function withClasses(data: Dataset, classes: number): Dataset {
  if (classes === data.classes) return data;
  if (!data.labels) {
    fail('SHAPE_MISMATCH', `the data has ${data.classes} soft-target columns; it cannot be re-encoded for ${classes} classes`);
  }
  return { ...data, classes, targets: oneHot(data.labels, classes) };
}
