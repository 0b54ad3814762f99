/**
 * Node: the WebAssembly backend with its long calls on a worker thread (the protocol is shared with
 * browsers' Web Workers: kernel-thread.ts), so the event loop keeps running (timers, I/O, Ctrl-C)
 * while the kernel works, as with the native addon.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from './worker-thread.js';
import { nodeWasmThreads } from './wasm-loader-node.js';
import { kernelOnThread, type KernelThread, type ThreadReply } from './kernel-thread.js';
import type { KernelBackend } from './types.js';

/** From source (.ts under tsx or vitest) the worker registers tsx itself, as in node/sweep-pool.ts. */
function startWorker(threaded: boolean): Worker {
  const here = fileURLToPath(import.meta.url);
  const workerData = { threaded };
  if (!here.endsWith('.ts')) return startWorkerThread(join(dirname(here), 'wasm-thread-worker.js'), { workerData });
  const entry = pathToFileURL(join(dirname(here), 'wasm-thread-worker.ts')).href;
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return startWorkerThread(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`, { eval: true, workerData });
}

/** `threaded`: the worker runs the threaded build (hessbound-wasm-mt, HESSBOUND_THREADS threads). */
export function wasmOnThread(inThread: KernelBackend, threaded = false): KernelBackend {
  const backend = kernelOnThread(inThread, (events): KernelThread => {
    const w = startWorker(threaded);
    w.unref(); // an idle kernel thread must not keep the process alive
    w.on('message', (reply: ThreadReply) => events.message(reply));
    w.on('error', (e) => events.failed(e.message));
    w.on('exit', (code) => events.failed(`exit code ${code}`));
    return {
      post: (request) => w.postMessage(request),
      terminate: () => void w.terminate(),
      // Work in flight keeps the process alive, as a native call does.
      busy: (busy) => (busy ? w.ref() : w.unref()),
    };
  });
  return threaded ? Object.assign(backend, { kernelThreads: nodeWasmThreads().threads }) : backend;
}
