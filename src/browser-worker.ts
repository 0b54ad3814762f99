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
    const { fallback } = message;
    const backend = loadWasmBackend().catch((error: unknown) => {
      if (!fallback) throw error;
      // The threads did not start here (the page's own test of them passed): one thread, not a hang.
      console.warn(`hessbound: the kernel worker uses the single-threaded WebAssembly build: ${(error as Error).message.split('\n')[0]}`);
      setWasmLoader(urlWasmLoader(fallback));
      return loadWasmBackend();
    });
    serve = serveKernel(backend, (reply) => scope.postMessage(reply));
    return;
  }
  serve?.(message as ThreadRequest);
};
