/**
 * hessbound/browser in headless Chromium, bundled with esbuild: the page's long kernel calls run in
 * the kernel's module Web Worker, so the page keeps drawing frames during an analyze (the largest
 * requestAnimationFrame gap is measured in the page); progress events arrive; an AbortSignal cancels
 * a call (HessboundError ABORTED) and the next call works on a fresh worker; hessbound/browser
 * bundled into the page's own module and classic workers runs in-thread there. Every lambda_max
 * matches Node's to 1e-9 relative.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import type { Measured, Problem } from './browser-worker/page.js';
import { BACKENDS } from './helpers/backends.js';
import { relErr } from './helpers/fixtures.js';
import { launchChromium, serveStatic } from './helpers/static-server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'test', 'browser-worker');
const OUT = join(ROOT, 'test-artifacts', 'browser-worker');
// Large enough that a dense analyze takes a while in WebAssembly (0.7-2 s on this shared 2-core machine).
const BIG: Problem = { dataset: 'breast_cancer', width: 40, activation: 'tanh' };
const SMALL: Problem = { dataset: 'iris', width: 8, activation: 'tanh' };

/** Bundles like a user's esbuild build: the package by name (here its sources), for the browser. */
async function bundle(entry: string, outfile: string, format: 'esm' | 'iife'): Promise<void> {
  const options: BuildOptions = {
    entryPoints: [join(SRC, entry)],
    outfile: join(OUT, outfile),
    bundle: true,
    format,
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
    alias: { 'hessbound/browser': join(ROOT, 'src', 'browser.ts'), 'hessbound/browser-worker': join(ROOT, 'src', 'browser-worker.ts') },
    // The classic (IIFE) bundle has no import.meta: it configures the asset URLs itself.
    logOverride: { 'unsupported-dynamic-import': 'silent', 'empty-import-meta': 'silent' },
  };
  await build(options);
}

let server: Server;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'wasm', 'dist', 'hessbound-wasm.wasm'))) throw new Error('run npm run build:wasm first');
  mkdirSync(OUT, { recursive: true });
  copyFileSync(join(SRC, 'index.html'), join(OUT, 'index.html'));
  await bundle('page.ts', 'page.js', 'esm');
  // The kernel's worker as esbuild users bundle it: its own entry point, a module worker.
  await build({
    entryPoints: [join(ROOT, 'src', 'browser-worker.ts')], outfile: join(OUT, 'kernel-worker.js'), bundle: true, format: 'esm',
    platform: 'browser', target: 'es2022', logLevel: 'warning', logOverride: { 'unsupported-dynamic-import': 'silent' },
  });
  await bundle('user-worker.ts', 'user-worker.js', 'esm');
  await bundle('user-worker.ts', 'user-worker-classic.js', 'iife');
  server = await serveStatic(ROOT);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 400, height: 300 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  const { port } = server.address() as AddressInfo;
  await page.goto(`http://127.0.0.1:${port}/test-artifacts/browser-worker/index.html`);
  await page.waitForSelector('body[data-ready="1"]', { state: 'attached' });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

async function lambdaMaxInNode(p: Problem): Promise<number> {
  const data = loadDataset(p.dataset);
  const model = randomModel({ inputs: data.d, hidden: [p.width], classes: data.classes, activation: p.activation, seed: 0 });
  return (await analyze(model, data, { method: 'dense', backend: BACKENDS[0] })).lambdaMax!;
}

type Hb = { hb: { measure(p: Problem): Promise<Measured>; cancelOne(p: Problem): Promise<{ code: string; isHessboundError: boolean; progressBeforeAbort: number }>;
  inOwnWorker(kind: 'module' | 'classic', p: Problem): Promise<{ lambdaMax: number; progress: number } | { error: string }> } };

describe('hessbound/browser with the kernel in a Web Worker (esbuild bundle, Chromium)', () => {
  let first: Measured;

  // Frame timing depends on the machine: on a shared 2-core machine other processes sometimes hold
  // the CPU for 100 ms with nothing running on the page's thread. A retry measures again; a page
  // whose thread runs the kernel misses every time (see the worker: false test).
  it('keeps drawing frames during a dense analyze, with progress events, and matches Node', { retry: 2, timeout: 120_000 }, async () => {
    // A first call loads the backend (compiling and instantiating the module in the page and in the
    // worker) and warms up the JavaScript around the kernel call: not what is measured here.
    await page.evaluate((p) => (window as unknown as Hb).hb.measure(p), BIG);
    first = await page.evaluate((p) => (window as unknown as Hb).hb.measure(p), BIG);
    console.log(`dense analyze of ${BIG.dataset} width ${BIG.width} in the kernel worker: ${first.ms.toFixed(0)} ms, ${first.frames} frames, largest gap ${first.maxFrameGapMs.toFixed(1)} ms, long tasks ${JSON.stringify(first.longTasksMs)}`);
    expect(first.backend).toBe('wasm');
    // The page drew many frames while the kernel ran, none more than 100 ms apart, and no task of its
    // thread came near the kernel's time (in-thread, the whole analyze is one task: see below).
    expect(first.frames).toBeGreaterThan(10);
    expect(first.maxFrameGapMs).toBeLessThan(100);
    expect(Math.max(0, ...first.longTasksMs)).toBeLessThan(0.25 * first.ms);
    expect(first.progress.length).toBeGreaterThan(0);
    expect(first.progress.every((f, i, a) => f >= 0 && f <= 1 && (i === 0 || f >= a[i - 1]!))).toBe(true);
    expect(relErr(first.lambdaMax, await lambdaMaxInNode(BIG))).toBeLessThan(1e-9);
  });

  it('cancels a call with an AbortSignal (HessboundError ABORTED); the next call works', async () => {
    const cancelled = await page.evaluate((p) => (window as unknown as Hb).hb.cancelOne(p), BIG);
    expect(cancelled).toEqual({ code: 'ABORTED', isHessboundError: true, progressBeforeAbort: 1 });
    const again = await page.evaluate((p) => (window as unknown as Hb).hb.measure(p), BIG);
    expect(again.lambdaMax).toBe(first.lambdaMax);
  }, 120_000);

  it.each(['module', 'classic'] as const)('runs in-thread inside the page\'s own %s worker', async (kind) => {
    const r = await page.evaluate(([k, p]) => (window as unknown as Hb).hb.inOwnWorker(k, p), [kind, SMALL] as const);
    if ('error' in r) throw new Error(r.error);
    expect(r.progress).toBeGreaterThan(0);
    expect(relErr(r.lambdaMax, await lambdaMaxInNode(SMALL))).toBeLessThan(1e-9);
  }, 120_000);

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });

  it('with configureWasm({ worker: false }) the same analyze blocks the page (what the measurement catches)', async () => {
    const other = await browser.newPage();
    const { port } = server.address() as AddressInfo;
    await other.goto(`http://127.0.0.1:${port}/test-artifacts/browser-worker/index.html?worker=off`);
    await other.waitForSelector('body[data-ready="1"]', { state: 'attached' });
    await other.evaluate((p) => (window as unknown as Hb).hb.measure(p), BIG);
    const r = await other.evaluate((p) => (window as unknown as Hb).hb.measure(p), BIG);
    await other.close();
    expect(relErr(r.lambdaMax, first.lambdaMax)).toBeLessThan(1e-12);
    // The kernel call runs on the page's thread: no frame is drawn while it runs.
    expect(r.maxFrameGapMs).toBeGreaterThan(0.5 * r.ms);
    expect(r.maxFrameGapMs).toBeGreaterThan(100);
  }, 120_000);

  it('a kernel worker script that does not load fails the call with BACKEND and a hint', async () => {
    const other = await browser.newPage();
    const { port } = server.address() as AddressInfo;
    await other.goto(`http://127.0.0.1:${port}/test-artifacts/browser-worker/index.html?worker=missing`);
    await other.waitForSelector('body[data-ready="1"]', { state: 'attached' });
    type Failure = { code: string; message: string; hint?: string };
    const r = await other.evaluate((p) => (window as unknown as { hb: { failure(p: Problem): Promise<Failure> } }).hb.failure(p), SMALL);
    expect(r.code).toBe('BACKEND');
    expect(r.message).toContain('missing-worker.js');
    expect(r.hint).toContain('configureWasm({ worker');
    await other.close();
  }, 120_000);
});
