/** Worker-thread side of wasm-thread.ts: runs the WebAssembly kernel's long calls off the main thread. */
import { parentPort } from 'node:worker_threads';
import { HessboundError } from '../errors.js';
import { loadWasmBackend } from './wasm.js';

export type ThreadRequest = { id: number; method: 'run' | 'hessian' | 'hvp' | 'eigh'; args: unknown[]; progress: boolean };
export type ThreadReply =
  | { id: number; type: 'progress'; fraction: number }
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'error'; code: string; message: string; hint?: string };

const port = parentPort;
if (!port) throw new Error('wasm-thread-worker.ts must run in a worker thread');
const backend = loadWasmBackend();

port.on('message', (request: ThreadRequest) => {
  const { id, method, args } = request;
  const onProgress = request.progress ? (fraction: number) => port.postMessage({ id, type: 'progress', fraction } satisfies ThreadReply) : undefined;
  void (async () => {
    const b = await backend;
    switch (method) {
      case 'run':
        return b.run(args[0] as string, args[1] as never, args[2] as Record<string, number>, onProgress);
      case 'hessian':
        return b.hessian(args[0] as never, args[1] as number, args[2] as number, onProgress);
      case 'hvp':
        return b.hvp(args[0] as never, args[1] as Float64Array, args[2] as number);
      case 'eigh':
        return b.eigh(args[0] as Float64Array, args[1] as number, args[2] as number, args[3] as number, args[4] as boolean);
    }
  })().then(
    (value) => port.postMessage({ id, type: 'result', value } satisfies ThreadReply),
    (e: unknown) => {
      const error = e instanceof HessboundError ? e : new HessboundError('KERNEL', (e as Error)?.message ?? String(e));
      const message = error.hint ? error.message.slice(0, error.message.lastIndexOf('\n  hint: ')) : error.message;
      port.postMessage({ id, type: 'error', code: error.code, message, ...(error.hint ? { hint: error.hint } : {}) } satisfies ThreadReply);
    },
  );
});
