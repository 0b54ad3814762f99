/**
 * What a queue worker accepts from a job, whoever wrote it to Redis (docs/distributed.md, "Threat
 * model"): data only by content (`sha256:` ids fetched from the queue and checked against their
 * hash) or by name (embedded and synthetic data sets), never a path; resource limits set by the
 * worker's operator, checked against the point's memory plan before any data is fetched; and,
 * when the operator sets a shared key, only jobs signed with it (HMAC-SHA256).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { fail } from '../errors.js';
import { formatBytes } from '../memory.js';
import { assertAllocationsFit } from '../resources/memory-plan.js';
import { knownDataShape, pointAllocations, type DataShape } from '../resources/point-plan.js';
import { parseDatasetId } from '../sweep/dataset-id.js';
import { canonicalJson, type SweepJobSpec } from '../sweep/job.js';
import { isContentDatasetId } from './content-data.js';

/** Limits a worker's operator sets (CLI: --max-steps, --max-seconds, --max-memory). */
export interface WorkerLimits {
  /** Training steps (Adam + L-BFGS) a job may ask for. */
  maxSteps: number;
  /** Wall-clock seconds a point may run before it is stopped and failed. */
  maxSeconds: number;
  /** Bytes a point's memory plan may need (default: this machine's budget). */
  maxMemoryBytes: number;
}

export const DEFAULT_MAX_STEPS = 100_000;
export const DEFAULT_MAX_SECONDS = 3600;

/** The env variable holding the shared signing key (coordinator and workers). */
export const QUEUE_KEY_ENV = 'HESSBOUND_QUEUE_KEY';

const DATA_HINT = "a queue job's data must travel by content: start the sweep with --data FILE (it stores the data in the queue by hash), or use an embedded or synthetic data set";

/** Refuses a data set id a worker would have to resolve on its own file system. */
export function assertQueueDataId(id: string, field: string, jobId: string): void {
  if (isContentDatasetId(id)) return;
  if (parseDatasetId(id).kind === 'file') fail('BAD_OPTION', `queue job ${jobId} names a file as its ${field}; workers never read paths from jobs`, DATA_HINT);
  if (knownDataShape(id) === null) fail('BAD_OPTION', `queue job ${jobId} names an unknown data set as its ${field}`, DATA_HINT);
}

/** Refuses, before any data is fetched, a job beyond the operator's limits or this machine's memory. */
export function assertWithinLimits(spec: SweepJobSpec, limits: WorkerLimits, shapes: { data: DataShape; test?: DataShape }, jobId: string): void {
  if (spec.maxSteps > limits.maxSteps)
    fail('TOO_LARGE', `queue job ${jobId} asks for ${spec.maxSteps.toLocaleString('en-US')} training steps, more than this worker's limit of ${limits.maxSteps.toLocaleString('en-US')}`, "the worker's operator sets the limit (hessbound worker --max-steps); ask for fewer steps (--max-steps) in the sweep");
  if (spec.track !== undefined && spec.maxSteps / spec.track > 10_000)
    fail('TOO_LARGE', `queue job ${jobId} tracks lambda_max every ${spec.track} steps of ${spec.maxSteps}, more than 10,000 eigensolves`, 'track less often (a larger --track)');
  assertAllocationsFit(pointAllocations(spec, shapes.data, shapes.test), limits.maxMemoryBytes, `this worker's memory limit`);
}

/** The text a signature covers: the whole job, canonical (the 64-bit key alone could be forged). */
function signedText(spec: SweepJobSpec, backend: string | undefined): string {
  return `hessbound.queue-job.v1\n${backend ?? ''}\n${canonicalJson(spec)}`;
}

export function signJob(spec: SweepJobSpec, backend: string | undefined, key: string): string {
  return createHmac('sha256', key).update(signedText(spec, backend)).digest('hex');
}

export function assertSigned(spec: SweepJobSpec, backend: string | undefined, signature: unknown, key: string, jobId: string): void {
  const hint = `this worker runs only jobs signed with its key (${QUEUE_KEY_ENV}); give the coordinator the same key`;
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) fail('BAD_OPTION', `queue job ${jobId} is not signed`, hint);
  const expected = Buffer.from(signJob(spec, backend, key), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) fail('BAD_OPTION', `queue job ${jobId} has a wrong signature`, hint);
}

/**
 * A failure reason as stored in Redis: its first line and hint, quoted text elided and the length
 * capped, so that no input content (a field of a data file, a string from a job) travels back.
 */
export function scrubReason(reason: string): string {
  const lines = reason.split('\n');
  const hint = lines.find((l) => l.startsWith('  hint: '));
  const elide = (s: string) => s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, (q) => (q.length > 2 ? `${q[0]}…${q[0]}` : q)).slice(0, 400);
  return `${elide(lines[0] ?? '')}${hint ? `\n${elide(hint)}` : ''}`;
}

/** The content data set's shape from the first bytes of its serialized text (content-data.ts writes n, d, classes first). */
export function contentShapeOf(head: string): DataShape | null {
  const m = /^\{"format":"hessbound\.dataset\.v1","n":(\d{1,12}),"d":(\d{1,12}),"classes":(\d{1,9}),/.exec(head);
  if (!m) return null;
  return { n: Number(m[1]), d: Number(m[2]), classes: Number(m[3]) };
}

/** Largest serialized data set a worker fetches: about 25 bytes of JSON per value, within the budget. */
export function assertContentSize(id: string, bytes: number, shape: DataShape, limits: WorkerLimits): void {
  // A float64 prints as at most 24 characters plus a comma; the labels or targets add n x (c + 1).
  const most = 26 * shape.n * (shape.d + shape.classes + 1) + 256;
  if (bytes > most) fail('BAD_DATA', `the stored data set ${id.slice(0, 19)}… is ${formatBytes(bytes)}, more than its shape allows (${formatBytes(most)})`, 'run the sweep again so the coordinator stores the data anew');
  // Parsing holds the text (2 bytes a character at worst) and an array of numbers besides the plan's copies.
  if (3 * bytes > limits.maxMemoryBytes) fail('TOO_LARGE', `the stored data set ${id.slice(0, 19)}… (${formatBytes(bytes)}) needs about ${formatBytes(3 * bytes)} to parse, more than this worker's memory limit allows (${formatBytes(limits.maxMemoryBytes)})`, 'use fewer samples or run this sweep on larger workers (--max-memory)');
}
