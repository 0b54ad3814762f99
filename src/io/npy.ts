/**
 * NumPy `.npy` arrays (format versions 1-3): the header is read with the `npyjs` library, then
 * checked here (shape, length, dtype) and converted to float64 in C order (Fortran-order files
 * are transposed). Pure TypeScript, no Node built-ins.
 */
import { parse as parseNpyLibrary, type NpyArray } from 'npyjs';
import { fail, HessboundError } from '../errors.js';
import { formatBytes, platformMemoryBudget } from '../memory.js';
import { asBytes, dataView, describeShape, shapeSize } from './bytes.js';

export interface NumericArray {
  readonly shape: readonly number[];
  /** The values in C (row-major) order, as float64. */
  readonly values: Float64Array;
  /** Whether the file stored integers (labels) or floating-point numbers. */
  readonly kind: 'int' | 'float';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const SUPPORTED = ['f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8'];
const HINT_CORRUPT = 'the file is truncated or not a .npy file; save it again with numpy.save(path, array)';

export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((byte, i) => bytes[i] === byte);
}

/** Magic, version and header length, checked before the library sees the bytes. */
function checkPreamble(bytes: Uint8Array, what: string): void {
  if (bytes.length < 10 || !isNpy(bytes)) fail('BAD_DATA', `${what} is not a .npy file (it does not start with \\x93NUMPY)`, HINT_CORRUPT);
  const major = bytes[6] as number;
  if (major < 1 || major > 3) fail('BAD_DATA', `${what} has .npy format version ${major}.${bytes[7] as number}; versions 1 to 3 are supported`);
  const preamble = major === 1 ? 10 : 12;
  if (bytes.length < preamble) fail('BAD_DATA', `${what} is truncated inside its .npy preamble`, HINT_CORRUPT);
  const view = dataView(bytes);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (preamble + headerLength > bytes.length) {
    fail('BAD_DATA', `${what}'s .npy header length is ${headerLength} bytes but only ${bytes.length - preamble} bytes follow`, HINT_CORRUPT);
  }
}

/** Whether `bytes` is the whole of a plain ArrayBuffer (not a pooled Buffer's slice, not shared). */
function spansBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
}

function callLibrary(bytes: Uint8Array, what: string, adopt: boolean): NpyArray {
  try {
    // The library wants an ArrayBuffer of its own (typed-array views at the data offset): the
    // caller's when it hands the bytes over (adopt) and they span their buffer, else a copy (a Node
    // Buffer's slice() shares the pooled buffer).
    if (adopt && spansBuffer(bytes)) return parseNpyLibrary(bytes.buffer as ArrayBuffer);
    const own = new Uint8Array(bytes.length);
    own.set(bytes);
    return parseNpyLibrary(own.buffer);
  } catch (err) {
    if (err instanceof HessboundError) throw err;
    return fail('BAD_DATA', `${what} is not a readable .npy file: ${err instanceof Error ? err.message : String(err)}`,
      'save it with numpy.save(path, array) as float32/float64/int32/int64 (little-endian, no object arrays)');
  }
}

/** Row-major copy of values stored in column-major (Fortran) order. */
function fortranToC(values: Float64Array, shape: readonly number[]): Float64Array {
  if (shape.length < 2) return values;
  const out = new Float64Array(values.length);
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  for (let c = 0; c < values.length; c++) {
    // c walks C order; the same element's Fortran offset uses the reversed strides.
    let offset = 0;
    let stride = 1;
    for (let k = 0; k < rank; k++) {
      offset += (index[k] as number) * stride;
      stride *= shape[k] as number;
    }
    out[c] = values[offset] as number;
    for (let k = rank - 1; k >= 0; k--) {
      index[k] = (index[k] as number) + 1;
      if ((index[k] as number) < (shape[k] as number)) break;
      index[k] = 0;
    }
  }
  return out;
}

export interface ParseNpyOptions {
  /**
   * The bytes are handed over (a file just read, a member just inflated): no copy of them is made,
   * and a little-endian float64 C-order array's values are a view on them (zero copies). Default false.
   */
  adopt?: boolean;
}

/** Parses one .npy array; `what` names it in errors (e.g. "x.npy"). */
export function parseNpy(input: Uint8Array | ArrayBuffer, what = 'the array', options: ParseNpyOptions = {}): NumericArray {
  const bytes = asBytes(input, what, 'BAD_DATA');
  checkPreamble(bytes, what);
  const adopt = options.adopt === true && spansBuffer(bytes);
  const array = callLibrary(bytes, what, adopt);
  const dtype = String(array.dtype);
  if (!SUPPORTED.includes(dtype)) {
    fail('BAD_DATA', `${what} has dtype ${dtype}; supported: float16/32/64 and (unsigned) integers`,
      'convert it first, e.g. numpy.save(path, a.astype(numpy.float64)) (labels: .astype(numpy.int64))');
  }
  const shape = array.shape;
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail('BAD_DATA', `${what} has an invalid shape ${describeShape(shape)}`, HINT_CORRUPT);
  const count = shapeSize(shape);
  const stored = array.data as unknown as ArrayLike<number | bigint>;
  if (!Number.isSafeInteger(count) || stored.length < count) {
    fail('BAD_DATA', `${what} is truncated: shape ${describeShape(shape)} needs ${count} values but the file holds ${stored.length}`, HINT_CORRUPT);
  }
  const fortran = array.fortranOrder && shape.length >= 2;
  // float64 in C order, bytes handed over: the values are the file's own bytes.
  if (adopt && dtype === 'f8' && !fortran) return { shape, values: (array.data as unknown as Float64Array).subarray(0, count), kind: 'float' };
  // Planned before allocating: the float64 values (twice for Fortran order) beside the bytes.
  const need = 8 * count * (fortran ? 2 : 1) + (adopt ? bytes.length : 2 * bytes.length);
  const budget = platformMemoryBudget();
  if (need > budget)
    fail('TOO_LARGE', `${what} holds ${describeShape(shape)} ${dtype} values: ${formatBytes(8 * count)} as float64, ${formatBytes(need)} with the file's bytes while converting, more than available memory allows (${formatBytes(budget)})`, 'use fewer samples or features (a subsample), or a machine with more free memory');
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const value = stored[i] as number | bigint;
    if (typeof value === 'bigint' && (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))) {
      fail('BAD_DATA', `${what}[${i}] is ${value}, too large to be a label or feature`);
    }
    values[i] = Number(value);
  }
  return { shape, values: fortran ? fortranToC(values, shape) : values, kind: dtype.startsWith('f') ? 'float' : 'int' };
}
