/** The contract every kernel backend (native addon, WebAssembly) fulfils, with identical results. */
import type { BackendName } from '../types.js';

/** A model and its data flattened for the kernel (see native/kernel/model/network.hpp). */
export interface ProblemSpec {
  /** d0 (inputs), hidden widths..., classes. */
  readonly sizes: Int32Array;
  /** One flag per affine layer. */
  readonly hasBias: Uint8Array;
  /** Index into ACTIVATIONS. */
  readonly activation: number;
  /** leaky_relu's slope for u <= 0 (ignored by the other activations). */
  readonly leakySlope: number;
  /** P parameters in PyTorch order. */
  readonly params: Float64Array;
  /** samples x d0, row-major. */
  readonly x: Float64Array;
  /** samples x classes, row-major; rows are distributions. */
  readonly targets: Float64Array;
  readonly samples: number;
  /** 0 = mean, 1 = sum. */
  readonly reduction: number;
}

/** Options of the kernel's "analyze" command. */
export interface KernelAnalyzeOptions extends Record<string, number> {
  /** 0 = dense, 1 = Lanczos. */
  readonly method: number;
  /** 0 = auto, 1 = Kronecker blocks (one hidden layer), 2 = Hessian-vector products. */
  readonly assembly: number;
  readonly k: number;
  /** Lanczos ends: 0 = largest, 1 = smallest, 2 = both. */
  readonly which: number;
  readonly tolerance: number;
  readonly maxIterations: number;
  readonly seed: number;
  readonly maxDenseBytes: number;
}

export interface KernelWsBounds {
  upper: number;
  lowerOfMax: number;
  lowerOfMin: number;
  upperOfMin: number;
  spread: number;
  frobenius: number;
}

export type ProgressCallback = (fraction: number) => void;

export interface KernelBackend {
  readonly name: BackendName;
  /** 'openblas' or 'eigen'. */
  readonly linalg: string;
  /** Native only: which addon file loaded, OpenBLAS threads, and whether linear algebra is linked statically. */
  /** The threaded WebAssembly build in Node: the threads its kernel runs on (memory plans count their scratch). */
  readonly kernelThreads?: number;
  readonly addonInfo?: { path: string; linalg: string; threads?: number; linkage?: string; simd?: string; simdCpu?: string; blasKernels?: string };
  /**
   * WebAssembly only: which build runs ('simd128', or 'relaxed': relaxed SIMD with fused
   * multiply-adds, as the module itself reports) and why it was chosen.
   */
  readonly wasmSimd?: { simd: 'simd128' | 'relaxed'; why?: string };
  /** Largest dense P x P matrix (bytes) this backend can hold at all. */
  readonly maxDenseBytes: number;
  /**
   * Runs a named kernel command (native/kernel/commands.cpp: "analyze", ...) with numeric options;
   * resolves with the kernel's JSON result text.
   */
  run(name: string, spec: ProblemSpec, options: Record<string, number>, onProgress?: ProgressCallback, signal?: AbortSignal): Promise<string>;
  hessian(spec: ProblemSpec, assembly: number, maxDenseBytes: number, onProgress?: ProgressCallback, signal?: AbortSignal): Promise<Float64Array>;
  /** k directions as k rows of length P; resolves with k rows of H v. */
  hvp(spec: ProblemSpec, directions: Float64Array, k: number): Promise<Float64Array>;
  lossGrad(spec: ProblemSpec): { loss: number; gradient: Float64Array };
  /** Eigenpairs with ascending indices first..last of a symmetric n x n matrix. */
  eigh(
    matrix: Float64Array,
    n: number,
    first: number,
    last: number,
    vectors: boolean,
  ): Promise<{ values: Float64Array; vectors: Float64Array }>;
  wsBounds(trace: number, traceOfSquare: number, n: number): KernelWsBounds;
  /**
   * The threaded WebAssembly build only: the most threads one kernel call has run on so far in the
   * instance that runs the long calls (1 until a call used more).
   */
  threadsUsed?(): Promise<number>;
}
