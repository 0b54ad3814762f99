/**
 * The browser example in headless Chromium, served twice: with the COOP/COEP headers (a
 * cross-origin-isolated page: SharedArrayBuffer, so the threaded build hessbound-wasm-mt runs its
 * pthread workers beside the kernel's Web Worker) and without them (the automatic fallback to the
 * single-threaded build). Asked for 2 threads (?threads=2), the isolated page must report
 * `wasm-threads` with 2 threads used by the matrix-free Lanczos lambda_max, the other page `wasm` on
 * 1 thread; both show Node's numbers (to 1e-9 relative) and exactly the same digits as each other.
 * Forced to the threaded build (?backend=wasm-threads), the page without the headers shows the
 * BACKEND error naming the headers to add, not a hang or a silent fallback.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildBrowserExample } from '../scripts/build-example.mjs';
import { relErr } from './helpers/fixtures.js';
import { launchChromium, serveStatic } from './helpers/static-server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const IDS = ['loss', 'lambda-max', 'lambda-lanczos', 'ws-bound', 'lambda-min'] as const;

interface Shown {
  isolated: boolean;
  state: string;
  message: string;
  backend: string;
  texts: Record<string, string>;
  errors: string[];
}

let browser: Browser;

beforeAll(async () => {
  await buildBrowserExample();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

/**
 * Opens the example (default choice: iris, width 8, tanh) on a server with `headers` and reads what
 * it shows; `expected` is the state the page must end in.
 */
async function openExample(headers: Record<string, string>, query = '?threads=2', expected = 'done'): Promise<Shown> {
  const server: Server = await serveStatic(ROOT, headers);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  try {
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/examples/browser/index.html${query}`);
    await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('status')?.dataset.state ?? ''), undefined, { timeout: 90_000 });
    const state = (await page.locator('#status').getAttribute('data-state')) ?? '';
    const message = (await page.locator('#status').textContent()) ?? '';
    expect(state, message).toBe(expected);
    const texts: Record<string, string> = {};
    for (const id of IDS) texts[id] = (await page.locator(`#${id}`).textContent()) ?? '';
    return {
      isolated: await page.evaluate(() => crossOriginIsolated),
      state,
      message,
      backend: (await page.locator('#backend').textContent()) ?? '',
      texts,
      errors,
    };
  } finally {
    await page.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('the browser example with and without cross-origin isolation', () => {
  let threaded: Shown;
  let single: Shown;
  let node: Record<string, number>;

  beforeAll(async () => {
    const data = loadDataset('iris');
    const model = randomModel({ inputs: data.d, hidden: [8], classes: data.classes, activation: 'tanh', seed: 0 });
    const dense = await analyze(model, data, { method: 'dense', backend: 'wasm' });
    const lanczos = await analyze(model, data, { method: 'lanczos', which: 'largest', k: 1, tolerance: 1e-10, bound: false, backend: 'wasm' });
    node = { loss: dense.loss, 'lambda-max': dense.lambdaMax!, 'lambda-lanczos': lanczos.lambdaMax!, 'ws-bound': dense.bound!.upper, 'lambda-min': dense.lambdaMin! };
  }, 120_000);

  it('with COOP/COEP: crossOriginIsolated, the threaded build on 2 threads, Node\'s numbers', async () => {
    threaded = await openExample(ISOLATION);
    expect(threaded.isolated).toBe(true);
    expect(threaded.backend).toMatch(/^wasm-threads \(relaxed SIMD\), 2 threads, /);
    for (const id of IDS) expect(relErr(Number(threaded.texts[id]), node[id]!), id).toBeLessThan(1e-9);
    expect(threaded.errors).toEqual([]);
  }, 150_000);

  it('without them: not isolated, the single-threaded fallback, the same digits', async () => {
    single = await openExample({});
    expect(single.isolated).toBe(false);
    expect(single.backend).toMatch(/^wasm \(relaxed SIMD\), 1 thread, /);
    for (const id of IDS) expect(relErr(Number(single.texts[id]), node[id]!), id).toBeLessThan(1e-9);
    expect(single.texts).toEqual(threaded.texts);
    expect(single.errors).toEqual([]);
  }, 150_000);

  it('forced to the threaded build without them: the BACKEND error, naming the headers', async () => {
    const forced = await openExample({}, '?threads=2&backend=wasm-threads', 'error');
    expect(forced.isolated).toBe(false);
    expect(forced.message).toContain('needs SharedArrayBuffer');
    expect(forced.message).toContain('crossOriginIsolated is false');
    expect(forced.message).toContain('Cross-Origin-Embedder-Policy: require-corp');
  }, 150_000);

  it('forced to the threaded build with them: it runs, with Node\'s numbers', async () => {
    const forced = await openExample(ISOLATION, '?threads=2&backend=wasm-threads');
    expect(forced.backend).toMatch(/^wasm-threads \(relaxed SIMD\), 2 threads, /);
    expect(forced.texts).toEqual(threaded.texts);
    expect(forced.errors).toEqual([]);
  }, 150_000);
});
