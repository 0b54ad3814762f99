/**
 * What travels through the queue when one point is split into tiles (docs/distributed.md, "One point
 * over many machines"): the point's model and data as two content-addressed binary parts (the exact
 * float64 arrays the kernel sees, named sha256:<hash of the bytes>), and one BullMQ job per range of
 * a few tiles, `{format, point, model, data, ..., first, count, tileCount}`. Workers write each
 * tile's sums into one Redis hash per point, field = tile index, with HSETNX: a tile computed twice
 * (a retried, stalled or duplicated job) is stored once and can never be added twice.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ProblemSpec } from '../backend/types.js';
import { fail } from '../errors.js';
import type { BackendName } from '../types.js';
import { QUEUE_KEY_ENV } from './job-policy.js';

export const TILE_JOB_FORMAT = 'hessbound.tile-job.v1';
/** The BullMQ job name of a tile range (sweep points are 'point'). */
export const TILE_JOB_NAME = 'tiles';
const PART_FORMAT = 'hessbound.problem-part.v1';

/** Redis key of a stored model or data part. */
export function partKey(queueName: string, id: string): string {
  return `hessbound:${queueName}:part:${id}`;
}

/** Redis hash of a point's tile sums (field: tile index; value: JSON array of the tile's sums). */
export function tileSumsKey(queueName: string, point: string): string {
  return `hessbound:${queueName}:tiles:${point}`;
}

export function tileJobId(point: string, first: number): string {
  return `tiles-${point}-${first}`;
}

export interface TileJobData {
  format: typeof TILE_JOB_FORMAT;
  /** 16 hex digits: hash of everything below that changes a tile's bits (pointIdOf). */
  point: string;
  model: string;
  data: string;
  /** 0 = mean, 1 = sum (the kernel's code). */
  reduction: number;
  workBytes?: number;
  deterministic?: boolean;
  backend?: BackendName;
  first: number;
  count: number;
  tileCount: number;
  signature?: string;
}

type PointFields = Pick<TileJobData, 'model' | 'data' | 'reduction' | 'workBytes' | 'deterministic' | 'backend'>;

function canonicalPoint(p: PointFields): string {
  return JSON.stringify([p.model, p.data, p.reduction, p.workBytes ?? null, p.deterministic === true, p.backend ?? null]);
}

/** Same model, data, reduction, tile plan inputs and backend: same point, same Redis hash (what a restarted coordinator finds). */
export function pointIdOf(p: PointFields): string {
  return createHash('sha256').update(`${TILE_JOB_FORMAT}\n${canonicalPoint(p)}`).digest('hex').slice(0, 16);
}

function signedText(d: Omit<TileJobData, 'signature'>): string {
  return `${TILE_JOB_FORMAT}\n${canonicalPoint(d)}\n${d.point}\n${d.first}\n${d.count}\n${d.tileCount}`;
}

export function signTileJob(d: Omit<TileJobData, 'signature'>, key: string): string {
  return createHmac('sha256', key).update(signedText(d)).digest('hex');
}

export function assertTileJobSigned(d: TileJobData, key: string, jobId: string): void {
  const hint = `this worker runs only jobs signed with its key (${QUEUE_KEY_ENV}); give the coordinator the same key`;
  if (typeof d.signature !== 'string' || !/^[0-9a-f]{64}$/.test(d.signature)) fail('BAD_OPTION', `queue job ${jobId} is not signed`, hint);
  const { signature, ...rest } = d;
  if (!timingSafeEqual(Buffer.from(signTileJob(rest, key), 'hex'), Buffer.from(signature, 'hex'))) fail('BAD_OPTION', `queue job ${jobId} has a wrong signature`, hint);
}

const FOREIGN_HINT = `tile jobs come from 'hessbound bound --queue' / 'analyze --queue'; do not share the queue name with other programs`;
const CONTENT_ID = /^sha256:[0-9a-f]{64}$/;

function count(value: unknown, name: string, jobId: string, least: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < least) fail('BAD_OPTION', `queue job ${jobId} has an invalid ${name}`, FOREIGN_HINT);
  return value;
}

/** The job's fields, each checked, or a BAD_OPTION error naming the first that is wrong. */
export function validateTileJob(data: unknown, jobId: string): TileJobData {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) fail('BAD_OPTION', `queue job ${jobId} is not an object`, FOREIGN_HINT);
  const d = data as Record<string, unknown>;
  if (d['format'] !== TILE_JOB_FORMAT) fail('BAD_OPTION', `queue job ${jobId} has format ${JSON.stringify(d['format'])}, expected "${TILE_JOB_FORMAT}"`, FOREIGN_HINT);
  const known = ['format', 'point', 'model', 'data', 'reduction', 'workBytes', 'deterministic', 'backend', 'first', 'count', 'tileCount', 'signature'];
  const unknown = Object.keys(d).filter((k) => !known.includes(k));
  if (unknown.length > 0) fail('BAD_OPTION', `queue job ${jobId} has unknown field(s) ${unknown.join(', ')}`, FOREIGN_HINT);
  for (const part of ['model', 'data'] as const)
    if (typeof d[part] !== 'string' || !CONTENT_ID.test(d[part] as string)) fail('BAD_OPTION', `queue job ${jobId} names its ${part} by something other than a content id; workers never read paths from jobs`, FOREIGN_HINT);
  if (d['reduction'] !== 0 && d['reduction'] !== 1) fail('BAD_OPTION', `queue job ${jobId} has an invalid reduction`, FOREIGN_HINT);
  if (d['workBytes'] !== undefined) count(d['workBytes'], 'workBytes', jobId, 1);
  if (d['deterministic'] !== undefined && typeof d['deterministic'] !== 'boolean') fail('BAD_OPTION', `queue job ${jobId} has an invalid deterministic flag`, FOREIGN_HINT);
  const backend = d['backend'];
  if (backend !== undefined && backend !== 'native' && backend !== 'wasm' && backend !== 'wasm-threads') fail('BAD_OPTION', `queue job ${jobId} asks for an unknown backend`, 'native, wasm or wasm-threads');
  const first = count(d['first'], 'first tile', jobId, 0);
  const n = count(d['count'], 'tile count', jobId, 1);
  const total = count(d['tileCount'], 'number of tiles', jobId, 1);
  if (first + n > total) fail('BAD_OPTION', `queue job ${jobId} asks for tiles beyond the point's ${total}`, FOREIGN_HINT);
  const job = d as unknown as TileJobData;
  // Recomputed, never trusted: a job naming another point's id would write into that point's sums.
  if (d['point'] !== pointIdOf(job)) fail('BAD_OPTION', `queue job ${jobId} names a point its fields do not hash to`, FOREIGN_HINT);
  if (jobId !== tileJobId(job.point, first) && !jobId.startsWith(`${tileJobId(job.point, first)}-`)) fail('BAD_OPTION', `queue job ${jobId} should have the id ${tileJobId(job.point, first)}`, FOREIGN_HINT);
  return job;
}

// Parts: a one-line JSON header, then the float64 values (little-endian), so the worker gets the
// coordinator's arrays bit for bit and can check the size from the header before reading the rest.
interface ModelHeader {
  format: typeof PART_FORMAT;
  kind: 'model';
  sizes: number[];
  hasBias: number[];
  activation: number;
  leakySlope: number;
  values: number;
}
interface DataHeader {
  format: typeof PART_FORMAT;
  kind: 'data';
  samples: number;
  inputs: number;
  classes: number;
  values: number;
}

function part(header: ModelHeader | DataHeader, arrays: Float64Array[]): { id: string; bytes: Buffer } {
  const head = Buffer.from(`${JSON.stringify(header)}\n`, 'utf8');
  const body = Buffer.alloc(8 * header.values);
  let at = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) body.writeDoubleLE(a[i] as number, 8 * (at + i));
    at += a.length;
  }
  const bytes = Buffer.concat([head, body]);
  return { id: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

/** The model and data of a problem as content-addressed parts. */
export function problemParts(spec: ProblemSpec): { model: { id: string; bytes: Buffer }; data: { id: string; bytes: Buffer } } {
  const sizes = Array.from(spec.sizes);
  const model = part({ format: PART_FORMAT, kind: 'model', sizes, hasBias: Array.from(spec.hasBias), activation: spec.activation, leakySlope: spec.leakySlope, values: spec.params.length }, [spec.params]);
  const data = part({ format: PART_FORMAT, kind: 'data', samples: spec.samples, inputs: sizes[0] as number, classes: sizes[sizes.length - 1] as number, values: spec.x.length + spec.targets.length }, [spec.x, spec.targets]);
  return { model, data };
}

/** The header at the start of a stored part, and the byte count it implies; null when it is not one. */
export function partHeader(head: Buffer): { header: ModelHeader | DataHeader; bytes: number } | null {
  const end = head.indexOf(10);
  if (end < 0) return null;
  let header: ModelHeader | DataHeader;
  try {
    header = JSON.parse(head.subarray(0, end).toString('utf8')) as ModelHeader | DataHeader;
  } catch {
    return null;
  }
  if (header?.format !== PART_FORMAT || !Number.isSafeInteger(header.values) || header.values < 0) return null;
  if (header.kind === 'data' && header.values !== header.samples * (header.inputs + header.classes)) return null;
  return { header, bytes: end + 1 + 8 * header.values };
}

function valuesOf(bytes: Buffer, start: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = bytes.readDoubleLE(start + 8 * i);
  return out;
}

/** A part after checking it hashes to its id and is what its header says. */
export function parsePart(id: string, bytes: Buffer): ModelHeader & { params: Float64Array } | DataHeader & { x: Float64Array; targets: Float64Array } {
  if (`sha256:${createHash('sha256').update(bytes).digest('hex')}` !== id) fail('BAD_DATA', `the stored part ${id.slice(0, 19)}… does not match its hash (corrupted or replaced)`, 'run the point again so the coordinator stores it anew');
  const parsed = partHeader(bytes.subarray(0, Math.min(bytes.length, 4096)));
  if (!parsed || parsed.bytes !== bytes.length) fail('BAD_DATA', `the stored part ${id.slice(0, 19)}… is not a serialized model or data set`, 'run the point again so the coordinator stores it anew');
  const start = bytes.length - 8 * parsed.header.values;
  if (parsed.header.kind === 'model') return { ...parsed.header, params: valuesOf(bytes, start, parsed.header.values) };
  const h = parsed.header;
  const nx = h.samples * h.inputs;
  return { ...h, x: valuesOf(bytes, start, nx), targets: valuesOf(bytes, start + 8 * nx, h.samples * h.classes) };
}

/** The kernel's problem from a model part and a data part. */
export function problemFromParts(model: ReturnType<typeof parsePart>, data: ReturnType<typeof parsePart>, reduction: number): ProblemSpec {
  if (model.kind !== 'model' || data.kind !== 'data') fail('BAD_DATA', 'a tile job names a data part as its model or a model part as its data', FOREIGN_HINT);
  if (model.sizes[0] !== data.inputs || model.sizes[model.sizes.length - 1] !== data.classes) fail('SHAPE_MISMATCH', `the model (${model.sizes.join(' x ')}) does not fit the data (${data.inputs} inputs, ${data.classes} classes)`);
  return {
    sizes: Int32Array.from(model.sizes),
    hasBias: Uint8Array.from(model.hasBias),
    activation: model.activation,
    leakySlope: model.leakySlope,
    params: model.params,
    x: data.x,
    targets: data.targets,
    samples: data.samples,
    reduction,
  };
}

/** A tile's sums as stored in the hash, read back checked. */
export function parseStoredTile(text: string | undefined, index: number, width: number): number[] {
  let value: unknown;
  try {
    value = text === undefined ? undefined : JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || value.length !== width || !value.every((v) => typeof v === 'number' && Number.isFinite(v)))
    fail('KERNEL', `the sums of tile ${index} stored in the queue are not ${width} finite numbers (written by another program?)`, 'delete the point\'s tile hash in Redis and run again');
  return value as number[];
}
