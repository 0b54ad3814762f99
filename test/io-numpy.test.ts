/** NumPy data: .npz (x with y or targets) and .npy pairs, C and Fortran order, four dtypes, and bad input. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HessboundError } from '../src/errors.js';
import { parseData, parseDataArrays } from '../src/io/model-source.js';
import { parseNpy } from '../src/io/npy.js';
import { FIXTURE_DIR, loadFixtures } from './helpers/fixtures.js';

const INTEROP = join(FIXTURE_DIR, 'interop');
const read = (name: string) => new Uint8Array(readFileSync(join(INTEROP, name)));
const fixtures = new Map(loadFixtures().map((f) => [f.name, f]));

/** An .npy v1.0 file built from the format description (header padded to 64 bytes). */
function npy(descr: string, shape: number[], data: ArrayBufferView, fortran = false, version = 1): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const preamble = version === 1 ? 10 : 12;
  const total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  const header = dict.padEnd(total - preamble - 1, ' ') + '\n';
  const bytes = new Uint8Array(total + data.byteLength);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(bytes.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), preamble);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return bytes;
}

function expectError(fn: () => unknown, code: string, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HessboundError);
    expect((err as HessboundError).code).toBe(code);
    expect((err as HessboundError).message).toMatch(message);
    return;
  }
  throw new Error('expected a HessboundError');
}

describe('NumPy files made by numpy', () => {
  const iris = fixtures.get('iris-tanh-h8')!.data;
  it('.npz with float64 x and int64 y equals the JSON data exactly', () => {
    const data = parseData(read('iris.npz'), { fileName: 'iris.npz' });
    expect([data.n, data.d, data.classes]).toEqual([iris.n, iris.d, iris.classes]);
    expect(data.x).toEqual(iris.x);
    expect(data.labels).toEqual(iris.labels);
  });
  it('an .npy pair: Fortran-order float32 x and int32 y', () => {
    const data = parseDataArrays(read('iris.x.f32-fortran.npy'), read('iris.y.i32.npy'));
    expect(data.x).toEqual(iris.x.map(Math.fround));
    expect(data.labels).toEqual(iris.labels);
  });
  it('a compressed .npz with soft targets', () => {
    const soft = fixtures.get('synth-gelu-h7-soft')!.data;
    const data = parseData(read('synth-gelu-soft.npz'));
    expect(data.labels).toBeNull();
    expect(data.x).toEqual(soft.x);
    expect(data.targets).toEqual(soft.targets);
  });
});

describe('.npy details', () => {
  it('C and Fortran order give the same row-major values; versions 1 and 2', () => {
    const c = parseNpy(npy('<f8', [2, 3], Float64Array.of(1, 2, 3, 4, 5, 6)));
    const f = parseNpy(npy('<f8', [2, 3], Float64Array.of(1, 4, 2, 5, 3, 6), true, 2));
    expect([...c.values]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...f.values]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(f.shape).toEqual([2, 3]);
  });
  it('int64 labels and float32 features', () => {
    const y = parseNpy(npy('<i8', [3], BigInt64Array.of(0n, 2n, 1n)));
    expect([...y.values]).toEqual([0, 2, 1]);
    expect(y.kind).toBe('int');
    const x = parseNpy(npy('<f4', [3, 1], Float32Array.of(0.1, 0.2, 0.3)));
    expect([...x.values]).toEqual([0.1, 0.2, 0.3].map(Math.fround));
  });
});

describe('bad NumPy input is a HessboundError with a fix', () => {
  const x = npy('<f8', [2, 2], Float64Array.of(1, 2, 3, 4));
  const y = npy('<i8', [2], BigInt64Array.of(0n, 1n));
  it('truncated data and header', () => {
    expectError(() => parseNpy(x.subarray(0, x.length - 8)), 'BAD_DATA', /truncated: shape \[2, 2\] needs 4 values but the file holds 3/);
    expectError(() => parseNpy(x.subarray(0, 40)), 'BAD_DATA', /header length is \d+ bytes but only 30 bytes follow/);
    expectError(() => parseNpy(x.subarray(0, 4)), 'BAD_DATA', /not a .npy file/);
  });
  it('unsupported dtypes', () => {
    expectError(() => parseNpy(npy('>f8', [1], Float64Array.of(1))), 'BAD_DATA', /not a readable .npy file: Unsupported dtype: >f8/);
    expectError(() => parseNpy(npy('|b1', [2], Uint8Array.of(1, 0))), 'BAD_DATA', /dtype b1/);
  });
  it('shapes and labels that do not make a data set', () => {
    expectError(() => parseDataArrays(npy('<f8', [4], Float64Array.of(1, 2, 3, 4)), y), 'BAD_DATA', /shape \[4\]; features must be a 2-D array/);
    expectError(() => parseDataArrays(x, npy('<f8', [2], Float64Array.of(0, 0.5))), 'BAD_LABELS', /label 1 is 0.5/);
    expectError(() => parseDataArrays(x, npy('<i8', [3], BigInt64Array.of(0n, 1n, 1n))), 'SHAPE_MISMATCH', /3 labels for 2 samples/);
    expectError(() => parseDataArrays(x, npy('<i8', [2], BigInt64Array.of(0n, -1n))), 'BAD_LABELS', /label 1 is -1/);
    expectError(() => parseDataArrays(npy('<f8', [1, 1], Float64Array.of(Number.NaN)), npy('<i8', [1], BigInt64Array.of(0n))), 'NON_FINITE', /NaN/);
  });
  it('a lone .npy as data, an .npz without labels, a broken zip', () => {
    expectError(() => parseData(x, { fileName: 'x.npy' }), 'BAD_DATA', /--data-x X.npy --data-y Y.npy/);
    const npz = read('iris.npz');
    expectError(() => parseData(npz.subarray(0, npz.length - 30), { fileName: 'd.npz' }), 'BAD_DATA', /not a readable zip/);
  });
});
