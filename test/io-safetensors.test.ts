/** safetensors: exact dtype conversion, module-name layouts, writing, and every bad input as a HessboundError. */
import { describe, expect, it } from 'vitest';
import { HessboundError, type ErrorCode } from '../src/errors.js';
import { bfloat16BitsToNumber, float16BitsToNumber } from '../src/io/half.js';
import { modelFromSafetensors, modelToSafetensors, parseSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { parseModel } from '../src/io/model-source.js';
import { flattenParams, randomModel } from '../src/model.js';
import { expectError as expectSharedError } from './helpers/expect.js';

/** A safetensors file written byte by byte from the spec (independent of writeSafetensors). */
function rawFile(header: object, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** The shared check, plus: every error carries a hint. */
function expectError(fn: () => unknown, code: ErrorCode, message: RegExp): HessboundError {
  const e = expectSharedError(fn, code, message);
  expect(e.hint ?? e.message).toBeTruthy();
  return e;
}

/** Sequential 2 -> 3 -> 2 in F32: weights 0..5 and 6..11, biases. */
function sequentialF32(metadata: Record<string, string> | null = { activation: 'tanh' }, names = ['0', '2']): Uint8Array {
  const w1 = [0.5, -1, 1.5, 2, -0.25, 3];
  const b1 = [0.1, 0.2, 0.3];
  const w2 = [1, 2, 3, 4, 5, 6];
  const b2 = [-1, 1];
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const chunks = [w1, b1, w2, b2];
  const shapes = [[3, 2], [3], [2, 3], [2]];
  const keys = [`${names[0]}.weight`, `${names[0]}.bias`, `${names[1]}.weight`, `${names[1]}.bias`];
  let offset = 0;
  chunks.forEach((chunk, i) => {
    header[keys[i]!] = { dtype: 'F32', shape: shapes[i], data_offsets: [offset, offset + 4 * chunk.length] };
    offset += 4 * chunk.length;
  });
  return rawFile(header, f32Bytes(chunks.flat()));
}

describe('16-bit floats convert exactly', () => {
  it('float16', () => {
    expect(float16BitsToNumber(0x3c00)).toBe(1);
    expect(float16BitsToNumber(0xc000)).toBe(-2);
    expect(float16BitsToNumber(0x7bff)).toBe(65504);
    expect(float16BitsToNumber(0x0001)).toBe(2 ** -24);
    expect(float16BitsToNumber(0x03ff)).toBe(1023 * 2 ** -24);
    expect(float16BitsToNumber(0x3555)).toBe(0.333251953125);
    expect(float16BitsToNumber(0x7c00)).toBe(Infinity);
    expect(float16BitsToNumber(0xfc00)).toBe(-Infinity);
    expect(float16BitsToNumber(0x7e00)).toBeNaN();
    expect(Object.is(float16BitsToNumber(0x8000), -0)).toBe(true);
  });
  it('bfloat16', () => {
    expect(bfloat16BitsToNumber(0x3f80)).toBe(1);
    expect(bfloat16BitsToNumber(0x4049)).toBe(3.140625);
    expect(bfloat16BitsToNumber(0xc2f7)).toBe(-123.5);
    expect(bfloat16BitsToNumber(0x0001)).toBe(2 ** -133);
  });
  it('F16 and BF16 tensors in a file', () => {
    const data = new Uint8Array(new Uint16Array([0x3c00, 0x3555, 0x3f80, 0x4049]).buffer);
    const file = parseSafetensors(rawFile({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] } }, data));
    expect([...file.tensors.get('a')!.values]).toEqual([1, 0.333251953125]);
    expect([...file.tensors.get('b')!.values]).toEqual([1, 3.140625]);
  });
});

describe('layouts', () => {
  it('nn.Sequential names, F32 values exact in float64', () => {
    const model = modelFromSafetensors(sequentialF32());
    expect(model.activation).toBe('tanh');
    expect(model.layers.map((l) => [l.out, l.in])).toEqual([[3, 2], [2, 3]]);
    expect([...model.layers[0]!.weight]).toEqual([0.5, -1, 1.5, 2, -0.25, 3]);
    expect([...model.layers[0]!.bias!]).toEqual([0.1, 0.2, 0.3].map(Math.fround));
  });
  it('nested names are ordered by their index, not by the text', () => {
    // 10 sorts before 2 as text; the index order is 2 then 10.
    const model = modelFromSafetensors(sequentialF32({ activation: 'gelu' }, ['model.layers.2', 'model.layers.10']));
    expect(model.layers.map((l) => [l.out, l.in])).toEqual([[3, 2], [2, 3]]);
    expect(model.activation).toBe('gelu');
  });
  it('named modules are ordered by chaining shapes', () => {
    const bytes = writeSafetensors([
      { name: 'head.weight', shape: [4, 3], values: new Float64Array(12).fill(2) },
      { name: 'head.bias', shape: [4], values: new Float64Array(4) },
      { name: 'fc1.weight', shape: [3, 2], values: new Float64Array(6).fill(1) },
    ], { activation: 'silu' });
    const model = modelFromSafetensors(bytes);
    expect(model.layers.map((l) => [l.out, l.in, l.weight[0], l.bias !== null])).toEqual([[3, 2, 1, false], [4, 3, 2, true]]);
  });
  it('ambiguous named modules need a layer order, which then decides', () => {
    const square = (name: string, seed: number) => ({ name: `${name}.weight`, shape: [3, 3], values: Float64Array.from({ length: 9 }, (_, i) => seed + i) });
    const bytes = writeSafetensors([square('fc1', 0), square('head', 100), { name: 'fc2.weight', shape: [3, 3], values: new Float64Array(9).fill(7) }], { activation: 'tanh' });
    const e = expectError(() => modelFromSafetensors(bytes), 'BAD_MODEL', /ambiguous/);
    expect(e.hint).toMatch(/--layer-order fc1,fc2,head/);
    const model = modelFromSafetensors(bytes, { layerOrder: ['fc1', 'fc2', 'head'] });
    expect(model.layers.map((l) => l.weight[0])).toEqual([0, 7, 100]);
    expectError(() => modelFromSafetensors(bytes, { layerOrder: ['fc1', 'fc9', 'head'] }), 'BAD_OPTION', /fc9/);
    expectError(() => modelFromSafetensors(bytes, { layerOrder: ['fc1', 'head'] }), 'BAD_OPTION', /exactly once/);
  });
  it('the activation comes from the metadata or the option, never a default', () => {
    const bare = sequentialF32(null);
    const e = expectError(() => modelFromSafetensors(bare), 'BAD_ACTIVATION', /does not say which activation/);
    expect(e.hint).toMatch(/--activation/);
    expect(modelFromSafetensors(bare, { activation: 'softplus' }).activation).toBe('softplus');
    expect(modelFromSafetensors(sequentialF32({ activation: 'Tanh' }), { activation: 'tanh' }).activation).toBe('tanh');
    expectError(() => modelFromSafetensors(sequentialF32(), { activation: 'gelu' }), 'BAD_ACTIVATION', /says the activation is "tanh"/);
    expectError(() => modelFromSafetensors(sequentialF32({ activation: 'elu' })), 'BAD_ACTIVATION', /not smooth/);
  });
});

describe('writing', () => {
  it('modelToSafetensors round-trips exactly, with nn.Sequential names and the activation', () => {
    const model = randomModel({ inputs: 5, hidden: [4, 3], classes: 3, activation: 'softplus', seed: 7 });
    const bytes = modelToSafetensors(model);
    const file = parseSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
    expect([...file.tensors.values()].every((t) => t.dtype === 'F64')).toBe(true);
    expect(file.metadata['activation']).toBe('softplus');
    // The tensor data starts 8-byte aligned, as the reference writer leaves it.
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const back = parseModel(bytes);
    expect(back.activation).toBe('softplus');
    expect(flattenParams(back)).toEqual(flattenParams(model));
  });
  it('models without biases', () => {
    const model = randomModel({ inputs: 3, hidden: [2], classes: 2, activation: 'identity', seed: 1, bias: false });
    const file = parseSafetensors(modelToSafetensors(model));
    expect([...file.tensors.keys()]).toEqual(['0.weight', '2.weight']);
    expect(flattenParams(parseModel(modelToSafetensors(model)))).toEqual(flattenParams(model));
  });
});

describe('bad input is a HessboundError with a fix', () => {
  const good = sequentialF32();
  it('truncated files', () => {
    expectError(() => parseSafetensors(good.subarray(0, 5)), 'BAD_MODEL', /fewer than its 8-byte header length/);
    expectError(() => parseSafetensors(good.subarray(0, 40)), 'BAD_MODEL', /header length is \d+ bytes but only 32 bytes follow/);
    expectError(() => parseSafetensors(good.subarray(0, good.length - 4)), 'BAD_MODEL', /outside the \d+ bytes of tensor data/);
  });
  it('a header length beyond the file', () => {
    expectError(() => parseSafetensors(rawFile({}, new Uint8Array(0), 1n << 60n)), 'BAD_MODEL', /header length .* but only/);
  });
  it('a header that is not JSON, or not an object', () => {
    const bytes = rawFile({}, new Uint8Array(0));
    bytes[8] = 0x5b; // '[' makes "[}" invalid JSON
    expectError(() => parseSafetensors(bytes), 'BAD_MODEL', /not valid JSON/);
    expectError(() => parseSafetensors(rawFile([1, 2] as unknown as object, new Uint8Array(0))), 'BAD_MODEL', /not a JSON object/);
  });
  it('an unknown dtype, integer weights', () => {
    expectError(() => parseSafetensors(rawFile({ w: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Uint8Array(16))), 'BAD_MODEL', /unknown dtype "F128"/);
    const e = expectError(() => parseSafetensors(rawFile({ w: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4))), 'BAD_MODEL', /integer/);
    expect(e.hint).toMatch(/quantized/);
  });
  it('offsets that do not match the shape', () => {
    expectError(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(8))), 'BAD_MODEL', /needs 8 bytes but its data_offsets span 4/);
    expectError(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4))), 'BAD_MODEL', /invalid shape/);
  });
  it('shapes that do not chain', () => {
    const bytes = writeSafetensors([
      { name: '0.weight', shape: [3, 2], values: new Float64Array(6) },
      { name: '2.weight', shape: [2, 4], values: new Float64Array(8) },
    ], { activation: 'tanh' });
    const e = expectError(() => parseModel(bytes), 'SHAPE_MISMATCH', /takes 4 inputs but layers\[0\] produces 3/);
    expect(e.hint).toMatch(/transposed/);
    const named = writeSafetensors([
      { name: 'fc1.weight', shape: [3, 2], values: new Float64Array(6) },
      { name: 'head.weight', shape: [4, 5], values: new Float64Array(20) },
    ], { activation: 'tanh' });
    expectError(() => parseModel(named), 'SHAPE_MISMATCH', /do not chain in any order: fc1 \(3x2\), head \(4x5\)/);
  });
  it('tensors that are not linear layers', () => {
    const norm = writeSafetensors([{ name: 'norm.weight', shape: [3], values: new Float64Array(3) }], { activation: 'tanh' });
    expectError(() => parseModel(norm), 'BAD_MODEL', /shape \[3\] \(a normalisation layer's scale\?\)/);
    const buffer = writeSafetensors([{ name: 'bn.running_mean', shape: [3], values: new Float64Array(3) }], { activation: 'tanh' });
    expectError(() => parseModel(buffer), 'BAD_MODEL', /"bn.running_mean" is not the weight or bias/);
  });
  it('non-finite weights', () => {
    const bytes = writeSafetensors([
      { name: '0.weight', shape: [2, 2], values: Float64Array.of(1, Number.NaN, 0, 1) },
      { name: '2.weight', shape: [2, 2], values: new Float64Array(4) },
    ], { activation: 'tanh' });
    expectError(() => parseModel(bytes), 'NON_FINITE', /layers\[0\]\.weight\[0\]\[1\] is NaN/);
  });
});
