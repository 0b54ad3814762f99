/**
 * The safetensors format (Hugging Face `safetensors`, torch's recommended state_dict file), read
 * and written in pure TypeScript: 8 bytes little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then the
 * tensor bytes (little-endian, C order), offsets relative to the end of the header.
 * Hand-written because no maintained npm library parses it without a network client or a runtime
 * (the format is the 30 lines below; spec: https://github.com/huggingface/safetensors#format).
 */
import { fail } from '../errors.js';
import { negativeSlopeOf, parseActivation, parseNegativeSlope, parseTrainingObjective, validateModel } from '../model.js';
import { DEFAULT_NEGATIVE_SLOPE, type Activation, type Model, type TrainingObjective } from '../types.js';
import { asBytes, dataView, decodeUtf8, describeShape, shapeSize } from './bytes.js';
import { bfloat16BitsToNumber, float16BitsToNumber } from './half.js';
import { layersFromNamedTensors, type NamedTensor } from './named-layers.js';

export const SAFETENSORS_FLOAT_DTYPES = ['F64', 'F32', 'F16', 'BF16'] as const;
export type SafetensorsFloatDtype = (typeof SAFETENSORS_FLOAT_DTYPES)[number];

const FLOAT_SIZES: Record<SafetensorsFloatDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };
/** The other dtypes of the spec: recognised so that the error says "integer", not "unknown". */
const OTHER_DTYPES = ['BOOL', 'U8', 'I8', 'U16', 'I16', 'U32', 'I32', 'U64', 'I64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64'];
/** The reference implementation refuses headers above 100 MB; so do we (a corrupt length is the usual cause). */
const MAX_HEADER_BYTES = 100_000_000;
const HINT_CORRUPT = 'the file is truncated or not a safetensors file; save it again with safetensors.torch.save_file(model.state_dict(), path)';

export interface SafetensorsTensor extends NamedTensor {
  readonly dtype: SafetensorsFloatDtype;
}

export interface SafetensorsFile {
  readonly tensors: Map<string, SafetensorsTensor>;
  readonly metadata: Record<string, string>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) fail('BAD_MODEL', `the safetensors file has ${bytes.length} bytes, fewer than its 8-byte header length`, HINT_CORRUPT);
  const length = dataView(bytes).getBigUint64(0, true);
  if (length > BigInt(bytes.length - 8)) {
    fail('BAD_MODEL', `the safetensors header length is ${length} bytes but only ${bytes.length - 8} bytes follow it`, HINT_CORRUPT);
  }
  if (length > BigInt(MAX_HEADER_BYTES)) fail('BAD_MODEL', `the safetensors header length ${length} is above the format's limit of 100 MB`, HINT_CORRUPT);
  const dataStart = 8 + Number(length);
  const text = decodeUtf8(bytes.subarray(8, dataStart), 'the safetensors header', 'BAD_MODEL');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail('BAD_MODEL', `the safetensors header is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, HINT_CORRUPT);
  }
  if (!isPlainObject(header)) fail('BAD_MODEL', 'the safetensors header is not a JSON object', HINT_CORRUPT);
  return { header, dataStart };
}

function readMetadata(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!isPlainObject(raw)) fail('BAD_MODEL', 'the safetensors "__metadata__" must be an object of strings');
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== 'string') fail('BAD_MODEL', `the safetensors metadata "${key}" must be a string, got ${typeof value}`);
    metadata[key] = value;
  }
  return metadata;
}

function checkDtype(name: string, dtype: unknown): SafetensorsFloatDtype {
  if ((SAFETENSORS_FLOAT_DTYPES as readonly unknown[]).includes(dtype)) return dtype as SafetensorsFloatDtype;
  if (typeof dtype === 'string' && OTHER_DTYPES.includes(dtype)) {
    const kind = /^[UI]\d|^BOOL$/.test(dtype) ? 'integer (or boolean)' : 'an unsupported floating-point';
    fail('BAD_MODEL', `tensor "${name}" has dtype ${dtype}, ${kind} weights; hessbound needs floating-point weights (F64, F32, F16 or BF16)`,
      'save the float state_dict (e.g. model.double().state_dict()), not a quantized one');
  }
  return fail('BAD_MODEL', `tensor "${name}" has the unknown dtype ${JSON.stringify(dtype)}; supported: ${SAFETENSORS_FLOAT_DTYPES.join(', ')}`, HINT_CORRUPT);
}

function checkShape(name: string, shape: unknown): number[] {
  const valid = Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
  if (!valid) fail('BAD_MODEL', `tensor "${name}" has an invalid shape ${JSON.stringify(shape)}; a shape is a list of non-negative integers`, HINT_CORRUPT);
  return shape as number[];
}

function checkOffsets(name: string, raw: unknown, byteLength: number, dataLength: number, shape: number[], dtype: string): [number, number] {
  const valid = Array.isArray(raw) && raw.length === 2 && raw.every((o) => Number.isSafeInteger(o) && (o as number) >= 0);
  if (!valid) fail('BAD_MODEL', `tensor "${name}" has invalid data_offsets ${JSON.stringify(raw)}; expected [begin, end] byte offsets`, HINT_CORRUPT);
  const [begin, end] = raw as [number, number];
  if (end < begin || end > dataLength) {
    fail('BAD_MODEL', `tensor "${name}" has data_offsets [${begin}, ${end}] outside the ${dataLength} bytes of tensor data`, HINT_CORRUPT);
  }
  if (end - begin !== byteLength) {
    fail('BAD_MODEL', `tensor "${name}" (${dtype}, shape ${describeShape(shape)}) needs ${byteLength} bytes but its data_offsets span ${end - begin}`, HINT_CORRUPT);
  }
  return [begin, end];
}

function decodeValues(bytes: Uint8Array, dtype: SafetensorsFloatDtype, count: number): Float64Array {
  const view = dataView(bytes);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    if (dtype === 'F64') values[i] = view.getFloat64(8 * i, true);
    else if (dtype === 'F32') values[i] = view.getFloat32(4 * i, true);
    else if (dtype === 'F16') values[i] = float16BitsToNumber(view.getUint16(2 * i, true));
    else values[i] = bfloat16BitsToNumber(view.getUint16(2 * i, true));
  }
  return values;
}

/** Parses a safetensors file; every floating-point tensor becomes float64 exactly. */
export function parseSafetensors(input: Uint8Array | ArrayBuffer): SafetensorsFile {
  const bytes = asBytes(input, 'a safetensors file', 'BAD_MODEL');
  const { header, dataStart } = readHeader(bytes);
  const data = bytes.subarray(dataStart);
  // Every entry checked first, then the ranges compared, then decoded: tensors that alias one data
  // range (a file of kilobytes decoding to gigabytes) are refused before any float64 array exists.
  const checked: { name: string; dtype: SafetensorsFloatDtype; shape: number[]; count: number; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!isPlainObject(entry)) fail('BAD_MODEL', `the safetensors header entry "${name}" is not an object {dtype, shape, data_offsets}`, HINT_CORRUPT);
    const dtype = checkDtype(name, entry['dtype']);
    const shape = checkShape(name, entry['shape']);
    const count = shapeSize(shape);
    if (!Number.isSafeInteger(count * FLOAT_SIZES[dtype])) fail('BAD_MODEL', `tensor "${name}" has an impossible shape ${describeShape(shape)}`, HINT_CORRUPT);
    const [begin, end] = checkOffsets(name, entry['data_offsets'], count * FLOAT_SIZES[dtype], data.length, shape, dtype);
    checked.push({ name, dtype, shape: [...shape], count, begin, end });
  }
  const byStart = [...checked].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byStart.length; i++) {
    const [a, b] = [byStart[i - 1]!, byStart[i]!];
    if (b.begin < a.end)
      fail('BAD_MODEL', `tensors "${a.name.slice(0, 80)}" [${a.begin}, ${a.end}] and "${b.name.slice(0, 80)}" [${b.begin}, ${b.end}] overlap in the tensor data; safetensors files never share bytes between tensors`, HINT_CORRUPT);
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const t of checked) tensors.set(t.name, { dtype: t.dtype, shape: t.shape, values: decodeValues(data.subarray(t.begin, t.end), t.dtype, t.count) });
  return { tensors, metadata: readMetadata(header['__metadata__']) };
}

export interface SafetensorsModelOptions {
  /** The hidden activation when the file's `__metadata__` has none (it must agree when both say). */
  activation?: Activation | string;
  /** leaky_relu's slope when the file's `__metadata__` has no `negative_slope` (default 0.01). */
  negativeSlope?: number;
  /** Module names input to output (`['fc1', 'fc2', 'head']`), for named modules whose order is ambiguous. */
  layerOrder?: readonly string[];
}

function resolveActivation(metadata: Record<string, string>, option: string | undefined): Activation {
  const stated = metadata['activation'];
  if (stated !== undefined && option !== undefined && parseActivation(stated) !== parseActivation(option)) {
    fail('BAD_ACTIVATION', `the file says the activation is "${stated}" but "${option}" was given`, 'drop --activation, or fix the file\'s __metadata__');
  }
  const name = stated ?? option;
  if (name === undefined) {
    fail('BAD_ACTIVATION', 'the safetensors file does not say which activation the MLP uses (no "activation" in its __metadata__)',
      'pass it: --activation tanh (CLI) or {activation: "tanh"} (API); or save with metadata={"activation": "tanh"}',
      'pass it: --activation tanh; or save the file with metadata={"activation": "tanh"}');
  }
  return parseActivation(name);
}

/** leaky_relu's slope: `__metadata__.negative_slope` (a string, as all metadata), else the option, else 0.01. */
function resolveNegativeSlope(metadata: Record<string, string>, option: number | undefined): number {
  const stated = metadata['negative_slope'];
  if (stated === undefined) return option === undefined ? DEFAULT_NEGATIVE_SLOPE : parseNegativeSlope(option);
  const slope = parseNegativeSlope(stated.trim() === '' ? Number.NaN : Number(stated), `__metadata__.negative_slope ("${stated}")`);
  if (option !== undefined && option !== slope)
    fail('BAD_ACTIVATION', `the file says the leaky_relu slope is ${stated} but ${String(option)} was given`, 'drop the negativeSlope option, or fix the file\'s __metadata__');
  return slope;
}

/** An MLP from a safetensors state_dict (see named-layers.ts for the names it understands). */
export function modelFromSafetensors(input: Uint8Array | ArrayBuffer, options: SafetensorsModelOptions = {}): Model {
  const { tensors, metadata } = parseSafetensors(input);
  const layers = layersFromNamedTensors(tensors, options.layerOrder);
  const activation = resolveActivation(metadata, options.activation);
  const objective = objectiveFromMetadata(metadata['objective']);
  const base = activation !== 'leaky_relu' ? { activation, layers } : { activation, negativeSlope: resolveNegativeSlope(metadata, options.negativeSlope), layers };
  return validateModel(objective ? { ...base, objective } : base);
}

/** The training objective hessbound writes as `__metadata__["objective"]` (JSON text; see model.ts). */
function objectiveFromMetadata(text: string | undefined): TrainingObjective | undefined {
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail('BAD_MODEL', `the safetensors metadata "objective" is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, 'it should read like {"weightDecay": 0.001}; or drop it');
  }
  return parseTrainingObjective(raw, 'the safetensors metadata "objective"');
}

/** Writes named tensors as F64 safetensors (header padded with spaces to 8 bytes, as the reference writer does). */
export function writeSafetensors(tensors: ReadonlyArray<{ name: string; shape: readonly number[]; values: Float64Array }>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.values.length !== shapeSize(tensor.shape)) fail('SHAPE_MISMATCH', `tensor "${tensor.name}" has ${tensor.values.length} values for shape ${describeShape(tensor.shape)}`);
    header[tensor.name] = { dtype: 'F64', shape: [...tensor.shape], data_offsets: [offset, offset + 8 * tensor.values.length] };
    offset += 8 * tensor.values.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = dataView(out);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let position = 8 + json.length;
  for (const tensor of tensors) {
    for (const value of tensor.values) {
      view.setFloat64(position, value, true);
      position += 8;
    }
  }
  return out;
}

/**
 * The model as an F64 safetensors state_dict with `nn.Sequential` names (Linear modules at even
 * indices 0, 2, 4, ..., the activation between them) and the activation in `__metadata__`, so that
 * `nn.Sequential(nn.Linear(..), nn.Tanh(), .., nn.Linear(..)).double().load_state_dict(load_file(path))`
 * works with strict=True.
 */
export function modelToSafetensors(model: Model): Uint8Array {
  validateModel(model);
  const tensors = model.layers.flatMap((layer, l) => [
    { name: `${2 * l}.weight`, shape: [layer.out, layer.in], values: layer.weight },
    ...(layer.bias ? [{ name: `${2 * l}.bias`, shape: [layer.out], values: layer.bias }] : []),
  ]);
  const slope: Record<string, string> = model.activation === 'leaky_relu' ? { negative_slope: String(negativeSlopeOf(model)) } : {};
  const metadata: Record<string, string> = { format: 'pt', activation: model.activation, ...slope, producer: 'hessbound' };
  // The training objective, as JSON text (metadata values are strings); analyze/bound read it back.
  if (model.objective) metadata['objective'] = JSON.stringify(model.objective);
  return writeSafetensors(tensors, metadata);
}
