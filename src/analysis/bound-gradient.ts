/**
 * The exact gradient of the Wolkowicz–Styan numbers with respect to every parameter of a
 * one-hidden-layer network (kernel command "wsGradient"; derivation in docs/hsr.md). It is the
 * reverse mode of the closed-form traces: no P x P matrix, cost a small multiple of the traces.
 */
import type { KernelBackend, ProblemSpec, ProgressCallback } from '../backend/types.js';
import { getBackend } from '../backend/select.js';
import type { WsBounds } from '../analyze.js';
import { fail } from '../errors.js';
import { toDatasetInput, toModel, type DataInput, type ModelInput } from '../inputs.js';
import { layerSizes } from '../model.js';
import type { Model } from '../types.js';
import { toProblemSpec } from '../problem.js';
import type { BackendName, Reduction } from '../types.js';

/**
 * How the trace values are evaluated and which evaluation the gradient is the adjoint of; 'auto'
 * picks the cheaper by the traces' cost model. Both forms give the same gradient (to rounding).
 */
export const GRADIENT_TRACE_METHODS = ['auto', 'dual', 'primal'] as const;
export type GradientTraceMethod = (typeof GRADIENT_TRACE_METHODS)[number];

export interface WsBoundGradientOptions {
  method?: GradientTraceMethod;
  reduction?: Reduction;
  backend?: BackendName | 'auto';
  /** Scratch memory of the trace evaluation, bytes (default 256 MiB). */
  workBytes?: number;
  onProgress?: ProgressCallback;
}

/**
 * Gradients in the model's flat parameter order (W1, b1, W2, b2; PyTorch layout). The ones that
 * depend on s = sqrt(tr(H^2)/P - (tr H/P)^2) are null where s = 0 (all eigenvalues equal: not
 * differentiable there); `defined` says whether they are present.
 */
export interface WsBoundGradients {
  trace: number[];
  traceOfSquare: number[];
  upper: number[] | null;
  lowerOfMax: number[] | null;
  lowerOfMin: number[] | null;
  upperOfMin: number[] | null;
  spread: number[] | null;
  /** Gradient of sqrt(tr H^2) (null when tr H^2 = 0). */
  frobenius: number[] | null;
}

export interface WsBoundGradientResult {
  backend: BackendName;
  parameters: number;
  samples: number;
  loss: number;
  trace: number;
  traceOfSquare: number;
  bound: WsBounds;
  frobenius: number;
  /** The evaluation of the trace values: 'dual' or 'primal'. */
  method: 'dual' | 'primal';
  /** The form the gradient of tr(H^2) was computed in (the adjoint of the pair or the block evaluation). */
  adjoint: 'dual' | 'primal';
  defined: boolean;
  gradient: WsBoundGradients;
  seconds: { traces: number; gradient: number; total: number };
}

/** Fails with BAD_MODEL and a hint unless the model has exactly one hidden layer. */
export function requireOneHiddenLayer(model: Model): void {
  const hidden = layerSizes(model).length - 2;
  if (hidden !== 1)
    fail(
      'BAD_MODEL',
      `the closed-form gradient of the WS bound needs exactly one hidden layer; this model has ${hidden}`,
      'use a model with one hidden layer (e.g. --hidden 16); no closed form is derived for deeper networks',
    );
}

/** The kernel call on a prepared problem (used by the API and the tests). */
export async function wsGradientOnSpec(
  backend: KernelBackend,
  spec: ProblemSpec,
  options: Omit<WsBoundGradientOptions, 'backend' | 'reduction'> = {},
): Promise<Omit<WsBoundGradientResult, 'backend'>> {
  const method = options.method ?? 'auto';
  const code = GRADIENT_TRACE_METHODS.indexOf(method);
  if (code < 0) fail('BAD_OPTION', `unknown trace method '${String(method)}'`, `use one of: ${GRADIENT_TRACE_METHODS.join(', ')}`);
  const kernelOptions: Record<string, number> = { method: code };
  if (options.workBytes !== undefined) {
    if (!(Number.isSafeInteger(options.workBytes) && options.workBytes > 0))
      fail('BAD_OPTION', `workBytes must be a positive integer, got ${String(options.workBytes)}`);
    kernelOptions['workBytes'] = options.workBytes;
  }
  const text = await backend.run('wsGradient', spec, kernelOptions, options.onProgress);
  return JSON.parse(text) as Omit<WsBoundGradientResult, 'backend'>;
}

/** tr(H), tr(H^2), the WS numbers and their exact gradients for a one-hidden-layer model. */
export async function wsBoundGradient(
  modelInput: ModelInput,
  dataInput: DataInput,
  options: WsBoundGradientOptions = {},
): Promise<WsBoundGradientResult> {
  const model = toModel(modelInput);
  requireOneHiddenLayer(model);
  const data = toDatasetInput(dataInput);
  const backend = await getBackend(options.backend);
  const spec = toProblemSpec(model, data, options.reduction);
  const result = await wsGradientOnSpec(backend, spec, options);
  return { backend: backend.name, ...result };
}
