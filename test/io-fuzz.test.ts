/**
 * Seeded fuzzing of the format parsers: thousands of mutated safetensors, ONNX, .npy and .npz inputs
 * (bit flips, overwritten and inserted bytes, truncations, corrupted lengths). Each must give a
 * model/data set or a HessboundError: never another exception, and never a hang.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HessboundError } from '../src/errors.js';
import { parseData, parseDataArrays, parseModel } from '../src/io/model-source.js';
import { parseNpy } from '../src/io/npy.js';
import { modelToSafetensors } from '../src/io/safetensors.js';
import { randomModel } from '../src/model.js';
import { createRng } from '../src/rng.js';
import { FIXTURE_DIR } from './helpers/fixtures.js';

const INTEROP = join(FIXTURE_DIR, 'interop');
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(INTEROP, name)));

type Rng = ReturnType<typeof createRng>;

function mutate(seed: Uint8Array, rng: Rng): Uint8Array {
  const pick = (n: number) => rng.int(n);
  let bytes: Uint8Array = seed.slice();
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = pick(Math.max(bytes.length, 1));
    switch (pick(6)) {
      case 0: // flip bits
        bytes[at] = (bytes[at] ?? 0) ^ (1 << pick(8));
        break;
      case 1: // overwrite with a random or boundary byte
        bytes[at] = [0, 0xff, 0x7f, 0x80, pick(256)][pick(5)]!;
        break;
      case 2: // truncate
        bytes = bytes.slice(0, at);
        break;
      case 3: { // insert random bytes
        const extra = Uint8Array.from({ length: 1 + pick(8) }, () => pick(256));
        const grown = new Uint8Array(bytes.length + extra.length);
        grown.set(bytes.subarray(0, at));
        grown.set(extra, at);
        grown.set(bytes.subarray(at), at + extra.length);
        bytes = grown;
        break;
      }
      case 4: // corrupt a length field near the start (headers, varints, zip records)
        if (bytes.length > 0) bytes[pick(Math.min(bytes.length, 16))] = pick(256);
        break;
      default: { // duplicate a chunk over another place
        const from = pick(Math.max(bytes.length, 1));
        const length = pick(16);
        bytes.copyWithin(at, from, from + length);
      }
    }
  }
  return bytes;
}

function fuzz(name: string, seeds: Uint8Array[], count: number, parse: (bytes: Uint8Array) => unknown): void {
  it(`${name}: ${count} mutated inputs give a result or a HessboundError`, () => {
    const rng = createRng(20261202);
    const outcomes = { parsed: 0, refused: 0 };
    for (let i = 0; i < count; i++) {
      const input = mutate(seeds[i % seeds.length]!, rng);
      try {
        parse(input);
        outcomes.parsed++;
      } catch (err) {
        if (!(err instanceof HessboundError)) {
          throw new Error(`input ${i} (${input.length} bytes) threw ${String(err)}; bytes: ${Buffer.from(input.subarray(0, 64)).toString('hex')}`);
        }
        expect(err.message.length).toBeGreaterThan(10);
        outcomes.refused++;
      }
    }
    // Both outcomes occur: the mutations reach past the first check.
    expect(outcomes.refused).toBeGreaterThan(count / 10);
    expect(outcomes.parsed).toBeGreaterThan(0);
  }, 60_000);
}

describe('fuzzed parsers', () => {
  const small = modelToSafetensors(randomModel({ inputs: 3, hidden: [4], classes: 2, activation: 'tanh', seed: 1 }));
  fuzz('safetensors', [small, read('iris-tanh-h8.sequential.f32.safetensors'), read('wine-softplus-h5x4.named.f64.safetensors')], 3000,
    (b) => parseModel(b, { fileName: 'model.safetensors', activation: 'tanh' }));
  fuzz('onnx', [read('iris-tanh-h8.sequential.f32.onnx'), read('synth-gelu-h7-soft.nested.f32.onnx'), read('iris-tanh-h8.matmul.f64.onnx')], 3000,
    (b) => parseModel(b, { fileName: 'model.onnx' }));
  const x = read('iris.x.f32-fortran.npy');
  const y = read('iris.y.i32.npy');
  fuzz('npy', [x, y], 3000, (b) => {
    parseNpy(b);
    return parseDataArrays(b, y);
  });
  fuzz('npz', [read('iris.npz'), read('synth-gelu-soft.npz')], 1000, (b) => parseData(b, { fileName: 'data.npz' }));
});
