/**
 * One entry point for model and data bytes in any supported format, told apart by magic bytes
 * (and the file name's extension where the bytes are ambiguous). Pure TypeScript: the browser
 * entry exports these as they are; Node reads the file and calls them.
 */
import { parseCsv, parseDataJson } from '../data.js';
import { fail } from '../errors.js';
import { negativeSlopeOf, parseActivation, parseModelJson } from '../model.js';
import type { Activation, Dataset, Model } from '../types.js';
import { asBytes, dataView, decodeUtf8 } from './bytes.js';
import { isNpy, parseNpy } from './npy.js';
import { datasetFromOwnArrays, isZip, parseNpzDataset } from './npz.js';
import { modelFromOnnx } from './onnx.js';
import { modelFromSafetensors } from './safetensors.js';

export type ModelFormat = 'json' | 'safetensors' | 'onnx';
export type DataFormat = 'json' | 'csv' | 'npz' | 'npy';

export interface ParseModelOptions {
  /** Used to tell the format when the bytes alone do not (`.onnx`, `.safetensors`, `.json`). */
  fileName?: string;
  /** The hidden activation, for safetensors files without `__metadata__.activation`. */
  activation?: Activation | string;
  /** leaky_relu's slope for safetensors files without `__metadata__.negative_slope` (default 0.01). */
  negativeSlope?: number;
  /** Linear module names input to output, for safetensors files with ambiguous named modules. */
  layerOrder?: readonly string[];
}

function extensionOf(fileName: string | undefined): string {
  const match = /\.([a-z0-9]+)(?:\.gz)?$/i.exec(fileName ?? '');
  return match ? (match[1] as string).toLowerCase() : '';
}

function firstNonSpace(bytes: Uint8Array): number | undefined {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // UTF-8 BOM
  while (i < bytes.length && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[i] as number)) i++;
  return bytes[i];
}

/** Safetensors: an 8-byte length that fits in the file, followed by '{'. */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const length = dataView(bytes).getBigUint64(0, true);
  return length <= BigInt(bytes.length - 8) && bytes[8] === 0x7b;
}

export function detectModelFormat(bytes: Uint8Array, fileName?: string): ModelFormat {
  const extension = extensionOf(fileName);
  if (extension === 'safetensors') return 'safetensors';
  if (extension === 'onnx') return 'onnx';
  if (extension === 'json') return 'json';
  if (looksLikeSafetensors(bytes)) return 'safetensors';
  if (firstNonSpace(bytes) === 0x7b) return 'json';
  // An ONNX ModelProto starts with ir_version (field 1, varint: tag 0x08).
  if (bytes[0] === 0x08) return 'onnx';
  return fail('BAD_MODEL', `cannot tell the model format${fileName ? ` of ${fileName}` : ''}: it is not hessbound JSON, safetensors or ONNX`,
    'give a .json (hessbound.mlp.v1), .safetensors or .onnx file');
}

/** A model from bytes in any supported format: hessbound JSON, safetensors or ONNX. */
export function parseModel(input: Uint8Array | ArrayBuffer, options: ParseModelOptions = {}): Model {
  const bytes = asBytes(input, 'the model', 'BAD_MODEL');
  const format = detectModelFormat(bytes, options.fileName);
  if (format === 'safetensors') {
    return modelFromSafetensors(bytes, {
      ...(options.activation !== undefined ? { activation: options.activation } : {}),
      ...(options.negativeSlope !== undefined ? { negativeSlope: options.negativeSlope } : {}),
      ...(options.layerOrder !== undefined ? { layerOrder: options.layerOrder } : {}),
    });
  }
  const model = format === 'onnx' ? modelFromOnnx(bytes) : parseModelJson(decodeUtf8(bytes, 'the model', 'BAD_MODEL'));
  checkStatedActivation(model, options.activation, format);
  checkStatedSlope(model, options.negativeSlope, format);
  if (options.layerOrder !== undefined && options.layerOrder.length > 0) {
    fail('BAD_OPTION', `a layer order applies to safetensors files with named modules, not to ${format} models (their order is fixed)`);
  }
  return model;
}

/** JSON and ONNX models carry their activation: an activation option may only repeat it. */
function checkStatedActivation(model: Model, activation: string | undefined, format: ModelFormat): void {
  if (activation === undefined || parseActivation(activation) === model.activation) return;
  fail('BAD_ACTIVATION', `the ${format} model uses ${model.activation}, but the activation ${activation} was given`,
    'the activation option is only for safetensors files that do not name theirs; drop it');
}

function checkStatedSlope(model: Model, slope: number | undefined, format: ModelFormat): void {
  if (slope === undefined || (model.activation === 'leaky_relu' && negativeSlopeOf(model) === slope)) return;
  const has = model.activation === 'leaky_relu' ? `leaky_relu with slope ${negativeSlopeOf(model)}` : model.activation;
  fail('BAD_ACTIVATION', `the ${format} model uses ${has}, but the slope ${slope} was given`,
    'the slope option is only for safetensors files that do not state theirs; drop it');
}

export interface ParseDataOptions {
  fileName?: string;
  name?: string;
  classes?: number;
}

export function detectDataFormat(bytes: Uint8Array, fileName?: string): DataFormat {
  if (isNpy(bytes)) return 'npy';
  if (isZip(bytes)) return 'npz';
  const extension = extensionOf(fileName);
  if (extension === 'npz') return 'npz';
  if (extension === 'npy') return 'npy';
  if (extension === 'csv' || extension === 'tsv' || extension === 'txt') return 'csv';
  if (extension === 'json') return 'json';
  const first = firstNonSpace(bytes);
  return first === 0x7b ? 'json' : 'csv';
}

/** A data set from bytes: JSON, CSV (label last), or an .npz archive with x and y (or targets). Not standardized. */
export function parseData(input: Uint8Array | ArrayBuffer, options: ParseDataOptions = {}): Dataset {
  const bytes = asBytes(input, 'the data', 'BAD_DATA');
  const format = detectDataFormat(bytes, options.fileName);
  const named = {
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.classes !== undefined ? { classes: options.classes } : {}),
  };
  if (format === 'npz') return parseNpzDataset(bytes, named);
  if (format === 'npy') {
    return fail('BAD_DATA', 'a single .npy file holds one array, but a data set needs features and labels',
      'give both: --data-x X.npy --data-y Y.npy (CLI) or parseDataArrays(xBytes, yBytes) (API), or one .npz archive',
      'give both: --data-x X.npy --data-y Y.npy, or one .npz archive');
  }
  const text = decodeUtf8(bytes, 'the data', 'BAD_DATA');
  return format === 'json' ? parseDataJson(text, named) : parseCsv(text, named);
}

/** A data set from two .npy files: features (n x d) and labels (n) or soft targets (n x c). */
export function parseDataArrays(xInput: Uint8Array | ArrayBuffer, yInput: Uint8Array | ArrayBuffer, options: { name?: string; classes?: number; adopt?: boolean } = {}): Dataset {
  // adopt: the bytes are handed over (files just read): a float64 x is used in place, no copy.
  const adopt = { adopt: options.adopt === true };
  const x = parseNpy(asBytes(xInput, 'the features', 'BAD_DATA'), 'the features (x)', adopt);
  const y = parseNpy(asBytes(yInput, 'the labels', 'BAD_DATA'), 'the labels (y)', adopt);
  const soft = y.shape.length === 2 && (y.shape[1] as number) > 1;
  return datasetFromOwnArrays(x, soft ? { targets: y } : { y }, options);
}
