/** Worker-thread entry of the sweep pool: runs one point per message (see sweep-pool.ts). */
import { parentPort } from 'node:worker_threads';
import { setAmbientCancelWord } from '../backend/cancel.js';
import { HessboundError } from '../errors.js';
import type { SweepJobSpec } from '../sweep/job.js';
import { runPoint } from '../sweep/run-point.js';
import type { BackendName, Dataset } from '../types.js';
import { loadDataById, loadTestDataById } from './dataset-ids.js';
import { parseDatasetId } from '../sweep/dataset-id.js';
import { installNodeMemoryBudget } from './memory-budget.js';
import type { TileSource, TraceSplitConfig } from '../split/tile-sums.js';

export type WorkerRequest =
  | { type: 'run'; id: number; spec: SweepJobSpec; backend?: BackendName | 'auto'; keepModel?: boolean; noFiles?: boolean; cancelWord?: Int32Array; split?: TraceSplitConfig }
  | { type: 'cancel'; id: number };
export type WorkerReply =
  | { type: 'progress'; id: number; fraction: number }
  | { type: 'result'; id: number; record: import('../sweep/result.js').SweepRecord }
  | { type: 'error'; id: number; code: string; message: string };

// Each thread plans against the machine's memory too (a module-level hook, so set here as well).
installNodeMemoryBudget();

const port = parentPort;
if (!port) throw new Error('sweep-worker.ts runs only as a worker thread');

// Parsing digits for every point would cost more than training small nets.
const datasets = new Map<string, Dataset>();
/** Queue workers' threads: a path from a job is never opened, whatever got past validation. */
function refuseFile(id: string, noFiles: boolean | undefined): void {
  if (noFiles && parseDatasetId(id).kind === 'file') throw new HessboundError('BAD_OPTION', 'this worker computes only on data sent by content; it does not read paths');
}

function loadData(id: string, noFiles?: boolean): Dataset {
  refuseFile(id, noFiles);
  let data = datasets.get(id);
  if (!data) {
    data = loadDataById(id);
    datasets.set(id, data);
  }
  return data;
}

// The queue's tile source of a split sweep (BullMQ loaded only when a sweep asks for it).
let tileSource: { key: string; tiles: Promise<TileSource> } | undefined;
function tilesFor(split: TraceSplitConfig): Promise<TileSource> {
  const key = JSON.stringify(split);
  if (tileSource?.key !== key)
    tileSource = { key, tiles: import('../queue/tile-coordinator.js').then(({ queueTileSource }) => queueTileSource({ url: split.url, ...(split.tilesPerJob !== undefined ? { tilesPerJob: split.tilesPerJob } : {}) })) };
  return tileSource.tiles;
}

// The running point's cancellation, by request id (one point at a time per worker).
const running = new Map<number, AbortController>();

port.on('message', (request: WorkerRequest) => {
  const { id } = request;
  if (request.type === 'cancel') {
    running.get(id)?.abort();
    return;
  }
  const controller = new AbortController();
  running.set(id, controller);
  // The pool raises this word itself to cancel the point: the native kernel polls it (cancel.ts).
  setAmbientCancelWord(request.cancelWord);
  let last = -1;
  const split = request.split;
  (split ? tilesFor(split) : Promise.resolve(undefined)).then((tiles) => runPoint(request.spec, {
    ...(split && tiles ? { splitTraces: { tiles, aboveMultiplyAdds: split.aboveMultiplyAdds } } : {}),
    signal: controller.signal,
    ...(request.backend ? { backend: request.backend } : {}),
    loadData: (dataId) => loadData(dataId, request.noFiles),
    loadTestData: (testId, trainId) => {
      refuseFile(testId, request.noFiles);
      refuseFile(trainId, request.noFiles);
      return loadTestDataById(testId, trainId);
    },
    ...(request.keepModel ? { keepModel: true } : {}),
    onProgress: (fraction) => {
      if (fraction - last < 0.005 && fraction < 1) return;
      last = fraction;
      port.postMessage({ type: 'progress', id, fraction } satisfies WorkerReply);
    },
  }))
    .finally(() => {
      running.delete(id);
      setAmbientCancelWord(undefined);
    })
    .then(
      (record) => port.postMessage({ type: 'result', id, record } satisfies WorkerReply),
      (error: unknown) => {
        const code = error instanceof HessboundError ? error.code : 'KERNEL';
        const message = error instanceof Error ? error.message : String(error);
        port.postMessage({ type: 'error', id, code, message } satisfies WorkerReply);
      },
    );
});
