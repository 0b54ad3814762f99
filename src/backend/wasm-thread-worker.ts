/** Worker-thread side of wasm-thread.ts: runs the WebAssembly kernel's long calls off the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { serveKernel, type ThreadRequest } from './kernel-thread.js';
import { loadWasmBackend } from './wasm.js';

const port = parentPort;
if (!port) throw new Error('wasm-thread-worker.ts must run in a worker thread');
port.on('message', serveKernel(loadWasmBackend((workerData as { threaded?: boolean } | null)?.threaded === true), (reply) => port.postMessage(reply)) as (request: ThreadRequest) => void);
