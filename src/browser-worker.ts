/**
 * The kernel's Web Worker (`hessbound/browser-worker`): `hessbound/browser` starts it by default and
 * sends it the asset URLs, then its long kernel calls. Bundle it as its own entry point when your
 * bundler does not follow `new Worker(new URL(..., import.meta.url))` (esbuild), and pass its URL
 * with configureWasm({ worker: url }). Works as a module worker, or as a classic one (IIFE bundle).
 */
import { serveKernel, type ThreadReply, type ThreadRequest } from './backend/kernel-thread.js';
import { loadWasmBackend, setWasmLoader } from './backend/wasm.js';
import { urlWasmLoader } from './backend/wasm-loader.js';
import type { KernelWorkerInit } from './backend/wasm-web.js';

// The DOM lib types `self` as a Window; a dedicated worker's scope has the same two members.
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<KernelWorkerInit | ThreadRequest>) => void) | null;
  postMessage(reply: ThreadReply): void;
};
let serve: ((request: ThreadRequest) => void) | undefined;

scope.onmessage = (e) => {
  const message = e.data;
  if ('type' in message && message.type === 'init') {
    setWasmLoader(urlWasmLoader(message.assets, undefined, message.module, message.threads));
    serve = serveKernel(loadWasmBackend(), (reply) => scope.postMessage(reply));
    return;
  }
  serve?.(message as ThreadRequest);
};
