/** Width sweeps: jobs, one point, the sweep loop, CSV rows and the SVG plot (all browser-safe). */
export { canonicalJson, gridContains, gridJobIterator, gridJobs, gridMembership, gridSize, jobKey, makeJob, normalizeJob, JOB_DEFAULTS, JOB_FORMAT } from './job.js';
export type { SweepGrid, SweepJob, SweepJobInput, SweepJobSpec } from './job.js';
export { canonicalDatasetId, loadDatasetById, parseDatasetId } from './dataset-id.js';
export { runPoint, type PointContext } from './run-point.js';
export { sweepToEnd, type SweepSummary } from './summary.js';
export { inProcessExecutor, sweep, type PointExecutor, type SweepEvent, type SweepOptions } from './sweep.js';
export { CSV_COLUMNS, CSV_HEADER, csvRow, parseCsvRow } from './csv.js';
export { sweepPlotSvg, type PlotOptions } from './plot.js';
export type { SweepFailure, SweepRecord, SweepResult } from './result.js';
