/**
 * hessbound for browsers (and workers): the facade without Node built-ins, on the WebAssembly
 * backend. In a page, long kernel calls run in a Web Worker (src/browser-worker.ts), so the page keeps
 * drawing; they report progress and stop on an AbortSignal. Inside a worker, or after
 * configureWasm({ worker: false }), they run on the calling thread.
 * The assets (wasm/dist/) are found relative to this module by default (unbundled, or a bundler that
 * rewrites `new URL(..., import.meta.url)`: Vite, webpack); else tell where they are served first:
 *   configureWasm({ baseUrl: '/assets/hessbound/', worker: '/assets/hessbound-worker.js' })
 */
export * from './core.js';
export { browserWasmLoader, configureWasm, setWasmLoader, type BrowserWasmOptions, type WasmLoader } from './backend/wasm.js';
export type { WasmConfiguration } from './backend/wasm.js';
import { setWebWorkerHost } from './backend/wasm.js';
import { wasmOnWebWorker } from './backend/wasm-web.js';

// Long kernel calls from a page go to a Web Worker (see loadWasmBackendForHost).
setWebWorkerHost(wasmOnWebWorker);
