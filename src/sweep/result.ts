/** What one sweep point produces: a flat row (the CSV columns) plus details kept in JSON lines. */
import type { Diagnostics } from '../analysis/diagnostics.js';
import type { ModelJson } from '../model.js';
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
  /** Synthetic data: the pairwise input cosine asked for (null for other data). */
  rho: number | null;
  /** Achieved mean and max |cos| between distinct training inputs. */
  meanAbsCosine: number | null;
  maxAbsCosine: number | null;
  /**
   * A counterfactual, not a bound: the WS upper value of a what-if Hessian whose off-diagonal input
   * Gram entries are 0 (one hidden layer; else null). It can be below lambdaMax (docs/closed-form.md).
   */
  orthogonalCounterfactual: number | null;
  weightDecay: number;
  targetLoss: number;
  testFraction: number;
  testData: string;
  testSamples: number;
  trainAccuracy: number;
  testAccuracy: number | null;
  /** Mean cross-entropy on the test samples. */
  testLoss: number | null;
  /** trainAccuracy - testAccuracy. */
  gap: number | null;
  /** lambda_max and WS bound of the regularised objective's Hessian H + wd I (the above + wd). */
  objectiveLambdaMax: number;
  objectiveBound: number;
  parameterNorm: number;
  scaleDerivative: number | null;
  saturatedFraction: number;
  collapsedCells: number;
  lambdaRatio: number | null;
  effectiveRank: number | null;
  /** Diagnostic flags separated by spaces ('' for a healthy point); see docs/diagnostics.md. */
  flags: string;
  /** HSR beta the point was trained with (0: plain training; docs/hsr.md). */
  hsr: number;
  /** The penalised WS number ('upper' or 'spread'), '' without HSR. */
  hsrTarget: string;
  /** beta x that number at the trained point (null without HSR). */
  hsrPenalty: number | null;
  /** Mini-batch training (docs/training.md): samples per batch, 0 for full-batch training. */
  batchSize: number;
  /** 'adam' or 'sgd' for mini-batch points, '' for full-batch ones. */
  optimizer: string;
  /** Mini-batch epochs completed (0 for full-batch points). */
  epochs: number;
}

/** One JSON line of a sweep: the job, its row, and the training curve. */
export interface SweepRecord {
  key: string;
  spec: SweepJobSpec;
  result: SweepResult;
  history: TrainHistoryEntry[];
  diagnostics?: Diagnostics;
  /** The trained model, only when asked for (--save-models). */
  model?: ModelJson;
  /** With the job's `track`: lambda_max and the WS bound along training. */
  track?: SharpnessTrack;
  /** A study point's outcome: whether it reached targetLoss, and then its measures (null: undefined for this network). */
  study?: { reached: boolean; measures: Record<string, number | null> };
}

/** A point that failed (kept out of the CSV, so a resumed sweep retries it). */
export interface SweepFailure {
  key: string;
  spec: SweepJobSpec;
  error: { code: string; message: string };
}
