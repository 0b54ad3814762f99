/** Options shared by every bench (parsed from the command line by run-all.ts). */
export interface BenchOptions {
  /** Fewer samples and runs: a smoke test of the benches, not figures to quote. */
  quick: boolean;
  /** In-process samples per hessbound measurement (Benchmark.js minSamples). */
  samples: number;
  /** Repeats inside each PyTorch peer run (the peer reports the median). */
  peerRepeat: number;
  /** Repeats of the (slow) vectorize=True dense Hessian in the peer. */
  vectorizeRepeat: number;
  /** Whole-process A/B pairs (0 skips the whole-process timings). */
  pairs: number;
  /** Skip the PyTorch peer entirely. */
  noPeer: boolean;
  /** closed-form and sweep benches: the hidden widths (default: each bench's own list). */
  widths?: number[];
  /** sweep bench: seeds 0..seeds-1 (default 3). */
  seeds?: number;
  /** sweep bench: the worker counts to run, one sweep each (default 1 and 2). */
  workers?: number[];
}

export const DEFAULT_OPTIONS: BenchOptions = {
  quick: false,
  samples: 7,
  peerRepeat: 5,
  vectorizeRepeat: 3,
  pairs: 5,
  noPeer: false,
};

export const QUICK_OPTIONS: BenchOptions = {
  quick: true,
  samples: 3,
  peerRepeat: 1,
  vectorizeRepeat: 1,
  pairs: 1,
  noPeer: false,
};
