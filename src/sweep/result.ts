/** What one sweep point produces: a flat row (the CSV columns) plus details kept in JSON lines. */
import type { TrainHistoryEntry, TrainResult } from '../train.js';
import type { Activation, BackendName, Reduction } from '../types.js';
import type { SweepJobSpec } from './job.js';
import type { SharpnessTrack } from '../analysis/tracking.js';

export interface SweepResult {
  dataset: string;
  activation: Activation;
  width: number;
  depth: number;
  seed: number;
  parameters: number;
  samples: number;
  /** Cross-entropy loss and gradient norm at the trained point. */
  loss: number;
  gradNorm: number;
  /** Exact largest Hessian eigenvalue. */
  lambdaMax: number;
  /** Wolkowicz–Styan upper bound on lambda_max from the closed-form traces. */
  bound: number;
  /** bound / lambdaMax (null when lambdaMax <= 0). */
  ratio: number | null;
  trace: number;
  traceOfSquare: number;
  /** Wall seconds of the whole point. */
  seconds: number;
  key: string;
  converged: boolean;
  stopReason: TrainResult['stopReason'];
  trainSteps: number;
  lambdaMethod: 'dense' | 'lanczos';
  /** Lanczos converged to its tolerance (always true for dense). */
  lambdaConverged: boolean;
  /** How the traces were computed: 'dual' / 'primal' (closed form), 'dense', or 'hutch++'. */
  boundMethod: string;
  /** True when the traces (hence the bound) are Hutch++ estimates, not exact. */
  boundEstimated: boolean;
  reduction: Reduction;
  secondsTrain: number;
  secondsBound: number;
  secondsLambdaMax: number;
  backend: BackendName;
}

/** One JSON line of a sweep: the job, its row, and the training curve. */
export interface SweepRecord {
  key: string;
  spec: SweepJobSpec;
  result: SweepResult;
  history: TrainHistoryEntry[];
  /** With the job's `track`: lambda_max and the WS bound along training. */
  track?: SharpnessTrack;
}

/** A point that failed (kept out of the CSV, so a resumed sweep retries it). */
export interface SweepFailure {
  key: string;
  spec: SweepJobSpec;
  error: { code: string; message: string };
}
