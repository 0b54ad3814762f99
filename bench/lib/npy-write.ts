/** Writes float64 and int32 arrays as .npy (version 1.0), for peers that read them with numpy.load. */
import { writeFileSync } from 'node:fs';

function npy(descr: string, shape: number[], body: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + body.length);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(body, total);
  return out;
}

/** rows x cols float64, row-major. */
export function writeNpyFloat64(path: string, data: Float64Array, rows: number, cols: number): void {
  writeFileSync(path, npy('<f8', [rows, cols], new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
}

export function writeNpyInt32(path: string, data: Int32Array): void {
  writeFileSync(path, npy('<i4', [data.length], new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
}
