/**
 * Data from files travels by content, never by path: the coordinator serializes the data set
 * (canonical JSON, exact float64 round trip), names it `sha256:<64 hex>` after the hash of that
 * text, and stores it once per sweep in Redis. A worker fetches it by hash, checks the hash, and
 * keeps a verified copy in a local cache folder, from which the pool's worker threads load it (again
 * checking the hash). The id is the job's dataset field, so it is part of the job key: different
 * data, different points.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toDataset } from '../data.js';
import { fail } from '../errors.js';
import type { Dataset } from '../types.js';
import { DATASET_TEXT_FORMAT, serializeDataset } from '../sweep/dataset-content.js';

export const CONTENT_PREFIX = 'sha256:';
const FORMAT = DATASET_TEXT_FORMAT;

export function isContentDatasetId(id: string): boolean {
  return id.startsWith(CONTENT_PREFIX);
}

export function contentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export { serializeDataset };

export function contentDatasetId(text: string): string {
  return `${CONTENT_PREFIX}${contentHash(text)}`;
}

function hashOf(id: string): string {
  const hash = id.slice(CONTENT_PREFIX.length);
  if (!/^[0-9a-f]{64}$/.test(hash)) fail('BAD_OPTION', `'${id}' is not a content data set id`, 'content ids are sha256: followed by 64 lower-case hex digits');
  return hash;
}

/** The data set in `text`, after checking that it hashes to `id`. */
export function parseContentDataset(id: string, text: string): Dataset {
  if (contentHash(text) !== hashOf(id)) fail('BAD_DATA', `the data for ${id} does not match its hash (corrupted or replaced)`, 'run the sweep again so the coordinator stores the data anew');
  const o = JSON.parse(text) as { format?: string; n: number; d: number; classes: number; x: number[]; labels?: number[]; targets?: number[] };
  if (o.format !== FORMAT) fail('BAD_DATA', `the data for ${id} has format ${JSON.stringify(o.format)}, expected "${FORMAT}"`);
  const x = Float64Array.from(o.x);
  const matrix = { data: x, rows: o.n, cols: o.d };
  const name = `${id.slice(0, CONTENT_PREFIX.length + 12)}`;
  if (o.labels) return toDataset(matrix, o.labels, { classes: o.classes, name });
  return toDataset(matrix, { data: Float64Array.from(o.targets ?? []), rows: o.n, cols: o.classes }, { name });
}

/** Where verified copies are kept: HESSBOUND_DATA_CACHE or <tmp>/hessbound-data. */
export function contentCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['HESSBOUND_DATA_CACHE'] || join(tmpdir(), 'hessbound-data');
}

export function cachePath(id: string, dir = contentCacheDir()): string {
  return join(dir, `${hashOf(id)}.json`);
}

/** Writes verified text to the cache (atomically: a reader never sees half a file). */
export function writeContentCache(id: string, text: string, dir = contentCacheDir()): void {
  parseContentDataset(id, text);
  try {
    mkdirSync(dir, { recursive: true });
    const temp = `${cachePath(id, dir)}.${process.pid}.tmp`;
    writeFileSync(temp, text);
    renameSync(temp, cachePath(id, dir));
  } catch (err) {
    fail('IO', `cannot write the data cache in ${dir}: ${(err as Error).message}`, 'set HESSBOUND_DATA_CACHE to a writable folder');
  }
}

/** Loads a cached content data set, or null when it is not cached here. */
export function readContentCache(id: string, dir = contentCacheDir()): Dataset | null {
  let text: string;
  try {
    text = readFileSync(cachePath(id, dir), 'utf8');
  } catch {
    return null;
  }
  return parseContentDataset(id, text);
}

export function loadContentDataset(id: string, dir = contentCacheDir()): Dataset {
  const data = readContentCache(id, dir);
  if (!data) fail('IO', `the data set ${id} is not in the local cache ${dir}`, 'content data sets are fetched from the queue by hessbound worker; run the point there');
  return data;
}
