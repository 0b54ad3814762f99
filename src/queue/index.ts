/** Distributed sweeps on BullMQ/Redis (`hessbound/queue`; docs/distributed.md). Node only. */
export { openQueueExecutor, type QueueExecutor, type QueueExecutorOptions } from './coordinator.js';
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions } from './worker.js';
export { parseQueueUrl, redact, PASSWORD_ENV, type QueueConnection } from './connection.js';
export { contentDatasetId, serializeDataset, parseContentDataset } from './content-data.js';
export { validateQueueJob, queueJobData, QUEUE_JOB_FORMAT, DEFAULT_QUEUE_NAME, type QueueJobData } from './job-data.js';
export { runSweep } from '../node/sweep-run.js';
export { signJob, scrubReason, QUEUE_KEY_ENV, DEFAULT_MAX_SECONDS, DEFAULT_MAX_STEPS, type WorkerLimits } from './job-policy.js';
export { queueTileSource, DEFAULT_TILES_PER_JOB, type QueueTileOptions, type QueueTileReport } from './tile-coordinator.js';
