/**
 * The backends the suite runs against: HESSBOUND_BACKEND=native|wasm|wasm-threads runs one,
 * otherwise all three (wasm-threads: the threaded WebAssembly build, on the cores' threads).
 * A backend that fails to load fails its tests; nothing is skipped.
 */
import type { BackendName } from '../../src/types.js';

export const BACKENDS: BackendName[] = (() => {
  const forced = process.env.HESSBOUND_BACKEND?.trim();
  if (forced === 'native' || forced === 'wasm' || forced === 'wasm-threads') return [forced];
  return ['native', 'wasm', 'wasm-threads'];
})();
