/** Writes .npy files (version 1.0, C order, little-endian) for tests and benches, as numpy.save does. */
import { closeSync, openSync, writeSync } from 'node:fs';

function header(descr: string, shape: readonly number[]): Buffer {
  let text = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  text += ' '.repeat(63 - ((10 + text.length) % 64)) + '\n';
  const out = Buffer.alloc(10 + text.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  out.writeUInt16LE(text.length, 8);
  out.write(text, 10, 'latin1');
  return out;
}

/**
 * An n x d feature file whose value at (i, j) is value(i, j), written a row block at a time (a
 * 60,000 x 3,072 file never exists whole in this process).
 */
export function writeFeatureNpy(path: string, n: number, d: number, dtype: 'f4' | 'f8', value: (i: number, j: number) => number): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header(`<${dtype}`, [n, d]));
    const rows = Math.max(1, Math.floor(4_000_000 / d));
    for (let start = 0; start < n; start += rows) {
      const count = Math.min(rows, n - start);
      const block = dtype === 'f4' ? new Float32Array(count * d) : new Float64Array(count * d);
      for (let r = 0; r < count; r++) for (let j = 0; j < d; j++) block[r * d + j] = value(start + r, j);
      writeSync(fd, new Uint8Array(block.buffer));
    }
  } finally {
    closeSync(fd);
  }
}

export function writeLabelNpy(path: string, labels: ArrayLike<number>): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header('<i8', [labels.length]));
    writeSync(fd, new Uint8Array(BigInt64Array.from(Array.from(labels, (v) => BigInt(v))).buffer));
  } finally {
    closeSync(fd);
  }
}
