/**
 * How the WebAssembly backend finds its two build outputs (wasm/dist/hessbound-wasm.js, the
 * Emscripten glue, and hessbound-wasm.wasm). Browser-safe: no Node built-ins here; the Node loader
 * lives in wasm-loader-node.ts and is imported only when running under Node.
 */
import type { WasmSimd, WasmSimdChoice } from './wasm-features.js';

/** The C ABI of wasm/capi.cpp as the Emscripten glue exposes it (pointers are wasm32 offsets). */
export interface HessboundWasmModule {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPF64: Float64Array;
  /** Set for the duration of one call to receive progress fractions (see capi.cpp). */
  hbProgress?: ((fraction: number) => void) | undefined;
  _hb_malloc(bytes: number): number;
  _hb_free(ptr: number): void;
  _hb_error_code(): number;
  _hb_error_message(): number;
  _hb_text(): number;
  _hb_text_length(): number;
  _hb_array(i: number): number;
  _hb_array_length(i: number): number;
  _hb_scalar(i: number): number;
  _hb_release(): void;
  _hb_info(): number;
  _hb_run(name: number, ...specThenOptions: number[]): number;
  _hb_hessian(...specThenArgs: number[]): number;
  _hb_hvp(...specThenArgs: number[]): number;
  _hb_loss_grad(...spec: number[]): number;
  _hb_eigh(matrix: number, length: number, n: number, first: number, last: number, vectors: number): number;
  _hb_ws_bounds(trace: number, traceOfSquare: number, n: number): number;
  _hb_probe_alloc(bytes: number): number;
  /** How layer 0 reads X (0 auto, 1 dense, 2 sparse: HESSBOUND_SPARSE_INPUTS natively). */
  _hb_set_sparse_inputs(format: number): void;
  /** Threaded build only (hessbound-wasm-mt): the kernel's threads, as HESSBOUND_THREADS natively. */
  _hb_set_threads?(requested: number, cap: number): void;
  /** Threaded build only: threads the kernel has run one call on (1 + the workers it started). */
  _hb_threads_started?(): number;
  /** Threaded build only: the shared memory (the HEAP views above must follow its growth). */
  wasmMemory?: WebAssembly.Memory;
  /** Threaded build only: the glue's pthread bookkeeping (Node: its workers are unref'd). */
  PThread?: { unusedWorkers: { unref?: () => void }[]; runningWorkers: { unref?: () => void }[] };
}

/** What Emscripten's MODULARIZE glue accepts (the subset we use). */
export interface WasmModuleOverrides {
  instantiateWasm?: (
    imports: WebAssembly.Imports,
    receive: (instance: WebAssembly.Instance, module?: WebAssembly.Module) => void,
  ) => WebAssembly.Exports | Record<string, never>;
  /** Threaded build: pthread workers started with the module (threads - 1). */
  hbPoolSize?: number;
  /** Threaded build: the glue's URL, which its pthread workers load (browsers). */
  mainScriptUrlOrBlob?: string;
  /** Threaded build: where the glue's files are (its .worker.js). */
  locateFile?: (path: string, prefix: string) => string;
  print?: (text: string) => void;
  printErr?: (text: string) => void;
}

/** The glue's factory (`HessboundWasm`): a new module instance per call. */
export type HessboundWasmFactory = (overrides: WasmModuleOverrides) => Promise<HessboundWasmModule>;

export interface WasmArtifacts {
  factory: HessboundWasmFactory;
  /** Compiled once; each instance (a fresh one after a trap) reuses it. */
  module: WebAssembly.Module;
  /** Set for the threaded build (hessbound-wasm-mt); absent for the single-threaded one. */
  threaded?: ThreadedWasm;
  /** Which build (SIMD128 or relaxed SIMD) and why; absent from custom loaders. */
  simd?: WasmSimdChoice;
}

/** How an instance of the threaded build runs. */
export interface ThreadedWasm {
  /** Threads the kernel may use at once (>= 1): the module starts threads - 1 pthread workers. */
  threads: number;
  /** The kernel's request (HESSBOUND_THREADS; 0 = automatic within `threads`). */
  requested: number;
  /** Browsers: the glue's and the pthread worker script's URLs. */
  glueUrl?: string;
  workerUrl?: string;
  /** Milliseconds its pthread workers may take to start (configureWasm's threadStartTimeout). */
  startTimeoutMs?: number;
}

export type WasmLoader = () => Promise<WasmArtifacts>;

export const GLUE_FILE = 'hessbound-wasm.js';
export const WASM_FILE = 'hessbound-wasm.wasm';
/** The threaded build: glue, module and the script of its pthread workers. */
export const MT_GLUE_FILE = 'hessbound-wasm-mt.js';
export const MT_WASM_FILE = 'hessbound-wasm-mt.wasm';
export const MT_WORKER_FILE = 'hessbound-wasm-mt.worker.js';

/** A file of the relaxed-SIMD build: the same name with -relaxed before the extension. */
export function relaxedFile(file: string): string {
  return file.replace(/^(hessbound-wasm(?:-mt)?)\./, '$1-relaxed.');
}

/** The file of `simd`'s build. */
export function buildFile(file: string, simd: WasmSimd | undefined): string {
  return simd === 'relaxed' ? relaxedFile(file) : file;
}

export interface BrowserWasmOptions {
  /** URL of the folder holding hessbound-wasm.js and hessbound-wasm.wasm (the package's wasm/dist/). */
  baseUrl: string | URL;
  /** The glue's factory, if a bundler already imported it; else the glue is loaded from baseUrl. */
  factory?: HessboundWasmFactory;
}

/** The global each glue defines (wasm/wasm.cmake's EXPORT_NAME). */
type GlueName = 'HessboundWasm' | 'HessboundWasmMt' | 'HessboundWasmRelaxed' | 'HessboundWasmMtRelaxed';

type GlobalWithGlue = typeof globalThis & {
  [name in GlueName]?: HessboundWasmFactory;
} & {
  importScripts?: (url: string) => void;
  document?: Document;
};

/** Classic workers: importScripts. Module workers (what Vite and webpack create) define it but throw. */
function classicWorker(g: GlobalWithGlue, url: string): boolean {
  try {
    g.importScripts!(url);
    return true;
  } catch {
    return false;
  }
}

/** Runs the glue as a classic script (it defines the global `HessboundWasm`, or `HessboundWasmMt`). */
async function loadGlue(url: string, name: GlueName): Promise<HessboundWasmFactory> {
  const g = globalThis as GlobalWithGlue;
  if (g[name]) return g[name];
  if (g.document) {
    await new Promise<void>((resolve, reject) => {
      const script = g.document!.createElement('script');
      script.src = url;
      script.onload = () => resolve();
      script.onerror = () => reject(new Error(`cannot load ${url}`));
      g.document!.head.appendChild(script);
    });
  } else if (typeof g.importScripts === 'function' && classicWorker(g, url)) {
    // loaded by importScripts
  } else {
    // Module workers and other hosts without script tags or importScripts.
    const response = await fetch(url);
    if (!response.ok) throw new Error(`cannot load ${url} (HTTP ${response.status})`);
    return new Function(`${await response.text()}\nreturn ${name};`)() as HessboundWasmFactory;
  }
  if (!g[name]) throw new Error(`${url} did not define ${name}`);
  return g[name];
}

async function compileFrom(url: string): Promise<WebAssembly.Module> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url} (HTTP ${response.status})`);
  // Streaming compilation needs the application/wasm MIME type; fall back to bytes otherwise.
  if (typeof WebAssembly.compileStreaming === 'function' && response.headers.get('content-type')?.startsWith('application/wasm'))
    return WebAssembly.compileStreaming(response);
  return WebAssembly.compile(await response.arrayBuffer());
}

/** The two assets' absolute URLs (what a kernel Web Worker is told to load). */
export interface WasmAssetUrls {
  glueUrl: string;
  wasmUrl: string;
  /** Present for the threaded build: its pthread workers' script (hessbound-wasm-mt.worker.js). */
  workerUrl?: string;
  /** Which build these files are (absent: SIMD128). */
  simd?: WasmSimd;
}

/** The assets in the folder `baseUrl` (resolved against the page or worker location), of `simd`'s build. */
export function assetUrlsIn(baseUrl: string | URL, simd?: WasmSimd): WasmAssetUrls {
  const base = new URL(String(baseUrl), (globalThis as { location?: { href: string } }).location?.href);
  const dir = base.href.endsWith('/') ? base.href : `${base.href}/`;
  const at = (file: string) => new URL(buildFile(file, simd), dir).href;
  return { glueUrl: at(GLUE_FILE), wasmUrl: at(WASM_FILE), ...(simd === 'relaxed' ? { simd } : {}) };
}

/** The threaded build's assets in the folder `baseUrl`. */
export function threadedAssetUrlsIn(baseUrl: string | URL, simd?: WasmSimd): WasmAssetUrls {
  const { glueUrl } = assetUrlsIn(baseUrl);
  const at = (file: string) => new URL(buildFile(file, simd), glueUrl).href;
  return { glueUrl: at(MT_GLUE_FILE), wasmUrl: at(MT_WASM_FILE), workerUrl: at(MT_WORKER_FILE), ...(simd === 'relaxed' ? { simd } : {}) };
}

/** Browsers: whether this page or worker may share memory between threads (COOP/COEP headers). */
export function canShareMemory(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
}

/**
 * A URL a worker can start from with this page's origin. Bundlers inline small assets as data: URLs
 * (Vite does so with the 3 kB pthread worker script); a worker started from one has an opaque origin,
 * so under COEP its importScripts of the glue is refused and the threads never start. A blob: URL of
 * the same text belongs to this origin.
 */
export async function workerScriptUrl(url: string): Promise<string> {
  if (!url.startsWith('data:')) return url;
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot read the inlined script ${url.slice(0, 40)}...`);
  return URL.createObjectURL(new Blob([await response.text()], { type: 'text/javascript' }));
}

/**
 * A loader fetching the glue and the .wasm from their URLs (unless given the compiled module); for
 * the threaded build (urls.workerUrl) with `threads` threads (default 1).
 */
export function urlWasmLoader(urls: WasmAssetUrls, factory?: HessboundWasmFactory, compiled?: WebAssembly.Module, threads?: ThreadedWasm): WasmLoader {
  return async () => {
    const name: GlueName = `${urls.workerUrl ? 'HessboundWasmMt' : 'HessboundWasm'}${urls.simd === 'relaxed' ? 'Relaxed' : ''}`;
    const [glue, module] = await Promise.all([factory ?? loadGlue(urls.glueUrl, name), compiled ?? compileFrom(urls.wasmUrl)]);
    if (!urls.workerUrl) return { factory: glue, module };
    const [glueUrl, workerUrl] = await Promise.all([workerScriptUrl(urls.glueUrl), workerScriptUrl(urls.workerUrl)]);
    return { factory: glue, module, threaded: { threads: 1, requested: 0, ...threads, glueUrl, workerUrl } };
  };
}

/** A loader fetching the glue and the .wasm from a URL (browsers, workers, Deno, ...). */
export function browserWasmLoader(options: BrowserWasmOptions): WasmLoader {
  return urlWasmLoader(assetUrlsIn(options.baseUrl), options.factory);
}
