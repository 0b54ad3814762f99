/**
 * Node-only file access: the embedded data sets (package `data/` folder) and reading data/model
 * files from disk. Browser code uses the pure parsers in ../data.ts and ../model.ts instead.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { readLargeCsv } from './large-csv.js';
import { readInputFile, withInputFile } from './read-input.js';
import { gunzippedSizeUpTo, gunzipWhole } from './byte-source.js';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseCsv, parseDataJson, standardize as standardizeData } from '../data.js';
import { HessboundError, fail } from '../errors.js';
import { decodeText, MAX_TEXT_BYTES } from '../io/text.js';
import { modelToJson, parseModelJson } from '../model.js';
import type { Dataset, Model } from '../types.js';
import { didYouMean } from '../suggest.js';
import { isBinaryDataPath, readBinaryDataFile, readModelBytesFile, withPath, writeSafetensorsFile, type ModelFileOptions } from './format-files.js';

export const DATASET_NAMES = ['iris', 'wine', 'breast_cancer', 'digits'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

const DATASET_FILES: Record<DatasetName, string> = {
  iris: 'iris.csv',
  wine: 'wine.csv',
  breast_cancer: 'breast_cancer.csv',
  digits: 'digits.csv.gz',
};

let cachedDataDir: string | undefined;

/**
 * The package's data/ folder. Searched upward from this module, because the module runs from
 * src/node/ (tsx, vitest) as well as from dist/src/node/ (compiled).
 */
export function dataDirectory(): string {
  if (cachedDataDir) return cachedDataDir;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'data', 'iris.csv'))) {
      cachedDataDir = join(dir, 'data');
      return cachedDataDir;
    }
    if (dirname(dir) === dir) break;
  }
  return fail('IO', `cannot find the embedded data sets (a data/ folder with iris.csv) above ${start}`, 'reinstall hessbound; its package ships data/');
}

function datasetKey(name: string): string {
  return name.trim().toLowerCase().replace(/-/g, '_');
}

function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/** Whether `name` names an embedded data set (any case, - for _). */
export function isEmbeddedDatasetName(name: string): boolean {
  return isDatasetName(datasetKey(name));
}

/** "unknown data set ...; did you mean ...? available: ..." (the CLI adds its own hint). */
export function unknownDatasetMessage(name: string): string {
  return `unknown data set "${name}"; available: ${DATASET_NAMES.join(', ')}${didYouMean(datasetKey(name), DATASET_NAMES)}`;
}

/** One of the embedded UCI data sets; standardized per feature unless `standardize: false`. */
export function loadDataset(name: string, opts: { standardize?: boolean } = {}): Dataset {
  const key = datasetKey(name);
  if (!isDatasetName(key)) {
    fail('BAD_OPTION', unknownDatasetMessage(name), 'or read your own file with readDataFile(path)');
  }
  const raw = parseCsv(readText(join(dataDirectory(), DATASET_FILES[key])), { name: key });
  return (opts.standardize ?? true) ? standardizeData(raw) : raw;
}

/**
 * Reads a file as text (UTF-8, or UTF-16 with a byte-order mark), gunzipping `.gz` files; refuses
 * files too large to hold as one string before reading them (a .gz by its decompressed size,
 * counted as it streams, before any of it is kept); failures become HessboundError.
 */
function readText(path: string, maxBytes = MAX_TEXT_BYTES, what = 'text data'): string {
  const hint = `hessbound reads ${what} whole, up to ${formatMb(maxBytes)}; subsample the data, or store it in a binary format (e.g. .npy) instead of CSV/JSON text`;
  if (!path.toLowerCase().endsWith('.gz')) return decodeText(readInputFile(path, { maxBytes, hint }), path);
  const bytes = withInputFile(path, (fd, size) =>
    gunzipWhole(fd, size, path, maxBytes, () => fail('TOO_LARGE', `${path} decompresses to more than ${formatMb(maxBytes)} of text; hessbound reads ${what} whole`, 'subsample the data, or store it in a binary format (e.g. .npy) instead')),
  );
  return decodeText(bytes, path);
}

const formatMb = (bytes: number) => `${bytes / 1024 / 1024} MB`;

/**
 * Quoted or UTF-16 CSV text from a .gz above CHUNKED_CSV_BYTES goes to the in-memory reader up to
 * this (decompressed); numeric CSV of any size is parsed as it streams.
 */
export const MAX_GZIP_CSV_TEXT_BYTES = 64 * 1024 * 1024;

function osReason(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Plain CSV files above this are read in chunks (src/node/large-csv.ts). */
export const CHUNKED_CSV_BYTES = 16 * 1024 * 1024;

function sizeOf(path: string): number {
  try {
    const stats = statSync(path);
    return stats.isFile() ? stats.size : 0; // devices and pipes: readText refuses them
  } catch {
    return 0; // readText reports the error
  }
}

function stripExtensions(path: string): string {
  return basename(path).replace(/(\.csv|\.json)?(\.gz)?$/i, '');
}

/** Reads a data file by extension: .json (optionally .gz) or .csv / .csv.gz. Not standardized. */
export function readDataFile(path: string, opts: { header?: boolean; classes?: number } = {}): Dataset {
  if (isBinaryDataPath(path)) return readBinaryDataFile(path); // .npz (and a clear error for a lone .npy)
  const lower = path.toLowerCase().replace(/\.gz$/, '');
  const isJson = lower.endsWith('.json');
  if (!isJson && !lower.endsWith('.csv')) {
    fail('IO', `cannot tell the format of ${path} from its extension`, 'use .json, .csv or .csv.gz');
  }
  if (isJson && opts.classes !== undefined)
    fail('BAD_OPTION', 'a class count for a JSON data file goes in the file', 'add "classes": N to the JSON object instead of --classes');
  const name = stripExtensions(path);
  const inMemory = (maxBytes = MAX_TEXT_BYTES) => {
    const text = readText(path, maxBytes, maxBytes === MAX_TEXT_BYTES ? 'text data' : 'quoted or UTF-16 CSV text from a .gz');
    return withPath(path, () => (isJson ? parseDataJson(text, { name }) : parseCsv(text, { name, ...opts })));
  };
  // A large plain CSV is read in chunks, straight into its float64 matrix (quoted or UTF-16 files
  // up to 400 MB still go to the RFC 4180 reader).
  const size = sizeOf(path);
  if (!isJson && !/\.gz$/i.test(path) && size > CHUNKED_CSV_BYTES) return withPath(path, () => readLargeCsv(path, { name, ...opts }, undefined, size <= MAX_TEXT_BYTES ? inMemory : undefined));
  // A .csv.gz likewise by its decompressed size, counted as it streams (a gzip bomb is never held).
  if (!isJson && /\.gz$/i.test(path) && withInputFile(path, (fd, compressed) => gunzippedSizeUpTo(fd, compressed, path, CHUNKED_CSV_BYTES)) > CHUNKED_CSV_BYTES)
    return withPath(path, () => readLargeCsv(path, { name, ...opts }, undefined, () => inMemory(MAX_GZIP_CSV_TEXT_BYTES)));
  return inMemory();
}

/** Reads a model: `hessbound.mlp.v1` JSON, or safetensors / ONNX (see src/io/). */
export function readModelFile(path: string, options: ModelFileOptions = {}): Model {
  if (!/\.gz$/i.test(path)) return readModelBytesFile(path, options); // format by magic bytes and extension
  const text = readText(path);
  return withPath(path, () => parseModelJson(text));
}

/** Writes a model as `hessbound.mlp.v1` JSON, or as F64 safetensors when the path ends in .safetensors. */
export function writeModelFile(path: string, model: Model): void {
  if (/\.safetensors$/i.test(path)) return writeSafetensorsFile(path, model);
  try {
    writeFileSync(path, JSON.stringify(modelToJson(model)) + '\n');
  } catch (err) {
    fail('IO', `cannot write ${path}: ${osReason(err)}`);
  }
}
