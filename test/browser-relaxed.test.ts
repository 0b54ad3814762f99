/**
 * The relaxed-SIMD build in Debian's Chromium (which has relaxed SIMD by default): the example page
 * picks it by itself (its `WebAssembly.validate` probe passes) and says so, single-threaded and
 * threaded (cross-origin isolated); ?wasmModule=simd128 forces the SIMD128 build. The relaxed page's
 * lambda_max (dense and Lanczos, every digit) agrees with the SIMD128 page's and with Node's SIMD128
 * build to 1e-12 relative. A relaxed page that fell back to SIMD128 would show "SIMD128" and fail.
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

let browser: Browser;

beforeAll(async () => {
  await buildBrowserExample();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

interface Shown {
  backend: string;
  lambdaMax: number;
  lambdaLanczos: number;
  probe: boolean;
  errors: string[];
}

/** The example's default choice (iris, width 8, tanh), on a server with `headers`. */
async function openExample(headers: Record<string, string>, query: string): Promise<Shown> {
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
    expect(await page.locator('#status').getAttribute('data-state'), (await page.locator('#status').textContent()) ?? '').toBe('done');
    const exact = async (id: string) => Number(await page.locator(`#${id}`).getAttribute('data-exact'));
    // The engine's own answer to the same probe, outside the library.
    const probe = await page.evaluate(() => {
      const splat = [0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0x14];
      const body = [0, ...splat, ...splat, ...splat, 0xfd, 0x87, 0x02, 0x0b];
      return WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, body.length + 2, 1, body.length, ...body]));
    });
    return { backend: (await page.locator('#backend').textContent()) ?? '', lambdaMax: await exact('lambda-max'), lambdaLanczos: await exact('lambda-lanczos'), probe, errors };
  } finally {
    await page.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('the relaxed-SIMD build in Chromium', () => {
  let node: { lambdaMax: number; lambdaLanczos: number };
  let simd128: Shown;

  beforeAll(async () => {
    const data = loadDataset('iris');
    const model = randomModel({ inputs: data.d, hidden: [8], classes: data.classes, activation: 'tanh', seed: 0 });
    const dense = await analyze(model, data, { method: 'dense', backend: 'wasm' });
    const lanczos = await analyze(model, data, { method: 'lanczos', which: 'largest', k: 1, tolerance: 1e-10, bound: false, backend: 'wasm' });
    node = { lambdaMax: dense.lambdaMax!, lambdaLanczos: lanczos.lambdaMax! };
    simd128 = await openExample({}, '?wasmModule=simd128');
  }, 180_000);

  it('?wasmModule=simd128 runs the SIMD128 build, with Node\'s numbers', () => {
    expect(simd128.backend).toMatch(/^wasm \(SIMD128\), 1 thread, /);
    expect(relErr(simd128.lambdaMax, node.lambdaMax)).toBeLessThan(1e-12);
    expect(relErr(simd128.lambdaLanczos, node.lambdaLanczos)).toBeLessThan(1e-12);
    expect(simd128.errors).toEqual([]);
  });

  it.each([
    ['not isolated: single-threaded', {}, '', /^wasm \(relaxed SIMD\), 1 thread, /],
    ['cross-origin isolated: threaded', ISOLATION, '?threads=2', /^wasm-threads \(relaxed SIMD\), 2 threads, /],
  ] as const)('%s, it picks the relaxed build by itself; lambda_max to 1e-12 of SIMD128', async (_, headers, query, backend) => {
    const relaxed = await openExample(headers, query);
    expect(relaxed.probe).toBe(true);
    expect(relaxed.backend).toMatch(backend);
    expect(relErr(relaxed.lambdaMax, simd128.lambdaMax)).toBeLessThan(1e-12);
    expect(relErr(relaxed.lambdaLanczos, simd128.lambdaLanczos)).toBeLessThan(1e-12);
    expect(relaxed.errors).toEqual([]);
  }, 150_000);
});
