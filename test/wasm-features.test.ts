import { describe, expect, it } from 'vitest';

import { HessboundError } from '../src/errors.js';
import { requireWasmSimd, wasmSimdSupported } from '../src/backend/wasm-features.js';

describe('WebAssembly SIMD requirement', () => {
  it('this Node validates the SIMD probe module, so the shipped module can load', () => {
    expect(wasmSimdSupported()).toBe(true);
    expect(() => requireWasmSimd()).not.toThrow();
  });

  it('the probe is a real SIMD module: WebAssembly.validate rejects it with the SIMD opcode broken', () => {
    let probe: Uint8Array | undefined;
    expect(wasmSimdSupported((bytes) => ((probe = bytes), true))).toBe(true);
    expect(WebAssembly.validate(probe!)).toBe(true);
    const broken = probe!.slice();
    broken.set([0xff, 0xff], broken.length - 3);
    expect(WebAssembly.validate(broken)).toBe(false);
  });

  it('an engine without SIMD gets a BACKEND error naming the requirement, not a CompileError', () => {
    let error: unknown;
    try {
      requireWasmSimd(() => false);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HessboundError);
    expect((error as HessboundError).code).toBe('BACKEND');
    expect((error as HessboundError).message).toMatch(/SIMD/);
    expect((error as HessboundError).hint).toMatch(/Safari >= 16\.4/);
    expect(() => requireWasmSimd(() => { throw new Error('engine refuses'); })).toThrow(HessboundError);
  });
});
