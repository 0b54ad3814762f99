/** Public data types shared by every module of the facade. */

/** In the kernel's order (native/kernel/model/activation.hpp): the index is the code it receives. */
export const ACTIVATIONS = ['sigmoid', 'tanh', 'softplus', 'gelu', 'silu', 'identity', 'relu', 'leaky_relu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * Piecewise-linear activations: sigma'' = 0 between kinks, so the Hessian computed is the
 * almost-everywhere one (what autograd gives) and the diagnostics watch the kinks (docs/curvature.md).
 */
export const KINKED_ACTIVATIONS = ['relu', 'leaky_relu'] as const;

/** leaky_relu's slope for u <= 0 when a model does not state one (PyTorch's default). */
export const DEFAULT_NEGATIVE_SLOPE = 0.01;

/** Other non-smooth activations, recognised only to refuse them with an explanation. */
export const NON_SMOOTH_ACTIVATIONS = ['relu6', 'hardtanh', 'hardsigmoid', 'hardswish', 'elu', 'selu', 'prelu', 'abs', 'step'] as const;

export type Reduction = 'mean' | 'sum';
/** 'wasm-threads': the threaded WebAssembly build (hessbound-wasm-mt; SharedArrayBuffer). */
export type BackendName = 'native' | 'wasm' | 'wasm-threads';

/** One affine layer: weight is `out x in`, row-major (PyTorch nn.Linear order). */
export interface Layer {
  readonly out: number;
  readonly in: number;
  readonly weight: Float64Array;
  readonly bias: Float64Array | null;
}

/**
 * The objective a model was trained on beyond the cross-entropy: train() records it and the model
 * files carry it, so analyze/bound judge the point by the function it minimises (docs/training.md).
 */
export interface TrainingObjective {
  /** The objective had weightDecay/2 |params|^2 added (0: none). */
  readonly weightDecay: number;
  /** HSR: beta x a WS bound of the Hessian was added (docs/hsr.md). */
  readonly hsr?: { readonly beta: number; readonly target: 'upper' | 'spread' };
}

/** An MLP: at least one hidden layer, one activation for all hidden layers. */
export interface Model {
  readonly activation: Activation;
  /** leaky_relu only: sigma(u) = negativeSlope * u for u <= 0 (PyTorch's negative_slope); default 0.01. */
  readonly negativeSlope?: number;
  readonly layers: readonly Layer[];
  /** Set by train() and kept by the model files; absent for a model of unknown provenance. */
  readonly objective?: TrainingObjective;
}

/**
 * Training data: `x` is `n x d` row-major; `targets` is `n x classes` row-major, each row a
 * probability distribution (one-hot for integer labels).
 */
export interface Dataset {
  readonly n: number;
  readonly d: number;
  readonly classes: number;
  readonly x: Float64Array;
  readonly targets: Float64Array;
  /** Integer labels when the data came with them (targets are then one-hot). */
  readonly labels: Int32Array | null;
  readonly name?: string;
}

/** Anything a user may pass where a matrix is expected. */
export type MatrixLike =
  | readonly (readonly number[])[]
  | { data: Float64Array | readonly number[]; rows: number; cols: number }
  | { to2DArray(): number[][]; rows: number; columns: number };
