/** Loads the Node-API addon built by cmake-js (build/Release/hessbound.node). */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KernelBackend } from './types.js';
import { wrapKernelCall } from './kernel-errors.js';
import { createCallQueue, withGuardedProgress } from './call-queue.js';

/** The package root: the nearest folder above this module holding package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the hessbound package root');
    dir = parent;
  }
  return dir;
}

export function addonPath(): string {
  return process.env.HESSBOUND_ADDON ?? join(packageRoot(), 'build', 'Release', 'hessbound.node');
}

/** Throws (with the reason) when the addon is missing or does not load. */
export function loadNativeBackend(): KernelBackend {
  const path = addonPath();
  if (!existsSync(path)) throw new Error(`native addon not built (${path} is missing; run npm run build:native)`);
  const addon = createRequire(import.meta.url)(path) as Omit<KernelBackend, 'name' | 'linalg' | 'maxDenseBytes'> & {
    info(): { linalg: string };
  };
  const queue = createCallQueue();
  const backend: KernelBackend = {
    name: 'native',
    linalg: addon.info().linalg,
    // Natively the limit is the machine's memory; the facade checks it against free memory.
    maxDenseBytes: Number.MAX_SAFE_INTEGER,
    // async: argument errors the addon throws synchronously become rejections, as in WebAssembly.
    run: async (name, spec, options, onProgress) =>
      queue(() => withGuardedProgress(onProgress, (progress) => wrapKernelCall(() => addon.run(name, spec, options, progress)))),
    hessian: async (spec, assembly, maxBytes, onProgress) =>
      queue(() => withGuardedProgress(onProgress, (progress) => wrapKernelCall(() => addon.hessian(spec, assembly, maxBytes, progress)))),
    hvp: async (spec, directions, k) => queue(() => wrapKernelCall(() => addon.hvp(spec, directions, k))),
    lossGrad: (spec) => wrapKernelCall(() => addon.lossGrad(spec)),
    eigh: async (matrix, n, first, last, vectors) => queue(() => wrapKernelCall(() => addon.eigh(matrix, n, first, last, vectors))),
    wsBounds: (trace, traceOfSquare, n) => wrapKernelCall(() => addon.wsBounds(trace, traceOfSquare, n)),
  };
  return backend;
}
