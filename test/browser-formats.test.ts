/**
 * The example page's drop zone in headless Chromium: a dropped .onnx / .safetensors model and
 * .npz / CSV data are parsed in the page (browser entry: parseModel, parseData) and analysed by the
 * WebAssembly kernel; the numbers match the reference fixture (or Node on the same files) to 1e-9,
 * and a corrupt file shows the parser's error in the page.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { parseData, parseModel } from '../src/io/model-source.js';
import { standardize } from '../src/data.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildBrowserExample } from '../scripts/build-example.mjs';
import { BACKENDS } from './helpers/backends.js';
import { launchChromium, serveStatic } from './helpers/static-server.js';
import { FIXTURE_DIR, loadFixtures, relErr } from './helpers/fixtures.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const INTEROP = join(FIXTURE_DIR, 'interop');

let server: Server;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  await buildBrowserExample();
  server = await serveStatic(ROOT);
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/examples/browser/index.html`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** Drops files on the zone as a user's drag and drop does (a DataTransfer with File objects). */
async function drop(paths: string[]): Promise<void> {
  const files = paths.map((p) => ({ name: p.split('/').pop()!, base64: readFileSync(p).toString('base64') }));
  const transfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name));
    return dt;
  }, files);
  await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: transfer });
}

async function settled(): Promise<{ state: string; text: string }> {
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('own-status')?.dataset['state'] ?? ''), null, { timeout: 60_000 });
  const status = page.locator('#own-status');
  return { state: (await status.getAttribute('data-state')) ?? '', text: (await status.textContent()) ?? '' };
}

async function shown(): Promise<Record<string, number>> {
  const read = async (id: string) => Number(await page.locator(`#${id}`).textContent());
  return { loss: await read('own-loss'), lambdaMax: await read('own-lambda-max'), bound: await read('own-ws-bound'), lambdaMin: await read('own-lambda-min') };
}

describe('the example page reads dropped PyTorch models and NumPy/CSV data', () => {
  it('a dropped .onnx model with .npz data reproduces the reference fixture', async () => {
    await drop([join(INTEROP, 'iris-tanh-h8.sequential.f64.onnx'), join(INTEROP, 'iris.npz')]);
    const s = await settled();
    expect(s.state, s.text).toBe('done');
    const e = loadFixtures().find((f) => f.name === 'iris-tanh-h8')!.expected;
    const got = await shown();
    // The page prints 12 significant digits.
    for (const [key, want] of [['loss', e.loss], ['lambdaMax', e.lambdaMax], ['bound', e.bound.upper], ['lambdaMin', e.lambdaMin]] as const) {
      expect(relErr(got[key]!, want), key).toBeLessThan(1e-9);
    }
  }, 90_000);

  it('a chosen .safetensors model (activation from the select) with CSV data matches Node', async () => {
    const model = join(INTEROP, 'synth-gelu-h7-soft.nested.f32.safetensors'); // no activation metadata
    await page.selectOption('#own-activation', 'gelu');
    const csv = join(ROOT, 'data', 'iris.csv');
    // The gelu net takes 5 inputs; iris has 4: first the width mismatch is reported in the page.
    await page.setInputFiles('#own-input', [model, csv]);
    const mismatch = await settled();
    expect(mismatch.state).toBe('error');
    expect(mismatch.text).toMatch(/takes 5 input features but the data has 4/);
    // Then the model of the right width on the same CSV.
    const iris = join(INTEROP, 'iris-tanh-h8.sequential.f32.safetensors');
    await page.selectOption('#own-activation', '');
    await page.setInputFiles('#own-input', [iris]);
    const s = await settled();
    expect(s.state, s.text).toBe('done');
    const r = await analyze(parseModel(readFileSync(iris)), standardize(parseData(readFileSync(csv), { fileName: 'iris.csv' })), { method: 'dense', backend: BACKENDS[0] });
    const got = await shown();
    for (const [key, want] of [['loss', r.loss], ['lambdaMax', r.lambdaMax!], ['bound', r.bound!.upper]] as const) {
      expect(relErr(got[key]!, want), key).toBeLessThan(1e-9);
    }
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.locator('#own-files').screenshot({ path: join(ROOT, 'test-artifacts', 'browser-formats.png') });
  }, 90_000);

  it('a truncated file shows the parser\'s error', async () => {
    const bytes = readFileSync(join(INTEROP, 'wine-softplus-h5x4.named.f64.safetensors'));
    const transfer = await page.evaluateHandle((b64) => {
      const dt = new DataTransfer();
      const all = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([all.subarray(0, 100)], 'broken.safetensors'));
      return dt;
    }, bytes.toString('base64'));
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: transfer });
    const s = await settled();
    expect(s.state).toBe('error');
    expect(s.text).toMatch(/safetensors header length is \d+ bytes but only 92 bytes follow/);
    expect(await page.locator('#own-results').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
