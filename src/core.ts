/** Everything that runs in Node and in the browser alike. */
export { analyze, type AnalyzeOptions, type AnalyzeResult, type Method, type WsBounds } from './analyze.js';
export { eigenvalues, hessian, hvp, lossAndGradient, wsBounds } from './curvature.js';
export { getBackend } from './backend/select.js';
export type { KernelBackend, ProgressCallback } from './backend/types.js';
export { HessboundError, type ErrorCode } from './errors.js';
export { modelToJson, parseModelJson, randomModel, flattenParams, unflattenParams, parameterCount, layerSizes } from './model.js';
export { parseCsv, parseDataJson, standardize, toDataset, oneHot, subsample } from './data.js';
export type { DataInput, ModelInput } from './inputs.js';
export * from './types.js';
export { train, type TrainOptions, type TrainResult, type TrainHistoryEntry } from './train.js';
export { syntheticDataset, pairwiseCosines, type SyntheticOptions, type SyntheticDataset } from './synthetic.js';
export * from './sweep/index.js';
export { wsBound, closedFormTraces, TRACE_METHODS, type WsBoundOptions, type WsBoundResult, type ClosedFormTraces, type TraceMethod } from './bound.js';
export { evaluateModel, type Evaluation } from './analysis/evaluate.js';
export { stratifiedSplit, checkTestData, type DataSplit } from './analysis/split.js';
export { computeDiagnostics, DIAGNOSTIC_FLAGS, type Diagnostics, type DiagnosticFlag } from './analysis/diagnostics.js';
