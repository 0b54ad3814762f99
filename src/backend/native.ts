/** Loads the Node-API addon: one built from source, the platform package's prebuilt one, or a local prebuild (addonPath). */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KernelBackend, ProblemSpec, ProgressCallback } from './types.js';
import { wrapKernelCall } from './kernel-errors.js';
import { createCallQueue, withGuardedProgress } from './call-queue.js';
import { abortedError, cancelFlag, effectiveSignal, settleOnAbort, throwIfAborted } from './cancel.js';
import { currentTarget, platformAddon } from './platform-package.js';

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

interface NodeGypBuild {
  (dir: string): unknown;
  /** The file node-gyp-build would load: build/Release first, then the best-matching prebuild. */
  path(dir: string): string;
}

/**
 * The addon file to load, in this order:
 * 1. HESSBOUND_ADDON;
 * 2. build/Release/hessbound.node, which exists only where it was built from source (a development
 *    checkout, or `npm install --build-from-source`): an explicit build wins over the prebuilt one;
 * 3. the installed platform package (@hessbound/linux-x64-gnu, ...: what users get from npm);
 * 4. prebuilds/<platform>-<arch>/*.node (node-gyp-build's layout; made by scripts/prebuild.mjs in a
 *    checkout, not shipped).
 * Throws when there is none, saying why for each.
 */
export function addonPath(): string {
  if (process.env.HESSBOUND_ADDON) return process.env.HESSBOUND_ADDON;
  const local = join(packageRoot(), 'build', 'Release', 'hessbound.node');
  if (existsSync(local)) return local;
  const platform = platformAddon();
  if ('path' in platform) return platform.path;
  const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build') as NodeGypBuild;
  try {
    return nodeGypBuild.path(packageRoot());
  } catch (e) {
    throw new Error(
      `no native addon for ${currentTarget()} (${platform.reason}; none was built from source: ` +
        `npm rebuild hessbound --build-from-source; ${(e as Error).message.split('\n')[0]})`,
    );
  }
}

/** The addon's exports (native/binding/addon.cpp); the last argument of run/hessian is the cancel flag. */
type NativeAddon = Omit<KernelBackend, 'name' | 'linalg' | 'maxDenseBytes' | 'run' | 'hessian'> & {
  info(): NativeAddonInfo;
  run(name: string, spec: ProblemSpec, options: Record<string, number>, onProgress?: ProgressCallback, cancel?: Int32Array): Promise<string>;
  hessian(spec: ProblemSpec, assembly: number, maxDenseBytes: number, onProgress?: ProgressCallback, cancel?: Int32Array): Promise<Float64Array>;
};

/** What the addon's info() reports. */
export interface NativeAddonInfo {
  linalg: string;
  /** OpenBLAS threads (0 when unknown). */
  threads?: number;
  /** 'static' when OpenBLAS/LAPACK/gfortran are linked into the addon, else 'shared'. */
  linkage?: string;
  /** The SIMD path the hand-written loops run (generic, avx2, avx512: the CPU's best or HESSBOUND_SIMD's cap). */
  simd?: string;
  /** The best SIMD path this CPU has. */
  simdCpu?: string;
  /** The kernel set OpenBLAS picked for this CPU (openblas_get_corename, e.g. SkylakeX, Haswell, Zen). */
  blasKernels?: string;
}

/** A kernel call the addon polls a cancel flag in (addon.cpp's KernelTask); ABORTED when it stops early. */
async function cancellable<T>(signal: AbortSignal | undefined, call: (flag: Int32Array | undefined) => Promise<T>): Promise<T> {
  const effective = effectiveSignal(signal);
  throwIfAborted(effective);
  const { flag, done } = cancelFlag(effective);
  try {
    return await wrapKernelCall(() => call(flag));
  } catch (e) {
    throw (e as { code?: string }).code === 'ABORTED' ? abortedError(effective) : e;
  } finally {
    done();
  }
}

/**
 * Ends the process now with `code`. process.exit() joins worker threads, and a thread still inside a
 * native kernel call keeps it waiting for the whole call; the addon's exitNow joins nothing. Without
 * the addon (WebAssembly, whose threads V8 can stop) it is process.exit().
 */
export function exitProcessNow(code: number): never {
  let exitNow: ((code: number) => never) | undefined;
  try {
    exitNow = (createRequire(import.meta.url)(addonPath()) as { exitNow?: (code: number) => never }).exitNow;
  } catch {
    // No addon: nothing native can hold the exit.
  }
  if (!exitNow) return process.exit(code);
  // What process.exit() does before it joins threads: the 'exit' listeners run.
  process.exitCode = code;
  process.emit('exit', code);
  return exitNow(code);
}

/** Throws (with the reason) when the addon is missing or does not load. */
export function loadNativeBackend(): KernelBackend {
  const path = addonPath();
  if (!existsSync(path)) throw new Error(`native addon not found (${path} is missing; run npm run build:native)`);
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as typeof addon;
  } catch (e) {
    throw new Error(`${path} does not load: ${(e as Error).message.split('\n')[0]}`);
  }
  const info = addon.info();
  const queue = createCallQueue();
  const backend: KernelBackend = {
    name: 'native',
    linalg: info.linalg,
    addonInfo: { ...info, path },
    // Natively the limit is the machine's memory; the facade checks it against free memory.
    maxDenseBytes: Number.MAX_SAFE_INTEGER,
    // async: argument errors the addon throws synchronously become rejections, as in WebAssembly.
    // The kernel stops at its next cancel check; a caller waiting on LAPACK (no checks) is released at once.
    run: async (name, spec, options, onProgress, signal) =>
      settleOnAbort(queue(() => withGuardedProgress(onProgress, (progress) => cancellable(signal, (flag) => addon.run(name, spec, options, progress, flag)))), effectiveSignal(signal)),
    hessian: async (spec, assembly, maxBytes, onProgress, signal) =>
      settleOnAbort(queue(() => withGuardedProgress(onProgress, (progress) => cancellable(signal, (flag) => addon.hessian(spec, assembly, maxBytes, progress, flag)))), effectiveSignal(signal)),
    hvp: async (spec, directions, k) => queue(() => wrapKernelCall(() => addon.hvp(spec, directions, k))),
    lossGrad: (spec) => wrapKernelCall(() => addon.lossGrad(spec)),
    eigh: async (matrix, n, first, last, vectors) => queue(() => wrapKernelCall(() => addon.eigh(matrix, n, first, last, vectors))),
    wsBounds: (trace, traceOfSquare, n) => wrapKernelCall(() => addon.wsBounds(trace, traceOfSquare, n)),
  };
  return backend;
}
