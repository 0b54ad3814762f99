/**
 * Layer-wise Hessian blocks: for every affine layer l the diagonal block H_ll over its W_l and b_l,
 * with its extreme eigenvalues, traces and Wolkowicz–Styan bounds (kernel command "blocks"; see
 * native/kernel/curvature/blocks.cpp for the three exact routes). For one hidden layer, blocks solved by
 * Lanczos get their traces from the closed form (output block H22 and hidden block H11 of
 * docs/closed-form.md), so their bounds are exact too.
 */
import type { WsBounds } from '../analyze.js';
import type { KernelBackend, ProblemSpec, ProgressCallback } from '../backend/types.js';
import { closedFormTraces } from '../bound.js';
import { fail } from '../errors.js';

export type BlockMethod = 'auto' | 'dense' | 'lanczos';

export interface LayerBlock {
  /** 0-based affine layer (the last one is the output layer). */
  layer: number;
  /** First index of the block in the parameter vector. */
  offset: number;
  /** Size of the block: out x in weights plus out biases. */
  parameters: number;
  /** 'dense' (cut from the whole Hessian), 'columns' (assembled by Hessian-vector products), 'lanczos'. */
  method: 'dense' | 'columns' | 'lanczos';
  lambdaMax: number;
  lambdaMin: number;
  trace: number | null;
  traceOfSquare: number | null;
  bound: WsBounds | null;
  /** 'dense' (from the block itself), 'closed-form' (one hidden layer), 'none'. */
  traceSource: 'dense' | 'closed-form' | 'none';
  /** All eigenvalues of the block, ascending (dense routes only). */
  eigenvalues?: number[];
  lanczos?: { iterations: number; products: number; converged: boolean; topResidual: number; bottomResidual: number };
}

export interface BlocksOptions {
  method?: BlockMethod;
  /** Largest dense matrix in bytes (the whole Hessian, else one block). */
  maxDenseBytes: number;
  tolerance?: number;
  maxIterations?: number;
  seed?: number;
  onProgress?: ProgressCallback;
}

type KernelBlock = Omit<LayerBlock, 'traceSource'>;

export async function layerBlocks(backend: KernelBackend, spec: ProblemSpec, options: BlocksOptions): Promise<LayerBlock[]> {
  const method = options.method ?? 'auto';
  const code = ['auto', 'dense', 'lanczos'].indexOf(method);
  if (code < 0) fail('BAD_OPTION', `unknown blocks method '${String(method)}'`, 'use auto, dense or lanczos');
  const text = await backend.run(
    'blocks',
    spec,
    {
      method: code,
      maxDenseBytes: Math.min(options.maxDenseBytes, Number.MAX_SAFE_INTEGER),
      ...(options.tolerance !== undefined ? { tolerance: options.tolerance } : {}),
      ...(options.maxIterations !== undefined ? { maxIterations: options.maxIterations } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    },
    options.onProgress,
  );
  const blocks = (JSON.parse(text) as { blocks: KernelBlock[] }).blocks.map(
    (b): LayerBlock => ({ ...b, traceSource: b.trace === null ? 'none' : 'dense' }),
  );
  if (spec.sizes.length === 3 && blocks.some((b) => b.trace === null)) {
    // One hidden layer: tr and ||.||_F^2 of H11 (hidden) and H22 (output) in closed form.
    const t = await closedFormTraces(backend, spec, { orthogonality: false });
    const parts = t.decomposition?.blocks;
    if (parts)
      for (const b of blocks) {
        if (b.trace !== null) continue;
        const part = b.layer === 0 ? parts.hidden : parts.output;
        const { frobenius: _f, ...bound } = backend.wsBounds(part.trace, part.traceOfSquare, b.parameters);
        Object.assign(b, { trace: part.trace, traceOfSquare: part.traceOfSquare, bound, traceSource: 'closed-form' });
      }
  }
  return blocks;
}
