/** The per-layer Hessian blocks of analyze --blocks as a table. */
import type { LayerBlock } from '../analysis/blocks.js';
import { fmt, table } from './format.js';

export function blocksTable(blocks: readonly LayerBlock[]): string {
  const last = blocks.length - 1;
  const rows = blocks.map((b) => [
    b.layer === last ? `${b.layer} (output)` : String(b.layer),
    fmt(b.parameters),
    fmt(b.lambdaMax, 6),
    fmt(b.lambdaMin, 6),
    fmt(b.trace, 6),
    fmt(b.traceOfSquare, 6),
    fmt(b.bound?.upper ?? null, 6),
    b.bound && b.lambdaMax > 0 ? fmt(b.bound.upper / b.lambdaMax, 4) : '—',
    `${b.method}${b.traceSource === 'closed-form' ? ' + closed form' : ''}${b.lanczos && !b.lanczos.converged ? ' (NOT converged)' : ''}`,
  ]);
  return `Diagonal Hessian blocks per layer (W and b together):\n${table(['layer', 'params', 'lambda_max', 'lambda_min', 'tr', 'tr(H^2)', 'WS bound', 'bound/lmax', 'how'], rows)}`;
}
