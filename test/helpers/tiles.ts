/** The closed-form traces' tiles, as the tests of the tiled and the split evaluation see them. */
import type { ClosedFormTraces } from '../../src/bound.js';

/** workBytes whose tile side is `b` for c classes and width h (the kernel's tile_for rule; the result's tiles.size checks it). */
export function workBytesForTile(b: number, c: number, h: number): number {
  const rows = (c * (c + 1)) / 2 + c;
  const qa = c + 9;
  const qb = 3 * c * h + 8 * rows + 6 * c + 10;
  const q0 = 8 * rows * h;
  return 8 * (qa * b * b + qb * b + q0) + 8;
}

/** tr, tr^2 and every decomposition term, in a fixed order. */
export function traceTerms(r: ClosedFormTraces): number[] {
  const t = r.decomposition!;
  return [
    r.trace,
    r.traceOfSquare,
    t.blocks.output.traceOfSquare,
    t.blocks.hidden.traceOfSquare,
    t.blocks.cross.traceOfSquare,
    t.gaussNewton.traceOfSquare,
    t.residual.traceOfSquare,
    t.residual.sigmaSecond.traceOfSquare,
    t.residual.gradientCross.traceOfSquare,
    t.mixed,
  ];
}
