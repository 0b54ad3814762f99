/**
 * A seeded synthetic stand-in for a 28 x 28 handwritten-digit set (MNIST shape: 784 pixels in
 * [0, 1], 10 classes), for benches that need real-data scale without a download. Each class has a
 * few prototype "glyphs" (strokes of Gaussian ink along random smooth curves); a sample is one of its
 * class's prototypes, shifted by up to 2 pixels, with the stroke width and ink level jittered,
 * pixel noise added and faint pixels cleared, so the inputs are sparse, non-negative, strongly
 * correlated within a class and overlapping between classes, like the real thing.
 */
import { createRng, type Rng } from '../../src/rng.js';
import type { Dataset } from '../../src/types.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

interface Stroke {
  points: Array<[number, number]>;
}

function glyph(rng: Rng): Stroke[] {
  const strokes: Stroke[] = [];
  const count = 1 + rng.int(3);
  for (let s = 0; s < count; s++) {
    // A smooth curve: a random quadratic Bezier inside the central 20 x 20 box.
    const p = Array.from({ length: 3 }, () => [4 + 20 * rng.next(), 4 + 20 * rng.next()] as [number, number]);
    const points: Array<[number, number]> = [];
    for (let i = 0; i <= 24; i++) {
      const t = i / 24;
      const a = (1 - t) * (1 - t), b = 2 * t * (1 - t), c = t * t;
      points.push([a * p[0]![0] + b * p[1]![0] + c * p[2]![0], a * p[0]![1] + b * p[1]![1] + c * p[2]![1]]);
    }
    strokes.push({ points });
  }
  return strokes;
}

function render(strokes: Stroke[], dx: number, dy: number, width: number, ink: number, rng: Rng, out: Float64Array, offset: number): void {
  const inv = 1 / (2 * width * width);
  for (const { points } of strokes)
    for (const [px, py] of points) {
      const cx = px + dx, cy = py + dy;
      const x0 = Math.max(0, Math.floor(cx - 3 * width)), x1 = Math.min(SIDE - 1, Math.ceil(cx + 3 * width));
      const y0 = Math.max(0, Math.floor(cy - 3 * width)), y1 = Math.min(SIDE - 1, Math.ceil(cy + 3 * width));
      for (let y = y0; y <= y1; y++)
        for (let x = x0; x <= x1; x++) {
          const i = offset + y * SIDE + x;
          out[i] = Math.max(out[i]!, ink * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) * inv));
        }
    }
  for (let i = offset; i < offset + PIXELS; i++) {
    const v = out[i]! + (out[i]! > 0.05 ? 0.08 * (rng.next() - 0.5) : 0);
    out[i] = v < 0.1 ? 0 : Math.min(1, v);
  }
}

/** n samples (balanced classes, shuffled by the seed) of the digit-like set. */
export function digitLikeDataset(n: number, seed: number, classes = 10, prototypes = 4): Dataset {
  const rng = createRng(seed);
  const shapes = Array.from({ length: classes }, () => Array.from({ length: prototypes }, () => glyph(rng)));
  const x = new Float64Array(n * PIXELS);
  const labels = new Int32Array(n);
  const targets = new Float64Array(n * classes);
  for (let s = 0; s < n; s++) {
    const k = rng.int(classes);
    labels[s] = k;
    targets[s * classes + k] = 1;
    const shape = shapes[k]![rng.int(prototypes)]!;
    render(shape, 4 * rng.next() - 2, 4 * rng.next() - 2, 0.9 + 0.6 * rng.next(), 0.8 + 0.2 * rng.next(), rng, x, s * PIXELS);
  }
  return { n, d: PIXELS, classes, x, targets, labels, name: `digit-like-${n}` };
}
