/**
 * Bundlers that rewrite `new URL(..., import.meta.url)` find the package's assets and kernel worker
 * by themselves: a Vite app (test/browser-vite/) that imports hessbound/browser by its package name
 * and never calls configureWasm is built with Vite (production build), served alone (only its build
 * output: nothing of the package is reachable), and analyzes in headless Chromium with the kernel in
 * a Web Worker. Served again with the COOP/COEP headers (docs/wasm.md) it runs the threaded build on
 * the cores (Vite inlines the 3 kB pthread worker script as a data: URL, which COEP refused: the
 * page hung); with threads that never start, it falls back to one thread with a warning, and a call
 * forced to 'wasm-threads' fails with BACKEND instead of hanging.
 * Uses the compiled package (dist/, from npm run build:ts), as an installed package would.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { BACKENDS } from './helpers/backends.js';
import { relErr } from './helpers/fixtures.js';
import { launchChromium, serveStatic } from './helpers/static-server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const APP = join(ROOT, 'test', 'browser-vite');
const OUT = join(ROOT, 'test-artifacts', 'browser-vite');

const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
let server: Server;
let isolatedServer: Server;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

interface Run { lambdaMax: number; backend: string; progress: number; workers: string[]; threads: number; warnings: string[]; isolated: boolean; cores: number }

async function openApp(srv: Server, query = ''): Promise<{ page: Page; errors: string[] }> {
  const p = await browser.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  const { port } = srv.address() as AddressInfo;
  await p.goto(`http://127.0.0.1:${port}/index.html${query}`);
  await p.waitForSelector('body[data-ready="1"]', { state: 'attached' });
  return { page: p, errors };
}

function run(p: Page, width: number, method: 'dense' | 'lanczos', backend = 'wasm'): Promise<Run> {
  return p.evaluate(([w, m, b]) => (window as unknown as { run(w: number, m: string, b: string): Promise<Run> }).run(w, m, b), [width, method, backend] as const);
}

async function nodeLambdaMax(width: number): Promise<number> {
  const data = loadDataset('breast_cancer');
  const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation: 'tanh', seed: 0 });
  return (await analyze(model, data, { method: 'dense', backend: BACKENDS[0] })).lambdaMax!;
}

beforeAll(async () => {
  for (const f of ['dist/src/browser.js', 'dist/src/browser-worker.js', 'wasm/dist/hessbound-wasm.wasm'])
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run npm run build:wasm and npm run build:ts first`);
  // The app's node_modules/hessbound is this package, as `npm install` would link it.
  const modules = join(OUT, 'node_modules');
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(modules, { recursive: true });
  symlinkSync(ROOT, join(modules, 'hessbound'), 'dir');
  await build({
    configFile: false,
    root: APP,
    logLevel: 'warn',
    resolve: { preserveSymlinks: false },
    // Resolve bare imports from the app's own node_modules (it lives in the test tree, not in OUT).
    plugins: [{
      name: 'app-node-modules',
      enforce: 'pre',
      async resolveId(source, importer) {
        if (source !== 'hessbound/browser') return null;
        return this.resolve(source, join(modules, 'app.js'), { skipSelf: true });
      },
    }],
    build: { outDir: join(OUT, 'dist'), emptyOutDir: true, target: 'es2022' },
  });
  server = await serveStatic(join(OUT, 'dist'));
  isolatedServer = await serveStatic(join(OUT, 'dist'), ISOLATION);
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  const { port } = server.address() as AddressInfo;
  await page.goto(`http://127.0.0.1:${port}/index.html`);
  await page.waitForSelector('body[data-ready="1"]', { state: 'attached' });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await new Promise((resolve) => isolatedServer?.close(resolve));
});

describe('hessbound/browser in a Vite build, without configureWasm', () => {
  it('emits the .wasm, the glue and the kernel worker as assets', () => {
    const assets = readdirSync(join(OUT, 'dist', 'assets'));
    expect(assets.some((f) => /^hessbound-wasm.*\.wasm$/.test(f)), assets.join(' ')).toBe(true);
    expect(assets.some((f) => /^hessbound-wasm.*\.js$/.test(f)), assets.join(' ')).toBe(true);
    expect(assets.some((f) => /^browser-worker.*\.js$/.test(f)), assets.join(' ')).toBe(true);
  });

  it('analyzes in the kernel worker, with progress and the Node result', async () => {
    const width = 16;
    const r = await run(page, width, 'dense');
    expect(r.isolated).toBe(false);
    expect(r.backend).toBe('wasm');
    expect(r.workers).toHaveLength(1);
    expect(r.workers[0]).toMatch(/\/assets\/browser-worker[^/]*\.js$/);
    expect(r.progress).toBeGreaterThan(0);
    expect(relErr(r.lambdaMax, await nodeLambdaMax(width))).toBeLessThan(1e-9);
  }, 120_000);

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('the same Vite build served with COOP/COEP (cross-origin isolated)', () => {
  it('runs the threaded build on every core (hardwareConcurrency, at most 8), and settles', async () => {
    const { page: p, errors } = await openApp(isolatedServer);
    // Wide enough that the kernel's work-based choice asks for all 8 sample chunks' threads.
    const width = 900;
    const r = await run(p, width, 'lanczos');
    expect(r.isolated).toBe(true);
    expect(r.backend).toBe('wasm-threads');
    expect(r.threads).toBe(Math.min(8, r.cores));
    expect(r.threads).toBeGreaterThan(1);
    expect(r.warnings).toEqual([]);
    expect(r.workers).toHaveLength(1); // the kernel worker; the pthread workers start from blob: URLs
    const dense = await run(p, 16, 'dense');
    expect(relErr(dense.lambdaMax, await nodeLambdaMax(16))).toBeLessThan(1e-9);
    expect(errors).toEqual([]);
    await p.close();
  }, 180_000);

  it('threads that never start: one thread with a warning, and a forced wasm-threads fails fast', async () => {
    const { page: p, errors } = await openApp(isolatedServer, '?break');
    const started = Date.now();
    const r = await run(p, 16, 'dense');
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(r.isolated).toBe(true);
    expect(r.backend).toBe('wasm');
    expect(r.warnings.join('\n')).toMatch(/hessbound: using the single-threaded WebAssembly build: the threaded WebAssembly build's threads did not start: no answer from its 1 pthread worker\(s\) within 1\.5 s/);
    expect(relErr(r.lambdaMax, await nodeLambdaMax(16))).toBeLessThan(1e-9);
    const forced = await p.evaluate(() => (window as unknown as { forceThreads(): Promise<{ ok: boolean; code?: string; message?: string }> }).forceThreads());
    expect(forced).toMatchObject({ ok: false, code: 'BACKEND' });
    expect(forced.message).toMatch(/threads did not start/);
    expect(errors).toEqual([]);
    await p.close();
  }, 180_000);
});
