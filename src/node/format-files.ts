/**
 * Node file wrappers for the binary formats of ../io (safetensors, ONNX, .npy/.npz): read the
 * bytes, parse them with the browser-safe parsers, and put the path in front of any error.
 */
import { writeFileSync } from 'node:fs';
import { platformMemoryBudget } from '../memory.js';
import { readInputFile } from './read-input.js';
import { basename } from 'node:path';
import { HessboundError, fail } from '../errors.js';
import { parseData, parseDataArrays, parseModel, type ParseModelOptions } from '../io/model-source.js';
import { modelToSafetensors } from '../io/safetensors.js';
import type { Dataset, Model } from '../types.js';

export type ModelFileOptions = Omit<ParseModelOptions, 'fileName'>;

const BINARY_DATA = /\.(npz|npy)$/i;

export function isBinaryDataPath(path: string): boolean {
  return BINARY_DATA.test(path);
}

/**
 * A binary input, at most `share` of the memory budget: models get half (decoding them needs about
 * as much again); data files all of it (parseNpy plans the float64 conversion beside the bytes, and a
 * float64 array is used in place).
 */
function readBytes(path: string, share = 0.5): Uint8Array {
  return readInputFile(path, { maxBytes: platformMemoryBudget() * share, hint: 'use a smaller file, or a machine with more free memory (HESSBOUND_MAX_MEMORY caps what hessbound uses)' });
}

/** Re-throws parse errors with the file path in front, so CLI messages say which file was bad. */
export function withPath<T>(path: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof HessboundError) || err.message.startsWith(path)) throw err;
    const suffix = err.hint ? `\n  hint: ${err.hint}` : '';
    const message = suffix && err.message.endsWith(suffix) ? err.message.slice(0, -suffix.length) : err.message;
    throw new HessboundError(err.code, `${path}: ${message}`, err.hint, err.cliHint);
  }
}

/** A model from any supported file (by magic bytes, then extension): JSON, safetensors, ONNX. */
export function readModelBytesFile(path: string, options: ModelFileOptions = {}): Model {
  const bytes = readBytes(path);
  return withPath(path, () => parseModel(bytes, { ...options, fileName: path }));
}

/** A data set from an .npz archive (x and y, or targets). */
export function readBinaryDataFile(path: string): Dataset {
  const bytes = readBytes(path, 1);
  return withPath(path, () => parseData(bytes, { fileName: path, name: basename(path).replace(/\.npz$/i, '') }));
}

/** A data set from two .npy files: features and labels (or soft targets). */
export function readDataArrayFiles(xPath: string, yPath: string): Dataset {
  const x = readBytes(xPath, 1);
  const y = readBytes(yPath, 1);
  // Our own buffers (readInputFile): a float64 x becomes the data set's matrix without a copy.
  return withPath(`${xPath} + ${yPath}`, () => parseDataArrays(x, y, { name: basename(xPath).replace(/\.npy$/i, ''), adopt: true }));
}

/** Writes the model as F64 safetensors with nn.Sequential names (see modelToSafetensors). */
export function writeSafetensorsFile(path: string, model: Model): void {
  const bytes = modelToSafetensors(model);
  try {
    writeFileSync(path, bytes);
  } catch (err) {
    fail('IO', `cannot write ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
