/**
 * Picks the kernel backend: native when its addon loads, else WebAssembly. HESSBOUND_BACKEND
 * (native|wasm) or an explicit name forces one; when nothing loads, the error lists each reason.
 */
import { HessboundError } from '../errors.js';
import { requestedSimdPath } from './simd.js';
import type { BackendName } from '../types.js';
import type { KernelBackend } from './types.js';

const loaded = new Map<BackendName, Promise<KernelBackend>>();
/** Why each backend last failed to load (cleared when it loads). */
const failures = new Map<BackendName, string>();
let fallbackListener: ((reason: string) => void) | undefined;

/** Why `name` did not load the last time it was tried (undefined: it loaded, or was never tried). */
export function backendLoadFailure(name: BackendName): string | undefined {
  return failures.get(name);
}

/**
 * Called once per automatic fallback from native to WebAssembly with the reason (the CLI prints a
 * one-line note; the library stays quiet and keeps the reason for backendLoadFailure()).
 */
export function onBackendFallback(listener: ((reason: string) => void) | undefined): void {
  fallbackListener = listener;
}

function inNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

async function load(name: BackendName): Promise<KernelBackend> {
  if (name === 'native') {
    if (!inNode()) throw new Error('the native addon needs Node.js');
    // A computed specifier: browser bundles must not follow it into Node built-ins.
    const specifier = './native.js';
    const { loadNativeBackend } = (await import(specifier)) as typeof import('./native.js');
    return loadNativeBackend();
  }
  const { loadWasmBackendForHost } = await import('./wasm.js');
  return loadWasmBackendForHost(name === 'wasm-threads');
}

function loadOnce(name: BackendName): Promise<KernelBackend> {
  let p = loaded.get(name);
  if (!p) {
    p = load(name);
    // A failed load may succeed later (e.g. after a build), so do not cache failures.
    p.catch(() => loaded.delete(name));
    loaded.set(name, p);
  }
  return p;
}

function requested(explicit?: BackendName): BackendName | undefined {
  const fromEnv = typeof process !== 'undefined' ? process.env?.HESSBOUND_BACKEND : undefined;
  const name = explicit ?? (fromEnv ? fromEnv.trim().toLowerCase() : undefined);
  if (name === undefined || name === '' || name === 'auto') return undefined;
  if (name !== 'native' && name !== 'wasm' && name !== 'wasm-threads')
    throw new HessboundError('BAD_OPTION', `unknown backend '${name}'`, "use 'native', 'wasm', 'wasm-threads' or leave it unset for automatic choice");
  return name;
}

/** The backend to use: `name`, else HESSBOUND_BACKEND, else native with WebAssembly as fallback. */
export async function getBackend(name?: BackendName | 'auto'): Promise<KernelBackend> {
  requestedSimdPath(); // an unknown HESSBOUND_SIMD is BAD_OPTION, not a silent default
  const forced = requested(name === 'auto' ? undefined : name);
  const order: BackendName[] = forced ? [forced] : inNode() ? ['native', 'wasm'] : ['wasm'];
  const reasons: string[] = [];
  for (const candidate of order) {
    try {
      const backend = await loadOnce(candidate);
      failures.delete(candidate);
      if (reasons.length > 0 && !forced) fallbackListener?.(reasons.join('; '));
      return backend;
    } catch (e) {
      failures.set(candidate, (e as Error).message);
      reasons.push(`${candidate}: ${(e as Error).message}`);
    }
  }
  throw new HessboundError(
    'BACKEND',
    `no hessbound backend could be loaded:\n    ${reasons.join('\n    ')}`,
    forced
      ? `build it (npm run build:${forced === 'native' ? 'native' : 'wasm'}) or choose another backend`
      : 'build the native addon (npm run build:native) or the WebAssembly module (npm run build:wasm)',
  );
}
