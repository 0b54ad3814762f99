/**
 * A seeded stand-in for a 28 x 28 handwritten-digit set (MNIST-like shape and sparsity) at any N:
 * each class is a glyph of 2-4 pen strokes; each sample redraws its class's strokes with the end
 * points jittered, the whole glyph shifted by up to 2 pixels, its ink scaled and thickened at
 * random, plus a little noise on the inked pixels, clipped to [0, 1]. Classes overlap (jitter, shifts), so a
 * network does not fit the set at once. Deterministic for (n, seed); pure TypeScript, no files.
 */
import { toDataset, type Dataset } from '../../src/index.js';
import { createRng } from '../../src/rng.js';

const SIDE = 28;

interface Stroke {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Squared distance from (px, py) to the segment. */
function distance2(s: Stroke, px: number, py: number): number {
  const dx = s.x1 - s.x0, dy = s.y1 - s.y0;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.min(1, Math.max(0, ((px - s.x0) * dx + (py - s.y0) * dy) / len2)) : 0;
  const ex = s.x0 + t * dx - px, ey = s.y0 + t * dy - py;
  return ex * ex + ey * ey;
}

export interface SyntheticDigitsOptions {
  n: number;
  seed?: number;
  classes?: number;
}

export function syntheticDigits(options: SyntheticDigitsOptions): Dataset {
  const { n, seed = 0, classes = 10 } = options;
  const rng = createRng(seed);
  const inside = () => 5 + 18 * rng.next(); // glyphs in the central 18 x 18 pixels, as in MNIST
  const glyphs: Stroke[][] = Array.from({ length: classes }, () =>
    Array.from({ length: 2 + rng.int(3) }, () => ({ x0: inside(), y0: inside(), x1: inside(), y1: inside() })),
  );
  const d = SIDE * SIDE;
  const x = new Float64Array(n * d);
  const labels: number[] = [];
  for (let s = 0; s < n; s++) {
    const label = s % classes; // balanced classes; the order is not sorted by class
    labels.push(label);
    const shiftX = 4 * rng.next() - 2, shiftY = 4 * rng.next() - 2;
    const strokes = glyphs[label]!.map((g) => ({
      x0: g.x0 + shiftX + 1.5 * rng.normal(),
      y0: g.y0 + shiftY + 1.5 * rng.normal(),
      x1: g.x1 + shiftX + 1.5 * rng.normal(),
      y1: g.y1 + shiftY + 1.5 * rng.normal(),
    }));
    const ink = 0.7 + 0.3 * rng.next();
    const width = 0.9 + 0.6 * rng.next();
    const inv = 1 / (2 * width * width);
    const row = x.subarray(s * d, (s + 1) * d);
    for (let py = 0; py < SIDE; py++)
      for (let px = 0; px < SIDE; px++) {
        let nearest = Infinity;
        for (const stroke of strokes) nearest = Math.min(nearest, distance2(stroke, px, py));
        if (nearest * inv > 6) continue; // below 0.25% ink: blank paper, as in scans
        const value = ink * Math.exp(-nearest * inv) + 0.05 * rng.normal();
        row[py * SIDE + px] = value < 0.02 ? 0 : Math.min(1, value);
      }
  }
  return toDataset(x, labels, { d, name: `synthetic-digits-${n}-seed${seed}` });
}
