/**
 * Browsers: the WebAssembly backend with its long calls in a Web Worker (protocol: kernel-thread.ts),
 * so the page keeps drawing frames while the kernel works. The worker runs src/browser-worker.ts and
 * is told where the glue and the .wasm are served.
 */
import { HessboundError } from '../errors.js';
import { kernelOnThread, type KernelThread, type ThreadReply } from './kernel-thread.js';
import type { KernelBackend } from './types.js';
import type { ThreadedWasm, WasmAssetUrls } from './wasm-loader.js';

/** Where the kernel worker's script is served: undefined = this package's browser-worker.js. */
export interface KernelWorkerOptions {
  url?: string | URL;
  /** 'module' (default; what src/browser-worker.ts is) or 'classic' (an IIFE bundle of it). */
  type?: 'module' | 'classic';
}

/** The init message the worker waits for before any request. */
export interface KernelWorkerInit {
  type: 'init';
  assets: WasmAssetUrls;
  /** The page's compiled module (structured-cloneable to its workers): no second compilation. */
  module?: WebAssembly.Module;
  /** The threaded build (assets.workerUrl): its threads. */
  threads?: ThreadedWasm;
  /** The single-threaded build's assets, loaded instead when the threaded build's threads do not start. */
  fallback?: WasmAssetUrls;
}

function startWorker(options: KernelWorkerOptions): Worker {
  if (options.url !== undefined) return new Worker(options.url, { type: options.type ?? 'module' });
  // This exact form lets Vite and webpack bundle the worker and rewrite its URL.
  return new Worker(new URL('../browser-worker.js', import.meta.url), { type: 'module' });
}

export function wasmOnWebWorker(inThread: KernelBackend, assets: WasmAssetUrls, options: KernelWorkerOptions, module?: WebAssembly.Module, threads?: ThreadedWasm, fallback?: WasmAssetUrls): KernelBackend {
  return kernelOnThread(inThread, (events): KernelThread => {
    const w = startWorker(options);
    w.onmessage = (e: MessageEvent<ThreadReply>) => events.message(e.data);
    const where = options.url === undefined ? "the package's browser-worker.js" : String(options.url);
    // A script that does not load (404, wrong type) reports an ErrorEvent without a message.
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      events.failed(
        new HessboundError('BACKEND', `the kernel's Web Worker (${where}) failed: ${e.message || 'its script did not load'}`,
          "serve a bundle of hessbound/browser-worker and pass its URL: configureWasm({ worker: url }); or run the kernel on this thread: configureWasm({ worker: false })"),
      );
    };
    w.onmessageerror = () => events.failed('a message could not be deserialized');
    w.postMessage({ type: 'init', assets, ...(module ? { module } : {}), ...(threads ? { threads } : {}), ...(fallback ? { fallback } : {}) } satisfies KernelWorkerInit);
    return { post: (request) => w.postMessage(request), terminate: () => w.terminate() };
  });
}
