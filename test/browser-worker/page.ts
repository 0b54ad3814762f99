/**
 * Test page (bundled by test/browser-worker.test.ts with esbuild): hessbound/browser in a page, its
 * long calls in the kernel's Web Worker (a module worker bundled from hessbound/browser-worker), while
 * requestAnimationFrame keeps drawing; and hessbound/browser bundled into the page's own module and
 * classic workers, where it runs in-thread.
 */
import { analyze, configureWasm, HessboundError, parseCsv, randomModel, standardize, type Dataset } from 'hessbound/browser';
import type { Activation } from '../../src/types.js';

// ?worker=missing: a worker script that is not served (the error users get when it is misplaced);
// ?worker=off: the opt-out, the kernel on the page's thread.
const workerParam = new URLSearchParams(location.search).get('worker');
const workerScript = workerParam === 'missing' ? './missing-worker.js' : './kernel-worker.js';
configureWasm({ baseUrl: new URL('/wasm/dist/', location.href), worker: workerParam === 'off' ? false : new URL(workerScript, import.meta.url) });

export interface Problem {
  dataset: string;
  width: number;
  activation: Activation;
}

export interface Measured {
  lambdaMax: number;
  loss: number;
  bound: number;
  backend: string;
  /** Frames drawn while the call ran, and the longest gap between two (ms, measured in the page). */
  frames: number;
  maxFrameGapMs: number;
  /** The page thread's tasks longer than 50 ms during the call (ms). */
  longTasksMs: number[];
  progress: number[];
  /** How long the call took (ms): for the report, not asserted. */
  ms: number;
}

async function problem(p: Problem): Promise<{ data: Dataset; model: ReturnType<typeof randomModel> }> {
  const response = await fetch(new URL(`/data/${p.dataset}.csv`, location.href));
  const data = standardize(parseCsv(await response.text(), { name: p.dataset }));
  return { data, model: randomModel({ inputs: data.d, hidden: [p.width], classes: data.classes, activation: p.activation, seed: 0 }) };
}

/** Counts frames (and draws one, so the compositor has work) until stop() is called. */
function frameMeter(): { stop: () => { frames: number; maxFrameGapMs: number; longTasksMs: number[] } } {
  const ctx = (document.getElementById('spinner') as HTMLCanvasElement).getContext('2d')!;
  let last = performance.now();
  let maxGap = 0;
  let frames = 0;
  let running = true;
  // Tasks of the page's own thread longer than 50 ms (the Long Tasks API), started during the call.
  const started = performance.now();
  const longTasks: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.startTime >= started) longTasks.push(e.duration);
  });
  observer.observe({ type: 'longtask' });
  const tick = (now: number) => {
    if (!running) return;
    maxGap = Math.max(maxGap, now - last);
    last = now;
    frames++;
    ctx.clearRect(0, 0, 64, 64);
    ctx.fillRect(32 + 24 * Math.cos(frames / 10), 32 + 24 * Math.sin(frames / 10), 6, 6);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return {
    stop() {
      running = false;
      for (const e of observer.takeRecords()) if (e.startTime >= started) longTasks.push(e.duration);
      observer.disconnect();
      // The gap up to now counts too (a frozen page draws no frame that would record it).
      return { frames, maxFrameGapMs: Math.max(maxGap, performance.now() - last), longTasksMs: longTasks };
    },
  };
}

async function measure(p: Problem): Promise<Measured> {
  const { data, model } = await problem(p);
  const progress: number[] = [];
  const meter = frameMeter();
  const started = performance.now();
  const r = await analyze(model, data, { method: 'dense', backend: 'wasm', onProgress: (f) => progress.push(f) });
  const ms = performance.now() - started;
  // Up to the next frame, so that the task that ran the call has ended and is seen if it was long.
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const frames = meter.stop();
  return { lambdaMax: r.lambdaMax!, loss: r.loss, bound: r.bound!.upper, backend: r.backend, ...frames, progress, ms };
}

/** How a call fails (code and hint), for the page with a missing worker script. */
async function failure(p: Problem): Promise<{ code: string; message: string; hint: string | undefined }> {
  const { data, model } = await problem(p);
  try {
    await analyze(model, data, { method: 'dense', backend: 'wasm' });
    return { code: 'resolved', message: '', hint: undefined };
  } catch (e) {
    return { code: (e as HessboundError).code, message: (e as Error).message, hint: (e as HessboundError).hint };
  }
}

/** Starts an analyze, aborts it at its first progress event, and reports how it ended. */
async function cancelOne(p: Problem): Promise<{ code: string; isHessboundError: boolean; progressBeforeAbort: number }> {
  const { data, model } = await problem(p);
  const controller = new AbortController();
  let seen = 0;
  try {
    await analyze(model, data, {
      method: 'dense',
      backend: 'wasm',
      signal: controller.signal,
      onProgress: () => {
        seen++;
        controller.abort();
      },
    });
    return { code: 'resolved', isHessboundError: false, progressBeforeAbort: seen };
  } catch (e) {
    return { code: (e as HessboundError).code ?? String(e), isHessboundError: e instanceof HessboundError, progressBeforeAbort: seen };
  }
}

/** hessbound/browser bundled into the page's own worker (module or classic), which runs it in-thread. */
function inOwnWorker(kind: 'module' | 'classic', p: Problem): Promise<{ lambdaMax: number; loss: number; progress: number } | { error: string }> {
  const worker = new Worker(new URL(kind === 'module' ? './user-worker.js' : './user-worker-classic.js', import.meta.url), { type: kind });
  return new Promise((resolve) => {
    worker.onmessage = (e) => {
      worker.terminate();
      resolve(e.data);
    };
    worker.onerror = (e) => resolve({ error: e.message || 'worker failed to load' });
    worker.postMessage({ ...p, baseUrl: new URL('/wasm/dist/', location.href).href });
  });
}

Object.assign(window, { hb: { measure, cancelOne, inOwnWorker, failure } });
document.body.dataset.ready = '1';
