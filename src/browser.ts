/**
 * hessbound for browsers (and workers): the facade without Node built-ins, on the WebAssembly
 * backend. Tell it where the package's wasm/dist/ is served before the first call, e.g.
 *   configureWasm({ baseUrl: '/node_modules/hessbound/wasm/dist/' })
 * (default: resolved relative to this module, which works when the package is served unbundled).
 * Calls block the thread they run on: use a Worker for large problems.
 */
export * from './core.js';
export { browserWasmLoader, configureWasm, setWasmLoader, type BrowserWasmOptions, type WasmLoader } from './backend/wasm.js';
