/**
 * Test page (bundled by test/browser-worker.test.ts with esbuild): hessbound/browser in a page, its
 * long calls in the kernel's Web Worker (a module worker bundled from hessbound/browser-worker), while
 * requestAnimationFrame keeps drawing; and hessbound/browser bundled into the page's own module and
 * classic workers, where it runs in-thread.
 */
import { analyze, configureWasm, HessboundError, parseCsv, randomModel, standardize, type Dataset } from 'hessbound/browser';
import type { Activation } from '../../src/types.js';

configureWasm({ baseUrl: new URL('/wasm/dist/', location.href), worker: new URL('./kernel-worker.js', import.meta.url) });

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
function frameMeter(): { stop: () => { frames: number; maxFrameGapMs: number } } {
  const ctx = (document.getElementById('spinner') as HTMLCanvasElement).getContext('2d')!;
  let last = performance.now();
  let maxGap = 0;
  let frames = 0;
  let running = true;
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
      // The gap up to now counts too (a frozen page draws no frame that would record it).
      return { frames, maxFrameGapMs: Math.max(maxGap, performance.now() - last) };
    },
  };
}

async function measure(p: Problem): Promise<Measured> {
  const { data, model } = await problem(p);
  const progress: number[] = [];
  const meter = frameMeter();
  const started = performance.now();
  const r = await analyze(model, data, { method: 'dense', backend: 'wasm', onProgress: (f) => progress.push(f) });
  const frames = meter.stop();
  return { lambdaMax: r.lambdaMax!, loss: r.loss, bound: r.bound!.upper, backend: r.backend, ...frames, progress, ms: performance.now() - started };
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

Object.assign(window, { hb: { measure, cancelOne, inOwnWorker } });
document.body.dataset.ready = '1';
