/**
 * The backends the suite runs against: HESSBOUND_BACKEND=native|wasm runs one, otherwise both.
 * A backend that fails to load fails its tests; nothing is skipped.
 */
import type { BackendName } from '../../src/types.js';

export const BACKENDS: BackendName[] = (() => {
  const forced = process.env.HESSBOUND_BACKEND?.trim();
  if (forced === 'native' || forced === 'wasm') return [forced];
  return ['native', 'wasm'];
})();
