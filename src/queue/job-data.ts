/**
 * What travels through the queue: one BullMQ job per sweep point, its id the job key (SHA-256 of
 * the canonical spec), its data `{format, key, spec, backend?}`. Workers validate every job with
 * the same normalizeJob/jobKey as a local sweep, so a malformed or foreign job is refused before
 * anything runs. Failures travel as "[CODE] message" (BullMQ's failedReason is a string).
 */
import { HessboundError, fail, type ErrorCode } from '../errors.js';
import { jobKey, normalizeJob, type SweepJob, type SweepJobInput, type SweepJobSpec } from '../sweep/job.js';
import type { SweepRecord } from '../sweep/result.js';
import type { BackendName } from '../types.js';
import { assertQueueDataId, scrubReason, signJob } from './job-policy.js';

export const QUEUE_JOB_FORMAT = 'hessbound.queue-job.v1';
/** The BullMQ queue (Redis keys `bull:<name>:*`) unless told otherwise. */
export const DEFAULT_QUEUE_NAME = 'hessbound-points';
/** The BullMQ job name of a sweep point. */
export const POINT_JOB_NAME = 'point';

export interface QueueJobData {
  format: typeof QUEUE_JOB_FORMAT;
  key: string;
  spec: SweepJobSpec;
  /** Backend the sweep asked for; a worker's own --backend applies when absent. */
  backend?: BackendName | 'auto';
  /** HMAC-SHA256 of the job with the coordinator's key (job-policy.ts), when it has one. */
  signature?: string;
}

/** The BullMQ job id of a point: its key, and the backend when the job names one (so backends never share a job). */
export function queueJobId(key: string, backend?: BackendName | 'auto'): string {
  return backend && backend !== 'auto' ? `${key}-${backend}` : key;
}

export function queueJobData(job: SweepJob, backend?: BackendName | 'auto', signingKey?: string): QueueJobData {
  return { format: QUEUE_JOB_FORMAT, key: job.key, spec: job.spec, ...(backend ? { backend } : {}), ...(signingKey ? { signature: signJob(job.spec, backend, signingKey) } : {}) };
}

const FOREIGN_HINT = `queue jobs come from 'hessbound sweep --queue'; do not share the queue name with other programs`;

/** The job's spec and key, or a BAD_OPTION error saying what is wrong with it. */
export function validateQueueJob(data: unknown, jobId: string | undefined): { key: string; spec: SweepJobSpec; backend?: BackendName | 'auto'; signature?: unknown } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) fail('BAD_OPTION', `queue job ${jobId ?? '?'} is not an object`, FOREIGN_HINT);
  const d = data as Partial<QueueJobData> & Record<string, unknown>;
  if (d.format !== QUEUE_JOB_FORMAT) fail('BAD_OPTION', `queue job ${jobId ?? '?'} has format ${JSON.stringify(d.format)}, expected "${QUEUE_JOB_FORMAT}"`, FOREIGN_HINT);
  const unknown = Object.keys(d).filter((k) => !['format', 'key', 'spec', 'backend', 'signature'].includes(k));
  if (unknown.length > 0) fail('BAD_OPTION', `queue job ${jobId ?? '?'} has unknown field(s) ${unknown.join(', ')}`, FOREIGN_HINT);
  let spec: SweepJobSpec;
  try {
    spec = normalizeJob(d.spec as SweepJobInput);
  } catch (error) {
    const reason = error instanceof HessboundError ? error.message : String(error);
    return fail('BAD_OPTION', `queue job ${jobId ?? '?'} has an invalid spec: ${reason.split('\n')[0]}`, FOREIGN_HINT);
  }
  const key = jobKey(spec);
  // The key is recomputed, never trusted: a job whose id or key disagree with its spec would store a
  // result under the wrong point.
  if (d.key !== key)
    fail('BAD_OPTION', `queue job ${jobId ?? '?'} carries key ${typeof d.key === 'string' && /^[0-9a-f]{16}$/.test(d.key) ? d.key : '(not 16 hex digits)'}, but its spec hashes to ${key}`, FOREIGN_HINT);
  const backend = d.backend;
  if (backend !== undefined && backend !== 'native' && backend !== 'wasm' && backend !== 'wasm-threads' && backend !== 'auto')
    fail('BAD_OPTION', `queue job ${jobId ?? '?'} asks for an unknown backend`, 'native, wasm, wasm-threads or auto');
  if (jobId !== undefined && jobId !== queueJobId(key, backend))
    fail('BAD_OPTION', `queue job ${jobId} should have the id ${queueJobId(key, backend)} (its key and backend)`, FOREIGN_HINT);
  // Data by content or by name only: a path would make the worker read its own files.
  assertQueueDataId(spec.dataset, 'dataset', jobId ?? '?');
  if (spec.testData !== '') assertQueueDataId(spec.testData, 'testData', jobId ?? '?');
  return { key, spec, ...(backend ? { backend } : {}), ...(d.signature !== undefined ? { signature: d.signature } : {}) };
}

/** A returned record is checked the same way before it reaches the CSV. */
export function validateRecord(value: unknown, key: string, backend?: BackendName): SweepRecord {
  const r = value as Partial<SweepRecord> | null;
  if (typeof r !== 'object' || r === null || typeof r.result !== 'object' || r.result === null || !Array.isArray(r.history))
    fail('KERNEL', `the queue returned no result record for point ${key}`);
  if (r.key !== key || jobKey(normalizeJob(r.spec as SweepJobSpec)) !== key || r.result.key !== key)
    fail('KERNEL', `the queue returned a record for another point under ${key}`);
  if (backend !== undefined && r.result.backend !== backend)
    fail('BACKEND', `the queue returned a ${String(r.result.backend)} record for point ${key}, which this sweep runs on ${backend}`, 'a worker could not load the backend the job names; build it there, or run the sweep with that backend');
  return r as SweepRecord;
}

/** The reason stored in Redis: the code, then the message scrubbed of quoted input (job-policy.ts). */
export function failureReason(error: unknown): string {
  const code = error instanceof HessboundError ? error.code : ((error as { code?: unknown })?.code as string | undefined);
  const message = error instanceof Error ? error.message : String(error);
  return `[${typeof code === 'string' && /^[A-Z_]+$/.test(code) ? code : 'KERNEL'}] ${scrubReason(message)}`;
}

export function errorFromReason(reason: string | undefined): HessboundError {
  // A HessboundError's message ends with its hint: split it off so it is not repeated.
  const m = /^\[([A-Z_]+)\] ([\s\S]*?)(?:\n {2}hint: ([\s\S]*))?$/.exec(reason ?? '');
  if (m) return new HessboundError(m[1] as ErrorCode, m[2] as string, m[3]);
  return new HessboundError('KERNEL', reason || 'the point failed on a worker (no reason given)');
}
