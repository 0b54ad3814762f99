/**
 * HESSBOUND_SIMD: caps the SIMD path of the native kernel's hand-written loops
 * (native/kernel/linalg/simd_path.hpp) at generic, avx2 or avx512, so one machine can run and measure every
 * path; a request above the CPU's best runs the CPU's best (the addon's info() says which ran).
 * The kernel ignores values it does not know, so they are rejected here, before any backend loads.
 */
import { HessboundError } from '../errors.js';

export const SIMD_PATHS = ['generic', 'avx2', 'avx512'] as const;
export type SimdPath = (typeof SIMD_PATHS)[number];

/** The requested cap, or null when HESSBOUND_SIMD is unset, empty or `auto`. */
export function requestedSimdPath(): SimdPath | null {
  const raw = typeof process !== 'undefined' ? process.env?.['HESSBOUND_SIMD'] : undefined;
  if (raw === undefined || raw === '' || raw === 'auto') return null;
  if ((SIMD_PATHS as readonly string[]).includes(raw)) return raw as SimdPath;
  throw new HessboundError(
    'BAD_OPTION',
    `HESSBOUND_SIMD='${raw}' is not a SIMD path`,
    `use one of ${SIMD_PATHS.join(', ')} (lower case), or leave it unset for the CPU's best`,
  );
}
