/**
 * Bundlers that rewrite `new URL(..., import.meta.url)` find the package's assets and kernel worker
 * by themselves: a Vite app (test/browser-vite/) that imports hessbound/browser by its package name
 * and never calls configureWasm is built with Vite, served alone (only its build output: nothing of
 * the package is reachable), and analyzes in headless Chromium with the kernel in a Web Worker.
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

let server: Server;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

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
    type Run = { lambdaMax: number; backend: string; progress: number; workers: string[] };
    const r = await page.evaluate((w) => (window as unknown as { run(w: number): Promise<Run> }).run(w), width);
    expect(r.backend).toBe('wasm');
    expect(r.workers).toHaveLength(1);
    expect(r.workers[0]).toMatch(/\/assets\/browser-worker[^/]*\.js$/);
    expect(r.progress).toBeGreaterThan(0);
    const data = loadDataset('breast_cancer');
    const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation: 'tanh', seed: 0 });
    const want = (await analyze(model, data, { method: 'dense', backend: BACKENDS[0] })).lambdaMax!;
    expect(relErr(r.lambdaMax, want)).toBeLessThan(1e-9);
  }, 120_000);

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
