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

/**
 * A minimal module using relaxed SIMD's fused multiply-add: (func (result v128) three f64x2.splat of
 * 0.0, then f64x2.relaxed_madd), with the final opcode (0xfd 0x107). Node 20 validates it only under
 * --experimental-wasm-relaxed-simd; Node >= 22, Chrome/Edge >= 114 and Firefox >= 146 by default.
 */
const F64_SPLAT_ZERO = [0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0x14];
const RELAXED_BODY = [0, ...F64_SPLAT_ZERO, ...F64_SPLAT_ZERO, ...F64_SPLAT_ZERO, 0xfd, 0x87, 0x02, 0x0b];
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, RELAXED_BODY.length + 2, 1, RELAXED_BODY.length, ...RELAXED_BODY,
]);

export function wasmRelaxedSimdSupported(validate: (bytes: Uint8Array<ArrayBuffer>) => boolean = (b) => WebAssembly.validate(b)): boolean {
  try {
    return validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/**
 * The two builds of each WebAssembly module: 'simd128' (every engine the package supports) and
 * 'relaxed' (relaxed SIMD: f64x2.relaxed_madd, i.e. FMA, in the kernel's products; results differ
 * from the SIMD128 build's by rounding, docs/wasm.md).
 */
export type WasmSimd = 'simd128' | 'relaxed';

/** Which build was asked for: 'auto' (relaxed where the engine validates it), or one forced. */
export type WasmSimdRequest = WasmSimd | 'auto';

export interface WasmSimdChoice {
  readonly simd: WasmSimd;
  /** One sentence, for hessbound info. */
  readonly why: string;
}

const ENGINES_WITH_RELAXED = 'Node >= 22, Chrome/Edge >= 114 and Firefox >= 146 have relaxed SIMD; Node 20 with --experimental-wasm-relaxed-simd';

/** HESSBOUND_WASM_MODULE (or configureWasm's wasmModule) as a request; anything else is BAD_OPTION. */
export function parseWasmSimdRequest(value: string | undefined, source = 'HESSBOUND_WASM_MODULE'): WasmSimdRequest {
  const v = value?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (v === 'simd128' || v === 'relaxed') return v;
  throw new HessboundError('BAD_OPTION', `${source} must be 'simd128', 'relaxed' or 'auto', not '${value}'`,
    "leave it unset (relaxed SIMD where the engine has it, else SIMD128), or force 'simd128' or 'relaxed'");
}

/**
 * The build to load. `relaxedBuilt`: whether the relaxed files exist (Node can tell; browsers assume
 * they are served beside the others). Forcing 'relaxed' where it cannot run is a BACKEND error.
 */
export function chooseWasmSimd(request: WasmSimdRequest, relaxedBuilt: boolean, source = 'HESSBOUND_WASM_MODULE',
  validate?: (bytes: Uint8Array<ArrayBuffer>) => boolean): WasmSimdChoice {
  const engine = wasmRelaxedSimdSupported(validate);
  if (request === 'simd128') return { simd: 'simd128', why: `forced by ${source}=simd128` };
  if (request === 'relaxed') {
    if (!engine)
      throw new HessboundError('BACKEND', `${source}=relaxed, but this engine's WebAssembly has no relaxed SIMD (its validation of f64x2.relaxed_madd failed)`,
        `${ENGINES_WITH_RELAXED} (node --experimental-wasm-relaxed-simd script.js; NODE_OPTIONS refuses that flag); or use ${source}=simd128`);
    if (!relaxedBuilt)
      throw new HessboundError('BACKEND', `${source}=relaxed, but the relaxed-SIMD module was not built`,
        `install clang-16 (apt-get install clang-16 lld-16) and run npm run build:wasm; or use ${source}=simd128`);
    return { simd: 'relaxed', why: `forced by ${source}=relaxed` };
  }
  if (!engine) return { simd: 'simd128', why: `this engine's WebAssembly has no relaxed SIMD (${ENGINES_WITH_RELAXED})` };
  if (!relaxedBuilt) return { simd: 'simd128', why: 'the relaxed-SIMD module is not built (it needs clang-16, docs/wasm.md)' };
  return { simd: 'relaxed', why: 'the engine validates relaxed SIMD (fused multiply-add)' };
}
