/**
 * Node's way to the WebAssembly build: require() the glue (CommonJS; wasm/dist/package.json says so)
 * and compile the .wasm from bytes read with fs. Passing the module ourselves also avoids the glue's
 * own fetch() of a file path, which fails under Node 20 ("Failed to parse URL").
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from './native.js';
import { GLUE_FILE, WASM_FILE, type HessboundWasmFactory, type WasmArtifacts } from './wasm-loader.js';

/** HESSBOUND_WASM_DIR overrides the folder (like HESSBOUND_ADDON for the native backend). */
export function wasmDir(): string {
  return process.env.HESSBOUND_WASM_DIR ?? join(packageRoot(), 'wasm', 'dist');
}

export async function loadNodeWasm(): Promise<WasmArtifacts> {
  const dir = wasmDir();
  const glue = join(dir, GLUE_FILE);
  const wasm = join(dir, WASM_FILE);
  for (const file of [glue, wasm])
    if (!existsSync(file)) throw new Error(`WebAssembly module not built (${file} is missing; run npm run build:wasm)`);
  const factory = createRequire(import.meta.url)(glue) as HessboundWasmFactory;
  const module = await WebAssembly.compile(await readFile(wasm));
  return { factory, module };
}
