/**
 * hessbound for Node: exact Hessian spectra and the closed-form Wolkowicz–Styan sharpness bound
 * for MLPs (smooth activations, or ReLU almost everywhere) with softmax cross-entropy. Native addon when built, WebAssembly otherwise.
 */
import { installNodeMemoryBudget } from './node/memory-budget.js';
import { loadDataset } from './node/datasets.js';
import { setDefaultEmbeddedLoader } from './sweep/dataset-id.js';

// Work may use most of what the machine has free right now (HESSBOUND_MAX_MEMORY caps it).
installNodeMemoryBudget();
// sweep() in Node loads the embedded data sets (iris, digits, ...) without a loadData option.
setDefaultEmbeddedLoader((name) => loadDataset(name));

export * from './core.js';
export { DATASET_NAMES, loadDataset, readDataFile, readModelFile, writeModelFile } from './node/datasets.js';
export { runSweep, type NodeSweepOptions, type NodeSweepEvent } from './node/sweep-run.js';
export { createWorkerPool, type WorkerPool, type WorkerPoolOptions } from './node/sweep-pool.js';
export { openSweepFiles, type SweepFiles } from './node/sweep-files.js';
