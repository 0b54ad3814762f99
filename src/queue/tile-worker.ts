/**
 * A queue worker's side of a split point: one job = a range of tiles. It checks the job (fields,
 * signature, the sizes of the model and data parts before fetching them, this worker's memory
 * limit), fetches the parts by content id (kept in memory for the next jobs of the same point),
 * computes the tiles with the kernel's "traceTiles" and writes each tile's sums into the point's
 * hash with HSETNX, so a tile delivered twice is stored once.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { getBackend } from '../backend/select.js';
import { fail } from '../errors.js';
import { formatBytes } from '../memory.js';
import { assertAllocationsFit, closedFormWork, forwardCache } from '../resources/memory-plan.js';
import { traceTileSums, TILE_SUM_WIDTH } from '../split/tile-sums.js';
import type { BackendName } from '../types.js';
import type { WorkerLimits } from './job-policy.js';
import { assertTileJobSigned, parsePart, partHeader, partKey, problemFromParts, tileSumsKey, validateTileJob, type TileJobData } from './tile-jobs.js';

export interface TileWorkerContext {
  redis: Redis;
  queueName: string;
  limits: WorkerLimits;
  signingKey?: string;
  /** Backend for jobs that name none. */
  backend?: BackendName | 'auto';
  log: (line: string) => void;
}

const TILE_SUMS_TTL_SECONDS = 7 * 24 * 3600;
const PART_HINT = 'the coordinator stores the model and data when the point starts; run it again';

export interface TileJobOutcome {
  point: string;
  first: number;
  count: number;
  /** Tiles this job stored (0 when another delivery of the same tiles got there first). */
  stored: number;
  seconds: number;
}

export function tileJobRunner(ctx: TileWorkerContext): { admit(job: Job): Promise<TileJobData>; run(job: Job, tile: TileJobData, signal: AbortSignal): Promise<TileJobOutcome> } {
  // The last few parts fetched, by content id: the jobs of one point share them.
  const cache = new Map<string, ReturnType<typeof parsePart>>();
  const fetchPart = async (id: string) => {
    const hit = cache.get(id);
    if (hit) return hit;
    const key = partKey(ctx.queueName, id);
    const [head, bytes] = await Promise.all([ctx.redis.getrangeBuffer(key, 0, 4095), ctx.redis.strlen(key)]);
    if (bytes === 0) fail('IO', `the part ${id.slice(0, 19)}… of this point is not stored in the queue`, PART_HINT);
    const parsed = partHeader(head);
    if (!parsed || parsed.bytes !== bytes) fail('BAD_DATA', `the stored part ${id.slice(0, 19)}… is not what its header says`, PART_HINT);
    // Held as bytes and as float64 arrays while parsed.
    if (2 * bytes > ctx.limits.maxMemoryBytes) fail('TOO_LARGE', `the stored part ${id.slice(0, 19)}… (${formatBytes(bytes)}) needs more than this worker's memory limit (${formatBytes(ctx.limits.maxMemoryBytes)})`, 'run the point on larger workers (--max-memory)');
    const text = await ctx.redis.getBuffer(key);
    if (text === null) fail('IO', `the part ${id.slice(0, 19)}… of this point is not stored in the queue`, PART_HINT);
    const part = parsePart(id, text);
    cache.set(id, part);
    while (cache.size > 4) cache.delete(cache.keys().next().value as string);
    return part;
  };
  return {
    async admit(job) {
      const tile = validateTileJob(job.data, job.id ?? '?');
      if (ctx.signingKey) assertTileJobSigned(tile, ctx.signingKey, job.id ?? '?');
      return tile;
    },
    async run(job, tile, signal) {
      const started = Date.now();
      const [model, data] = await Promise.all([fetchPart(tile.model), fetchPart(tile.data)]);
      const spec = problemFromParts(model, data, tile.reduction);
      const sizes = Array.from(spec.sizes);
      if (sizes.length !== 3) fail('BAD_OPTION', `queue job ${job.id} splits a network with ${sizes.length - 2} hidden layers; tiles need one`);
      assertAllocationsFit([forwardCache(sizes, spec.samples), closedFormWork(sizes, spec.samples, 1, 'dual')], ctx.limits.maxMemoryBytes, "this worker's memory limit");
      const backend = await getBackend(tile.backend ?? ctx.backend);
      const r = await traceTileSums(backend, spec, { first: tile.first, count: tile.count }, { ...(tile.workBytes !== undefined ? { workBytes: tile.workBytes } : {}), ...(tile.deterministic ? { deterministic: true } : {}), signal });
      if (r.tiles.count !== tile.tileCount) fail('BAD_OPTION', `queue job ${job.id} expects ${tile.tileCount} tiles, but the point has ${r.tiles.count} here`, 'the coordinator and the workers must run the same hessbound version');
      const key = tileSumsKey(ctx.queueName, tile.point);
      const multi = ctx.redis.multi();
      for (let k = 0; k < tile.count; k++) multi.hsetnx(key, String(tile.first + k), JSON.stringify(Array.from(r.sums.subarray(k * TILE_SUM_WIDTH, (k + 1) * TILE_SUM_WIDTH))));
      multi.expire(key, TILE_SUMS_TTL_SECONDS);
      const results = (await multi.exec()) ?? [];
      const stored = results.slice(0, tile.count).filter(([error, value]) => !error && value === 1).length;
      return { point: tile.point, first: tile.first, count: tile.count, stored, seconds: (Date.now() - started) / 1000 };
    },
  };
}
