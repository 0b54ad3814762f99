/**
 * Run only by vitest.relaxed.config.ts (npm run test:relaxed): the WebAssembly backends the
 * parametrized suite gets there are the relaxed-SIMD build, not the SIMD128 one.
 */
import { describe, expect, it } from 'vitest';
import { getBackend } from '../../src/backend/select.js';

describe('the relaxed suite runs the relaxed-SIMD build', () => {
  it.each(['wasm', 'wasm-threads'] as const)('%s reports the relaxed module (forced, so a fallback would be an error)', async (name) => {
    expect(process.env['HESSBOUND_WASM_MODULE']).toBe('relaxed');
    const backend = await getBackend(name);
    expect(backend.wasmSimd).toEqual({ simd: 'relaxed', why: 'forced by HESSBOUND_WASM_MODULE=relaxed' });
  });
});
