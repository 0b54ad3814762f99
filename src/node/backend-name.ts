/**
 * The backend a sweep's points run on, decided before any point starts: it is part of each point's
 * identity (native and WebAssembly agree to about 1e-12 on converged points, not to the bit, and
 * not at all on unconverged ones), so a sweep never mixes them silently. Decided without loading
 * the addon (the worker pool must set OpenBLAS's thread count before the first load).
 */
import { existsSync } from 'node:fs';
import { fail } from '../errors.js';
import type { BackendName } from '../types.js';
import { addonPath } from '../backend/native.js';

const NAMES: readonly BackendName[] = ['native', 'wasm', 'wasm-threads'];

export function resolveBackendName(name?: BackendName | 'auto', env: NodeJS.ProcessEnv = process.env): BackendName {
  const given = name && name !== 'auto' ? name : env['HESSBOUND_BACKEND']?.trim().toLowerCase() || 'auto';
  if (given !== 'auto') {
    if (!(NAMES as readonly string[]).includes(given)) fail('BAD_OPTION', `unknown backend '${given.slice(0, 40)}'`, "use 'native', 'wasm', 'wasm-threads' or leave it unset for automatic choice");
    return given as BackendName;
  }
  try {
    return existsSync(addonPath()) ? 'native' : 'wasm';
  } catch {
    return 'wasm';
  }
}
