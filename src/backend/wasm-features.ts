/**
 * What the shipped WebAssembly module needs from the engine beyond WebAssembly 1.0: fixed-width
 * SIMD (SIMD128; the kernel's products are written for it) and exception handling
 * (-fwasm-exceptions). Engines without SIMD (Safari before 16.4, Node before 16.4) would otherwise
 * fail with a bare CompileError; this names the requirement first.
 */
import { HessboundError } from '../errors.js';

/** A minimal module using SIMD: (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt). */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

export function wasmSimdSupported(validate: (bytes: Uint8Array<ArrayBuffer>) => boolean = (b) => WebAssembly.validate(b)): boolean {
  try {
    return validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** Throws BACKEND, naming the requirement, when this engine's WebAssembly has no SIMD. */
export function requireWasmSimd(validate?: (bytes: Uint8Array<ArrayBuffer>) => boolean): void {
  if (typeof WebAssembly !== 'object')
    throw new HessboundError('BACKEND', 'this JavaScript engine has no WebAssembly', 'use Node >= 20 or a current browser');
  if (!wasmSimdSupported(validate))
    throw new HessboundError(
      'BACKEND',
      "this engine's WebAssembly lacks fixed-width SIMD (SIMD128), which hessbound's WebAssembly module requires",
      'use Node >= 20, Chrome/Edge >= 95, Firefox >= 100 or Safari >= 16.4; in Node the native addon (npm run build:native) needs no WebAssembly',
    );
}
