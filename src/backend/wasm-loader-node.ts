/**
 * Node's way to the WebAssembly build: require() the glue (CommonJS; wasm/dist/package.json says so)
 * and compile the .wasm from bytes read with fs. Passing the module ourselves also avoids the glue's
 * own fetch() of a file path, which fails under Node 20 ("Failed to parse URL").
 */
import { startWorkerThread } from './worker-thread.js';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { packageRoot } from './native.js';
import { chooseWasmSimd, parseWasmSimdRequest, type WasmSimdChoice } from './wasm-features.js';
import { GLUE_FILE, MT_GLUE_FILE, MT_WASM_FILE, MT_WORKER_FILE, WASM_FILE, buildFile, type HessboundWasmFactory, type WasmArtifacts } from './wasm-loader.js';

/** HESSBOUND_WASM_DIR overrides the folder (like HESSBOUND_ADDON for the native backend). */
export function wasmDir(): string {
  return process.env.HESSBOUND_WASM_DIR ?? join(packageRoot(), 'wasm', 'dist');
}

/**
 * The threaded build's thread count in Node: HESSBOUND_THREADS as for the native kernel (a request,
 * at most 8: the kernel splits the samples into at most 8 chunks), else automatic within the cores.
 */
export function nodeWasmThreads(): { threads: number; requested: number } {
  const s = process.env['HESSBOUND_THREADS']?.trim();
  const n = s && /^[0-9]+$/.test(s) ? Number(s) : 0;
  const requested = n >= 1 ? Math.min(n, 8) : 0;
  return { threads: requested || Math.max(1, Math.min(8, availableParallelism())), requested };
}

/** The files of one module: glue, .wasm and, threaded, the pthread workers' script. */
function moduleFiles(dir: string, threaded: boolean, simd: WasmSimdChoice['simd']): string[] {
  const files = threaded ? [MT_GLUE_FILE, MT_WASM_FILE, MT_WORKER_FILE] : [GLUE_FILE, WASM_FILE];
  return files.map((f) => join(dir, buildFile(f, simd)));
}

/**
 * Which build Node loads: relaxed SIMD when this Node validates it (Node >= 22, or Node 20 with
 * --experimental-wasm-relaxed-simd) and it was built, else SIMD128; HESSBOUND_WASM_MODULE forces one.
 */
export function nodeWasmSimd(threaded = false): WasmSimdChoice {
  const request = parseWasmSimdRequest(process.env['HESSBOUND_WASM_MODULE']);
  const built = moduleFiles(wasmDir(), threaded, 'relaxed').every((f) => existsSync(f));
  return chooseWasmSimd(request, built);
}

/**
 * The single-threaded module, or with `threaded` the threaded one (hessbound-wasm-mt) for `threads`
 * threads (default: nodeWasmThreads()); of the build nodeWasmSimd() chooses.
 */
export async function loadNodeWasm(threaded?: { threads?: number }): Promise<WasmArtifacts> {
  const simd = nodeWasmSimd(threaded !== undefined);
  const files = moduleFiles(wasmDir(), threaded !== undefined, simd.simd);
  for (const file of files)
    if (!existsSync(file)) throw new Error(`WebAssembly module not built (${file} is missing; run npm run build:wasm)`);
  const [glue, wasm] = files as [string, string];
  const factory = createRequire(import.meta.url)(glue) as HessboundWasmFactory;
  if (threaded) pthreadWorkersWithoutInputType();
  const module = await WebAssembly.compile(await readFile(wasm));
  if (!threaded) return { factory, module, simd };
  const auto = nodeWasmThreads();
  return { factory, module, simd, threaded: { ...auto, threads: threaded.threads ?? auto.threads } };
}

/**
 * The threaded glue starts its pthread workers as `new Worker(file)` through the global `Worker`,
 * which it sets to worker_threads' on each instantiation. A worker inherits the process's execArgv,
 * and `--input-type` (node --input-type=module -e ...) makes loading a file fail there: the global
 * is pinned to a constructor that leaves that flag out.
 */
function pthreadWorkersWithoutInputType(): void {
  const g = globalThis as { Worker?: unknown };
  if (g.Worker === PthreadWorker) return;
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => PthreadWorker, set: () => undefined });
}

/** Called with `new` by the glue; returns the worker startWorkerThread made. */
const PthreadWorker = function PthreadWorker(file: string | URL, options?: ConstructorParameters<typeof Worker>[1]): Worker {
  return startWorkerThread(file, options);
} as unknown as typeof Worker;
