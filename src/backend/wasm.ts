/**
 * The WebAssembly backend: the same C++ kernel compiled by Emscripten (wasm/capi.cpp), with the
 * KernelBackend contract of the native addon and identical results and error codes.
 *
 * An instance blocks the thread it runs on: every call runs synchronously inside. The backend
 * getBackend('wasm') returns therefore sends the long calls to a worker thread (Node: wasm-thread.ts)
 * or a Web Worker (browsers: wasm-web.ts) where it can; see loadWasmBackendForHost.
 * Progress callbacks are called synchronously from inside the kernel while it runs.
 */
import { HessboundError } from '../errors.js';
import { toHessboundError } from './kernel-errors.js';
import { chooseWasmSimd, parseWasmSimdRequest, requireWasmSimd, type WasmSimdChoice, type WasmSimdRequest } from './wasm-features.js';
import { inputFormatCode, requestedInputFormat } from './input-format.js';
import { effectiveSignal, throwIfAborted } from './cancel.js';
import type { KernelBackend, ProblemSpec, ProgressCallback } from './types.js';
import type { KernelWorkerOptions, wasmOnWebWorker } from './wasm-web.js';
import {
  assetUrlsIn,
  canShareMemory,
  threadedAssetUrlsIn,
  urlWasmLoader,
  type BrowserWasmOptions,
  type WasmAssetUrls,
  type HessboundWasmModule,
  type WasmArtifacts,
  type WasmLoader,
  type ThreadedWasm,
  type WasmModuleOverrides,
} from './wasm-loader.js';

export { browserWasmLoader, type BrowserWasmOptions, type WasmLoader } from './wasm-loader.js';

let configuredLoader: WasmLoader | undefined;
/** Browsers: which build configureWasm asked for ('auto': relaxed SIMD where the engine validates it). */
let simdRequest: WasmSimdRequest = 'auto';
/** The asset URLs behind configuredLoader, when it loads from URLs (a kernel Web Worker needs them). */
let configuredAssets: WasmAssetUrls | undefined;
/** The threaded build's assets beside them (configureWasm's baseUrl). */
let configuredThreadedAssets: WasmAssetUrls | undefined;
let configuredFactory: BrowserWasmOptions['factory'];
let workerOption: boolean | string | URL = true;
let workerType: KernelWorkerOptions['type'];
let threadsOption: number | undefined;
/** How long the threaded build's pthread workers may take to start before it counts as failed. */
let threadStartTimeoutMs = 20_000;
/**
 * Set by hessbound/browser (src/browser.ts), not imported here: the kernel worker's own bundle
 * (browser-worker.ts imports this module) must not contain `new Worker(...)` of itself, which
 * bundlers that follow it (Vite, webpack) would bundle again inside it.
 */
let webWorkerHost: typeof wasmOnWebWorker | undefined;

export function setWebWorkerHost(host: typeof wasmOnWebWorker | undefined): void {
  webWorkerHost = host;
}

/** Replaces how the module is found (undefined restores the default). A custom loader runs in-thread. */
export function setWasmLoader(loader: WasmLoader | undefined): void {
  configuredLoader = loader;
  configuredAssets = undefined;
  configuredThreadedAssets = undefined;
}

/** Options of configureWasm (browsers); every field is optional. */
export interface WasmConfiguration extends Partial<BrowserWasmOptions> {
  /**
   * Where long kernel calls run: true (default in a page) = a Web Worker running this package's
   * browser-worker.js; a URL = a Web Worker running that script (your bundle of
   * `hessbound/browser-worker`); false = this thread (the default already inside a worker).
   */
  worker?: boolean | string | URL;
  /** The type of the worker at `worker` (default 'module'). */
  workerType?: 'module' | 'classic';
  /**
   * The kernel's threads (as HESSBOUND_THREADS for the native kernel; at most 8). In a
   * cross-origin-isolated page (`crossOriginIsolated`, see docs/wasm.md for the COOP/COEP headers)
   * the threaded build runs with this many (default: navigator.hardwareConcurrency, at most 8);
   * elsewhere, or with threads: 1, the single-threaded build.
   */
  threads?: number;
  /**
   * Milliseconds the threaded build's threads may take to start (default 20000). Past that, or when
   * a thread's script fails to load, a page falls back to the single-threaded build with a console
   * warning; a call forced to 'wasm-threads' fails with a BACKEND error. Never a hang.
   */
  threadStartTimeout?: number;
  /**
   * Which build: 'auto' (default: relaxed SIMD, with fused multiply-adds, where the engine validates
   * it, else SIMD128), 'relaxed' (a BACKEND error where the engine lacks it) or 'simd128'.
   */
  wasmModule?: WasmSimdRequest;
}

/**
 * Browsers: where the package's wasm/dist/ is served (default: the package's own files, resolved
 * relative to this module by `new URL(..., import.meta.url)`), where long calls run and on how many
 * threads. Takes effect for backends not yet created (before the first call).
 */
export function configureWasm(options: WasmConfiguration): void {
  if (options.wasmModule !== undefined) simdRequest = parseWasmSimdRequest(String(options.wasmModule), 'configureWasm wasmModule');
  if (options.baseUrl !== undefined) {
    const baseUrl = options.baseUrl;
    // A factory passed in is the glue of one build, which must match its .wasm: SIMD128 unless
    // wasmModule says otherwise.
    const choice: WasmSimdChoice = options.factory && simdRequest === 'auto'
      ? { simd: 'simd128', why: 'configureWasm was given a glue factory (taken for the SIMD128 build; pass wasmModule for the other)' }
      : browserSimd();
    configuredAssets = assetUrlsIn(baseUrl, choice.simd);
    configuredThreadedAssets = threadedAssetUrlsIn(baseUrl, choice.simd);
    configuredFactory = options.factory;
    const load = urlWasmLoader(configuredAssets, options.factory);
    configuredLoader = async () => {
      requireWasmSimd();
      return { ...(await load()), simd: choice };
    };
  }
  if (options.worker !== undefined) workerOption = options.worker;
  if (options.workerType !== undefined) workerType = options.workerType;
  if (options.threads !== undefined) {
    if (!Number.isInteger(options.threads) || options.threads < 1)
      throw new HessboundError('BAD_OPTION', `threads must be a whole number >= 1, not ${String(options.threads)}`, 'pass e.g. configureWasm({ threads: 2 })');
    threadsOption = Math.min(options.threads, MAX_THREADS);
  }
  if (options.threadStartTimeout !== undefined) {
    if (!(options.threadStartTimeout > 0) || !Number.isFinite(options.threadStartTimeout))
      throw new HessboundError('BAD_OPTION', `threadStartTimeout must be a positive number of milliseconds, not ${String(options.threadStartTimeout)}`, 'pass e.g. configureWasm({ threadStartTimeout: 20000 })');
    threadStartTimeoutMs = options.threadStartTimeout;
  }
}

/** The kernel splits the samples into at most 8 chunks (sample_chunks.cpp): more threads idle. */
const MAX_THREADS = 8;

/** Browsers: configureWasm's threads, else the logical cores (at most 8). */
function browserThreads(): ThreadedWasm {
  const startTimeoutMs = threadStartTimeoutMs;
  if (threadsOption !== undefined) return { threads: threadsOption, requested: threadsOption, startTimeoutMs };
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return { threads: Math.max(1, Math.min(MAX_THREADS, cores)), requested: 0, startTimeoutMs };
}

/**
 * Browsers: the build configureWasm's wasmModule asks for (default: relaxed SIMD where this engine
 * validates it). The files are assumed served beside the SIMD128 ones (the package ships both).
 */
function browserSimd(): WasmSimdChoice {
  return chooseWasmSimd(simdRequest, true, 'configureWasm wasmModule');
}

/** The package's assets: literal `new URL(..., import.meta.url)` forms, which Vite and webpack rewrite. */
function defaultAssets(simd = browserSimd().simd): WasmAssetUrls {
  // Classic-script bundles (IIFE) have no import.meta.url to resolve against.
  if (typeof import.meta.url !== 'string')
    throw new HessboundError('BACKEND', 'cannot tell where the WebAssembly files are served (this bundle has no import.meta.url)',
      "call configureWasm({ baseUrl: '<URL of the package's wasm/dist/>' }) before the first call");
  if (simd === 'relaxed')
    return {
      glueUrl: new URL('../../../wasm/dist/hessbound-wasm-relaxed.js', import.meta.url).href,
      wasmUrl: new URL('../../../wasm/dist/hessbound-wasm-relaxed.wasm', import.meta.url).href,
      simd,
    };
  return {
    glueUrl: new URL('../../../wasm/dist/hessbound-wasm.js', import.meta.url).href,
    wasmUrl: new URL('../../../wasm/dist/hessbound-wasm.wasm', import.meta.url).href,
  };
}

/** The threaded build's assets, in the same literal forms. */
function defaultThreadedAssets(simd = browserSimd().simd): WasmAssetUrls {
  defaultAssets(simd); // the same check
  if (simd === 'relaxed')
    return {
      glueUrl: new URL('../../../wasm/dist/hessbound-wasm-mt-relaxed.js', import.meta.url).href,
      wasmUrl: new URL('../../../wasm/dist/hessbound-wasm-mt-relaxed.wasm', import.meta.url).href,
      workerUrl: new URL('../../../wasm/dist/hessbound-wasm-mt-relaxed.worker.js', import.meta.url).href,
      simd,
    };
  return {
    glueUrl: new URL('../../../wasm/dist/hessbound-wasm-mt.js', import.meta.url).href,
    wasmUrl: new URL('../../../wasm/dist/hessbound-wasm-mt.wasm', import.meta.url).href,
    workerUrl: new URL('../../../wasm/dist/hessbound-wasm-mt.worker.js', import.meta.url).href,
  };
}

function inNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** The module for this host: with `threads`, the threaded build for that many threads. */
async function defaultLoader(threads?: { threads?: number }): Promise<WasmArtifacts> {
  requireWasmSimd();
  if (inNode()) {
    // A computed specifier: bundlers must not follow it into Node built-ins for browser builds.
    const specifier = './wasm-loader-node.js';
    const { loadNodeWasm } = (await import(specifier)) as typeof import('./wasm-loader-node.js');
    return loadNodeWasm(threads);
  }
  const simd = browserSimd();
  if (!threads) return { ...(await urlWasmLoader(configuredAssets ?? defaultAssets(simd.simd), configuredFactory)()), simd };
  return { ...(await urlWasmLoader(configuredThreadedAssets ?? defaultThreadedAssets(simd.simd), undefined, undefined, { ...browserThreads(), ...threads })()), simd };
}

/**
 * The WebAssembly backend on this thread: the single-threaded module, or with `threaded` the
 * threaded one (Node: HESSBOUND_THREADS threads, else automatic; browsers: configureWasm's `threads`).
 * A custom loader (setWasmLoader) decides itself.
 */
export async function loadWasmBackend(threaded = false): Promise<KernelBackend> {
  if (configuredLoader && !configuredThreadedAssets) return createWasmBackend(await configuredLoader());
  if (!threaded) return createWasmBackend(await (configuredLoader ?? defaultLoader)());
  return createWasmBackend(await defaultLoader({}));
}

/** A page (not a worker) that can start Web Workers. */
function inPage(): boolean {
  return typeof Worker === 'function' && typeof document !== 'undefined';
}

/**
 * Browsers: whether the threaded build runs. `forced` (getBackend('wasm-threads')) needs shared
 * memory; otherwise it runs where memory can be shared and more than one thread was asked for.
 */
function browserWantsThreads(forced: boolean): boolean {
  if (forced && !canShareMemory())
    throw new HessboundError('BACKEND', "the threaded WebAssembly build needs SharedArrayBuffer, which this page does not have (crossOriginIsolated is false)",
      "serve the page with 'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp' (docs/wasm.md), or use backend 'wasm'");
  if (forced) return true;
  if (configuredLoader && !configuredThreadedAssets) return false; // a custom loader decides
  return canShareMemory() && browserThreads().threads > 1;
}

/**
 * The backend getBackend('wasm') uses (`threaded`: getBackend('wasm-threads')): in Node's main thread
 * (with the default loader) long calls run on a worker thread (wasm-thread.ts); in a browser page on
 * a Web Worker (wasm-web.ts) unless configureWasm({ worker: false }); elsewhere (workers, worker
 * threads, custom loaders) in-thread. Browsers run the threaded build whenever the page is
 * cross-origin isolated (and more than one thread is asked for), else the single-threaded one.
 */
export async function loadWasmBackendForHost(threaded = false): Promise<KernelBackend> {
  if (!inNode()) {
    let useThreads = browserWantsThreads(threaded);
    const offThread = webWorkerHost !== undefined && workerOption !== false && inPage();
    let artifacts: WasmArtifacts | undefined;
    let inThread: KernelBackend | undefined;
    if (useThreads) {
      // The page's own instance serves only the cheap calls when a kernel worker runs the long ones;
      // it also proves that this page can start the threaded build's workers at all.
      try {
        artifacts = await defaultLoader(offThread ? { threads: 1 } : {});
        inThread = await createWasmBackend(artifacts);
      } catch (e) {
        if (threaded) throw e;
        console.warn(`hessbound: using the single-threaded WebAssembly build: ${(e as Error).message.split('\n')[0]}`);
        useThreads = false;
      }
    }
    if (!artifacts || !inThread) {
      artifacts = await (configuredLoader ?? defaultLoader)();
      inThread = await createWasmBackend(artifacts);
    }
    const single = configuredLoader ? configuredAssets : defaultAssets();
    const assets = useThreads ? (configuredThreadedAssets ?? defaultThreadedAssets()) : single;
    if (!offThread || !assets) return inThread;
    const url = workerOption === true || workerOption === false ? undefined : workerOption;
    // The compiled module goes to each kernel worker, which then only instantiates it.
    return webWorkerHost!(inThread, assets, { ...(url !== undefined ? { url } : {}), ...(workerType ? { type: workerType } : {}) }, artifacts.module,
      useThreads
        ? { ...browserThreads(), glueUrl: assets.glueUrl, ...(assets.workerUrl ? { workerUrl: assets.workerUrl } : {}) }
        : undefined,
      // Not forced: the kernel worker falls back to the single-threaded build if its threads fail.
      useThreads && !threaded ? single : undefined);
  }
  const custom = configuredLoader !== undefined;
  const inThreadOnly = custom || process.env['HESSBOUND_WASM_THREAD'] === '0' || !(await isNodeMainThread());
  if (!threaded || custom) {
    const inThread = await createWasmBackend(await (configuredLoader ?? defaultLoader)());
    if (inThreadOnly) return inThread;
    const specifier = './wasm-thread.js';
    const { wasmOnThread } = (await import(specifier)) as typeof import('./wasm-thread.js');
    return wasmOnThread(inThread, false);
  }
  if (inThreadOnly) return createWasmBackend(await defaultLoader({}));
  // The worker thread runs the long calls on all the threads; this thread's instance, the cheap ones.
  const inThread = await createWasmBackend(await defaultLoader({ threads: 1 }));
  const specifier = './wasm-thread.js';
  const { wasmOnThread } = (await import(specifier)) as typeof import('./wasm-thread.js');
  return wasmOnThread(inThread, true);
}

async function isNodeMainThread(): Promise<boolean> {
  // A computed specifier: browser bundles must not follow it into Node built-ins.
  const threads = 'node:worker_threads';
  const { isMainThread } = (await import(threads)) as typeof import('node:worker_threads');
  return isMainThread;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Heap copies made for one call, all freed when it ends. Pointers are unsigned (heap > 2 GB). */
class Arena {
  private readonly ptrs: number[] = [];
  constructor(private readonly m: HessboundWasmModule) {}

  bytes(count: number): number {
    const p = this.m._hb_malloc(count) >>> 0;
    if (p === 0)
      throw new HessboundError(
        'TOO_LARGE',
        `the WebAssembly heap (at most 4 GB) cannot hold another ${count} bytes`,
        "use method 'lanczos' (matrix-free, O(P) memory) or a smaller problem",
      );
    this.ptrs.push(p);
    followMemory(this.m);
    return p;
  }
  // Views are read after the malloc: growing the heap replaces the module's buffer.
  f64(a: ArrayLike<number>): number {
    const p = this.bytes(a.length * 8);
    this.m.HEAPF64.set(a, p / 8);
    return p;
  }
  i32(a: ArrayLike<number>): number {
    const p = this.bytes(a.length * 4);
    this.m.HEAP32.set(a, p / 4);
    return p;
  }
  u8(a: ArrayLike<number>): number {
    const p = this.bytes(a.length);
    this.m.HEAPU8.set(a, p);
    return p;
  }
  str(s: string): number {
    const b = encoder.encode(s);
    const p = this.bytes(b.length + 1);
    this.m.HEAPU8.set(b, p);
    this.m.HEAPU8[p + b.length] = 0;
    return p;
  }
  free(): void {
    for (const p of this.ptrs) this.m._hb_free(p);
    this.ptrs.length = 0;
  }
}

/**
 * The threaded build's memory is shared and may have grown on another thread (a kernel thread's
 * allocation), which leaves this thread's HEAP views on the old, shorter buffer: renew them.
 */
function followMemory(m: HessboundWasmModule): void {
  const memory = m.wasmMemory;
  if (!memory || m.HEAPU8.buffer === memory.buffer) return;
  m.HEAPU8 = new Uint8Array(memory.buffer);
  m.HEAP32 = new Int32Array(memory.buffer);
  m.HEAPF64 = new Float64Array(memory.buffer);
}

/** TextDecoder refuses views of shared memory (the threaded build): decode a copy then. */
function decode(bytes: Uint8Array): string {
  return decoder.decode(bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice());
}

function cString(m: HessboundWasmModule, ptr: number): string {
  followMemory(m);
  const p = ptr >>> 0;
  const end = m.HEAPU8.indexOf(0, p);
  return decode(m.HEAPU8.subarray(p, end < 0 ? p : end));
}

function resultText(m: HessboundWasmModule): string {
  followMemory(m);
  const p = m._hb_text() >>> 0;
  return decode(m.HEAPU8.subarray(p, p + (m._hb_text_length() >>> 0)));
}

function resultArray(m: HessboundWasmModule, i: number): Float64Array {
  followMemory(m);
  const p = m._hb_array(i) >>> 0;
  return m.HEAPF64.slice(p / 8, p / 8 + (m._hb_array_length(i) >>> 0));
}

/** The kernel's status: on failure, its stored code and message as a HessboundError. */
function check(m: HessboundWasmModule, status: number): void {
  if (status !== 0) throw toHessboundError({ code: cString(m, m._hb_error_code()), message: cString(m, m._hb_error_message()) });
}

// The same argument checks as native/binding/addon.cpp, so both backends fail alike.
function badOption(message: string): never {
  throw toHessboundError({ code: 'BAD_OPTION', message });
}

function specArgs(arena: Arena, spec: ProblemSpec): number[] {
  if (typeof spec !== 'object' || spec === null) badOption('expected a problem spec object');
  for (const key of ['sizes', 'hasBias', 'params', 'x', 'targets'] as const)
    if (!ArrayBuffer.isView(spec[key])) badOption(`spec.${key} must be a typed array`);
  for (const key of ['activation', 'leakySlope', 'reduction', 'samples'] as const)
    if (typeof spec[key] !== 'number') badOption(`spec.${key} must be a number`);
  return [
    arena.i32(spec.sizes), spec.sizes.length,
    arena.u8(spec.hasBias), spec.hasBias.length,
    spec.activation | 0, spec.leakySlope, spec.reduction | 0,
    arena.f64(spec.params), spec.params.length,
    arena.f64(spec.x), spec.x.length,
    arena.f64(spec.targets), spec.targets.length,
    spec.samples | 0,
  ];
}

/** The threaded glue's settings: its pool of pthread workers and, in browsers, where its files are. */
function threadedOverrides(t: ThreadedWasm): Partial<WasmModuleOverrides> {
  return {
    // Started with the module: the calling thread blocks while the kernel's threads run, so no
    // worker could be started then. At least one: the 3.1.6 glue never finishes loading with none.
    hbPoolSize: Math.max(1, t.threads - 1),
    ...(t.glueUrl ? { mainScriptUrlOrBlob: t.glueUrl } : {}),
    ...(t.workerUrl ? { locateFile: (path: string, prefix: string) => (path.endsWith('.worker.js') ? t.workerUrl! : prefix + path) } : {}),
  };
}

/** Tells the kernel its threads; in Node the pool's workers must not keep the process alive. */
function startThreads(m: HessboundWasmModule, t: ThreadedWasm): void {
  m._hb_set_threads!(t.requested, t.threads);
  for (const w of [...(m.PThread?.unusedWorkers ?? []), ...(m.PThread?.runningWorkers ?? [])]) w.unref?.();
}

/** A KernelBackend over an instance of the module (a new instance replaces one that trapped). */
export interface WasmKernelBackend extends KernelBackend {
  /**
   * For tests: the kernel allocates `bytes` and frees them again inside the same error guard as
   * every call, so the out-of-memory path (std::bad_alloc -> TOO_LARGE) can be exercised cheaply.
   */
  probeAllocation(bytes: number): void;
}

export async function createWasmBackend({ factory, module, threaded, simd }: WasmArtifacts): Promise<WasmKernelBackend> {
  const format = inputFormatCode(requestedInputFormat());
  const instantiate = () =>
    new Promise<HessboundWasmModule>((resolveModule, reject) => {
      // Every instance (also one replacing a trapped one) hears HESSBOUND_SPARSE_INPUTS.
      const resolve = (m: HessboundWasmModule) => {
        m._hb_set_sparse_inputs(format);
        resolveModule(m);
      };
      const overrides: WasmModuleOverrides & { PThread?: { terminateAllThreads?(): void } } = {
        // Instantiating from the compiled module: no fetch by the glue, and a cheap restart.
        instantiateWasm(imports, receive) {
          // The threaded glue hands the module on to its pthread workers.
          WebAssembly.instantiate(module, imports).then((instance) => receive(instance, module), reject);
          return {};
        },
      };
      if (!threaded) {
        factory(overrides).then(resolve, reject);
        return;
      }
      // The glue's ready promise waits for every pthread worker to load and never settles when one
      // cannot (a blocked script, a worker refused by the page's policy): fail on the worker's error
      // or after threadStartTimeout instead of hanging.
      const startTimeout = threaded.startTimeoutMs ?? threadStartTimeoutMs;
      let settled = false;
      const failStart = (why: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        try {
          overrides.PThread?.terminateAllThreads?.();
        } catch {
          // best effort: the workers may not exist yet
        }
        reject(new HessboundError('BACKEND', `the threaded WebAssembly build's threads did not start: ${why}`,
          "serve hessbound-wasm-mt.worker.js and hessbound-wasm-mt.js from the page's origin (docs/wasm.md), or use backend 'wasm' (one thread)"));
      };
      const timer = setTimeout(() => failStart(`no answer from its ${Math.max(1, threaded.threads - 1)} pthread worker(s) within ${startTimeout / 1000} s`), startTimeout);
      (timer as { unref?: () => void }).unref?.();
      Object.assign(overrides, threadedOverrides(threaded), {
        printErr: (text: string) => {
          if (/worker sent an error/.test(text)) failStart(text);
          else console.warn(text);
        },
      });
      factory(overrides).then((m) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        startThreads(m, threaded);
        resolve(m);
      }, (e: unknown) => {
        // The module itself failed (not its threads): that error as it is.
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e);
      });
    });

  let current: HessboundWasmModule | undefined = await instantiate();
  let restarting: Promise<HessboundWasmModule> | undefined;
  const info = JSON.parse(cString(current, current._hb_info())) as { linalg: string; simd?: 'simd128' | 'relaxed'; maxDenseBytes: number };

  async function ready(): Promise<HessboundWasmModule> {
    if (current) return current;
    restarting ??= instantiate().then(
      (m) => ((current = m), (restarting = undefined), m),
      (e: unknown) => {
        restarting = undefined;
        throw e;
      },
    );
    return restarting;
  }

  function readyNow(): HessboundWasmModule {
    if (current) return current;
    void ready().catch(() => undefined);
    throw new HessboundError('BACKEND', 'the WebAssembly module is restarting after an internal error', 'retry the call');
  }

  /**
   * One call: copies in, runs, copies out, frees everything (also on failure). The C++ side catches
   * every exception, so anything else escaping is a trap (a bug): that instance is dropped.
   */
  function call<T>(m: HessboundWasmModule, onProgress: ProgressCallback | undefined, body: (arena: Arena, progress: number) => T): T {
    followMemory(m);
    const arena = new Arena(m);
    let trapped = false;
    let callbackError: { error: unknown } | undefined;
    if (onProgress)
      m.hbProgress = (f) => {
        // Never throw into the kernel: remember the callback's error and rethrow it after the call.
        if (callbackError) return;
        try {
          onProgress(f);
        } catch (error) {
          callbackError = { error };
        }
      };
    try {
      const result = body(arena, onProgress ? 1 : 0);
      if (callbackError) throw callbackError.error;
      return result;
    } catch (e) {
      if (e instanceof HessboundError || e === callbackError?.error) throw e;
      trapped = true;
      if (current === m) current = undefined;
      throw new HessboundError('KERNEL', `the WebAssembly kernel trapped: ${(e as Error)?.message ?? String(e)}`,
        'this is a bug in hessbound; please report it with the model and data that caused it');
    } finally {
      m.hbProgress = undefined;
      if (!trapped) {
        arena.free();
        m._hb_release();
      }
    }
  }

  const backend: WasmKernelBackend = {
    name: threaded ? 'wasm-threads' : 'wasm',
    linalg: info.linalg,
    // What the module says it was built with, not what the loader meant to load.
    wasmSimd: { simd: info.simd ?? 'simd128', ...(simd ? { why: simd.why } : {}) },
    maxDenseBytes: info.maxDenseBytes,

    async run(name, spec, options, onProgress, signal) {
      throwIfAborted(effectiveSignal(signal));
      const m = await ready();
      return call(m, onProgress, (arena, progress) => {
        if (typeof name !== 'string') badOption('command name must be a string');
        const keys: string[] = [];
        const values: number[] = [];
        if (typeof options === 'object' && options !== null)
          for (const [key, value] of Object.entries(options)) {
            if (typeof value !== 'number') badOption(`option '${key}' must be a number`);
            if (key.includes('\n')) badOption(`option name '${key}' must not contain a newline`);
            keys.push(key);
            values.push(value);
          }
        const args = specArgs(arena, spec);
        check(m, m._hb_run(arena.str(name), ...args, arena.str(keys.join('\n')), arena.f64(values), keys.length, progress));
        return resultText(m);
      });
    },

    async hessian(spec, assembly, maxDenseBytes, onProgress, signal) {
      throwIfAborted(effectiveSignal(signal));
      const m = await ready();
      return call(m, onProgress, (arena, progress) => {
        check(m, m._hb_hessian(...specArgs(arena, spec), assembly | 0, Number(maxDenseBytes), progress));
        return resultArray(m, 0);
      });
    },

    async hvp(spec, directions, k) {
      const m = await ready();
      return call(m, undefined, (arena) => {
        const args = specArgs(arena, spec);
        if (!ArrayBuffer.isView(directions)) badOption('directions must be a Float64Array');
        check(m, m._hb_hvp(...args, arena.f64(directions), directions.length, k | 0));
        return resultArray(m, 0);
      });
    },

    lossGrad(spec) {
      const m = readyNow();
      return call(m, undefined, (arena) => {
        check(m, m._hb_loss_grad(...specArgs(arena, spec)));
        return { loss: m._hb_scalar(0), gradient: resultArray(m, 0) };
      });
    },

    async eigh(matrix, n, first, last, vectors) {
      const m = await ready();
      return call(m, undefined, (arena) => {
        if (!ArrayBuffer.isView(matrix)) badOption('matrix must be a Float64Array');
        check(m, m._hb_eigh(arena.f64(matrix), matrix.length, n | 0, first | 0, last | 0, vectors ? 1 : 0));
        return { values: resultArray(m, 0), vectors: resultArray(m, 1) };
      });
    },

    wsBounds(trace, traceOfSquare, n) {
      const m = readyNow();
      return call(m, undefined, () => {
        check(m, m._hb_ws_bounds(trace, traceOfSquare, n));
        const s = (i: number) => m._hb_scalar(i);
        return { upper: s(0), lowerOfMax: s(1), lowerOfMin: s(2), upperOfMin: s(3), spread: s(4), frobenius: s(5) };
      });
    },

    probeAllocation(bytes) {
      const m = readyNow();
      call(m, undefined, () => check(m, m._hb_probe_alloc(bytes)));
    },

    ...(threaded ? { threadsUsed: async () => (await ready())._hb_threads_started!() } : {}),
  };
  return backend;
}
