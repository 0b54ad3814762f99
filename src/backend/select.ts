/**
 * Picks the kernel backend: native when its addon loads, else WebAssembly: in Node's main thread
 * with more than one core the threaded build on every core (worker threads always exist in Node),
 * else the single-threaded one. HESSBOUND_BACKEND (native|wasm|wasm-threads) or an explicit name
 * forces one; when nothing loads, the error lists each reason.
 */
import { HessboundError } from '../errors.js';
import { requestedSimdPath } from './simd.js';
import { requestedInputFormat } from './input-format.js';
import { parseWasmSimdRequest } from './wasm-features.js';
import type { BackendName } from '../types.js';
import type { KernelBackend } from './types.js';

const loaded = new Map<BackendName, Promise<KernelBackend>>();
/** Why each backend last failed to load (cleared when it loads). */
const failures = new Map<BackendName, string>();
let fallbackListener: ((reason: string, backend: BackendName) => void) | undefined;
/** The automatic choice last made, and why (for hessbound info). */
let lastChoice: BackendChoice | undefined;

export interface BackendChoice {
  readonly name: BackendName;
  /** One sentence: forced, loaded first, or the fallback and why. */
  readonly why: string;
}

/** The backend getBackend() last returned and why; undefined before the first call. */
export function backendChoice(): BackendChoice | undefined {
  return lastChoice;
}

/** Why `name` did not load the last time it was tried (undefined: it loaded, or was never tried). */
export function backendLoadFailure(name: BackendName): string | undefined {
  return failures.get(name);
}

/**
 * Called once per automatic fallback from native to WebAssembly with the reason and the backend
 * chosen instead (the CLI prints a one-line note; the library stays quiet and keeps the reason for
 * backendLoadFailure() and backendChoice()).
 */
export function onBackendFallback(listener: ((reason: string, backend: BackendName) => void) | undefined): void {
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

/**
 * Node's WebAssembly fallback: the threaded build on the cores (HESSBOUND_THREADS, else every core,
 * at most 8) in the main thread, when that is more than one; the single-threaded build in worker
 * threads (e.g. the sweep pool, which already runs one point per core) or on one core.
 */
async function nodeWasmOrder(): Promise<{ order: BackendName[]; threads: number }> {
  // Computed specifiers: browser bundles must not follow them into Node built-ins.
  const workerThreads = 'node:worker_threads';
  const loader = './wasm-loader-node.js';
  const [{ isMainThread }, { nodeWasmThreads }] = await Promise.all([
    import(workerThreads) as Promise<typeof import('node:worker_threads')>,
    import(loader) as Promise<typeof import('./wasm-loader-node.js')>,
  ]);
  const { threads } = nodeWasmThreads();
  return { order: isMainThread && threads > 1 ? ['wasm-threads', 'wasm'] : ['wasm'], threads };
}

function fallbackWhy(chosen: BackendName, reasons: readonly string[], threads: number): string {
  const how = chosen === 'wasm-threads' ? `WebAssembly on ${threads} threads (HESSBOUND_THREADS, else the cores, at most 8)` : 'single-threaded WebAssembly';
  return reasons.length > 0 ? `${how}, because ${reasons.join('; ')}` : how;
}

/** The backend to use: `name`, else HESSBOUND_BACKEND, else native with WebAssembly as fallback. */
export async function getBackend(name?: BackendName | 'auto'): Promise<KernelBackend> {
  requestedSimdPath(); // an unknown HESSBOUND_SIMD is BAD_OPTION, not a silent default
  requestedInputFormat(); // likewise HESSBOUND_SPARSE_INPUTS
  if (inNode()) parseWasmSimdRequest(process.env['HESSBOUND_WASM_MODULE']); // likewise HESSBOUND_WASM_MODULE
  const forced = requested(name === 'auto' ? undefined : name);
  const order: BackendName[] = forced ? [forced] : inNode() ? ['native'] : ['wasm'];
  let wasmThreads = 1;
  const reasons: string[] = [];
  let lastError: unknown;
  for (let i = 0; i < order.length; i++) {
    const candidate = order[i] as BackendName;
    try {
      const backend = await loadOnce(candidate);
      failures.delete(candidate);
      const fromEnv = name === undefined || name === 'auto';
      lastChoice = {
        name: candidate,
        why: forced
          ? fromEnv ? `forced by HESSBOUND_BACKEND=${candidate}` : `asked for (backend '${candidate}')`
          : candidate === 'native' ? 'the native addon loaded'
          : inNode() ? fallbackWhy(candidate, reasons, wasmThreads)
          : backend.name === 'wasm-threads' ? 'the threaded WebAssembly build: this page is cross-origin isolated'
          : 'WebAssembly, single-threaded (the page is not cross-origin isolated, or one thread was asked for)',
      };
      if (reasons.length > 0 && !forced) fallbackListener?.(reasons.join('; '), candidate);
      return backend;
    } catch (e) {
      lastError = e;
      failures.set(candidate, (e as Error).message);
      reasons.push(`${candidate}: ${(e as Error).message}`);
      if (!forced && candidate === 'native') {
        const wasm = await nodeWasmOrder();
        wasmThreads = wasm.threads;
        order.push(...wasm.order);
      }
    }
  }
  // A forced backend that refused with its own reason and hint (e.g. HESSBOUND_WASM_MODULE=relaxed
  // on an engine without relaxed SIMD): that error as it is.
  if (forced && lastError instanceof HessboundError) throw lastError;
  throw new HessboundError(
    'BACKEND',
    `no hessbound backend could be loaded:\n    ${reasons.join('\n    ')}`,
    forced
      ? // "Build it" only when it is not built: a built backend that did not start says why above.
        /not built|is missing|cannot find|no such file|ENOENT/i.test(failures.get(forced) ?? '')
        ? `build it (npm run build:${forced === 'native' ? 'native' : 'wasm'}) or choose another backend`
        : `the ${forced} backend is built but did not start (the reason above); choose another backend, or report it if the reason is not yours`
      : 'build the native addon (npm run build:native) or the WebAssembly module (npm run build:wasm)',
  );
}
