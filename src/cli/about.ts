/**
 * `hessbound --version` and `hessbound info`: which backend runs, with which linear algebra and how
 * many threads, and — when the native addon did not load — why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendChoice, backendLoadFailure, getBackend } from '../backend/select.js';
import type { KernelBackend } from '../backend/types.js';
import { packageRoot } from '../backend/native.js';
import { nodeWasmThreads } from '../backend/wasm-loader-node.js';
import type { BackendName } from '../types.js';

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

async function tryBackend(name?: BackendName): Promise<{ backend?: KernelBackend; error?: string }> {
  try {
    return { backend: await getBackend(name) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Threads a backend runs its kernel on: OpenBLAS's, or the threaded WebAssembly build's pool (started on the first call). */
function threadsOf(b: KernelBackend): number {
  if (b.name === 'native') return b.addonInfo?.threads ?? 1;
  return b.name === 'wasm-threads' ? nodeWasmThreads().threads : 1;
}

/** The SIMD path that runs, and why when it is not the CPU's best. */
function simdText(a: KernelBackend['addonInfo']): string {
  if (!a?.simd) return 'SIMD path unknown';
  const capped = a.simdCpu && a.simdCpu !== a.simd ? ` (CPU has ${a.simdCpu}; capped by HESSBOUND_SIMD)` : '';
  const kernels = a.blasKernels ? `; OpenBLAS kernels ${a.blasKernels}` : '';
  return `SIMD path ${a.simd}${capped}${kernels}`;
}

/** Which WebAssembly build runs: SIMD128 or relaxed SIMD (FMA). */
function wasmSimdText(b: KernelBackend): string {
  return b.wasmSimd?.simd === 'relaxed' ? 'relaxed SIMD module (FMA)' : 'SIMD128 module';
}

function describe(b: KernelBackend): string {
  if (b.name === 'native') {
    const a = b.addonInfo;
    const threads = a?.threads ? `${a.threads} OpenBLAS thread(s)` : 'OpenBLAS threads unknown';
    return `native (${b.linalg}, ${a?.linkage ?? 'shared'} linkage, ${threads}, ${simdText(a)})`;
  }
  const threads = threadsOf(b);
  return `${b.name} (${b.linalg}, ${wasmSimdText(b)}, ${threads} thread${threads === 1 ? '' : 's'})`;
}

/** One line: version, the backend the CLI would use, its BLAS and threads. */
export async function versionLine(): Promise<string> {
  const { backend, error } = await tryBackend();
  return `hessbound ${packageVersion()} — backend: ${backend ? describe(backend) : `none (${error})`}; node ${process.versions.node}`;
}

/** The report of `hessbound info`: every backend, loaded or with its reason, as text or JSON. */
export async function infoReport(json: boolean): Promise<string> {
  const chosen = await tryBackend();
  const choice = backendChoice();
  const native = await tryBackend('native');
  const wasm = await tryBackend('wasm');
  const nativeReason = backendLoadFailure('native') ?? native.error;
  const data = {
    version: packageVersion(),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    backend: chosen.backend?.name ?? null,
    threads: chosen.backend ? threadsOf(chosen.backend) : null,
    why: chosen.backend ? choice?.why ?? null : null,
    forcedBy: process.env['HESSBOUND_BACKEND'] ? 'HESSBOUND_BACKEND' : null,
    native: native.backend
      ? { loaded: true, ...native.backend.addonInfo }
      : { loaded: false, reason: nativeReason ?? 'unknown' },
    wasm: wasm.backend
      ? { loaded: true, linalg: wasm.backend.linalg, module: wasm.backend.wasmSimd?.simd ?? 'simd128', moduleWhy: wasm.backend.wasmSimd?.why ?? null, maxDenseBytes: wasm.backend.maxDenseBytes }
      : { loaded: false, reason: wasm.error },
    openblasNumThreads: process.env['OPENBLAS_NUM_THREADS'] ?? null,
  };
  if (json) return JSON.stringify(data);
  const lines = [
    `hessbound ${data.version} on node ${data.node} (${data.platform})`,
    `backend used: ${chosen.backend ? describe(chosen.backend) : `none — ${chosen.error}`}`,
    ...(data.why ? [`  why: ${data.why}`] : []),
    native.backend
      ? `native: loaded ${native.backend.addonInfo?.path ?? ''} (${native.backend.addonInfo?.linkage ?? 'shared'} OpenBLAS/LAPACK, ${native.backend.addonInfo?.threads ?? '?'} thread(s); OPENBLAS_NUM_THREADS=${data.openblasNumThreads ?? 'unset'}; ${simdText(native.backend.addonInfo)})`
      : `native: not loaded — ${data.native.loaded ? '' : (data.native as { reason: string }).reason}`,
    wasm.backend ? `wasm: available (${wasm.backend.linalg}, ${wasmSimdText(wasm.backend)}, dense matrices up to ${(wasm.backend.maxDenseBytes / 2 ** 30).toFixed(2)} GiB)` : `wasm: not available — ${wasm.error}`,
    ...(wasm.backend?.wasmSimd?.why ? [`  module: ${wasm.backend.wasmSimd.why}`] : []),
  ];
  return lines.join('\n');
}
