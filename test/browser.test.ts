/**
 * The browser example in headless Chromium: the page (bundled from src/browser.ts, so no Node
 * built-ins) loads the WebAssembly kernel from a static server, and the loss, exact lambda_max and
 * WS bound it shows match the same model and data analysed in Node to 1e-9 relative.
 * Screenshot: test-artifacts/browser.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import type { Activation } from '../src/types.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildBrowserExample } from '../scripts/build-example.mjs';
import { BACKENDS } from './helpers/backends.js';
import { launchChromium, serveStatic } from './helpers/static-server.js';
import { relErr } from './helpers/fixtures.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');

let server: Server;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'wasm', 'dist', 'hessbound-wasm.wasm'))) throw new Error('run npm run build:wasm first');
  await buildBrowserExample();
  server = await serveStatic(ROOT);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 820, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  const { port } = server.address() as AddressInfo;
  await page.goto(`http://127.0.0.1:${port}/examples/browser/index.html`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** The numbers the page shows (12 significant digits). */
async function shown(): Promise<Record<string, number>> {
  const read = async (id: string) => Number(await page.locator(`#${id}`).textContent());
  return { loss: await read('loss'), lambdaMax: await read('lambda-max'), bound: await read('ws-bound'), ratio: await read('ratio'), lambdaMin: await read('lambda-min') };
}

async function inNode(dataset: string, width: number, activation: Activation): Promise<Record<string, number>> {
  const data = loadDataset(dataset);
  const model = randomModel({ inputs: data.d, hidden: [width], classes: data.classes, activation, seed: 0 });
  const r = await analyze(model, data, { method: 'dense', backend: BACKENDS[0] });
  return { loss: r.loss, lambdaMax: r.lambdaMax!, bound: r.bound!.upper, ratio: r.boundRatio!, lambdaMin: r.lambdaMin! };
}

async function waitDone(text: string): Promise<void> {
  await page.waitForFunction(
    (t) => {
      const s = document.getElementById('status');
      return s?.dataset.state === 'error' || (s?.dataset.state === 'done' && s.textContent!.startsWith(t));
    },
    text,
    { timeout: 60_000 },
  );
  expect(await page.locator('#status').getAttribute('data-state'), (await page.locator('#status').textContent()) ?? '').toBe('done');
}

describe('the browser example in headless Chromium', () => {
  it('shows the Node results for the default choice (iris, width 8, tanh)', async () => {
    await waitDone('iris, hidden width 8, tanh');
    expect(await page.locator('#backend').textContent()).toMatch(/^wasm/);
    const [got, want] = [await shown(), await inNode('iris', 8, 'tanh')];
    for (const key of Object.keys(want)) expect(relErr(got[key]!, want[key]!), key).toBeLessThan(1e-9);
  }, 90_000);

  it.each([
    ['wine', 16, 'gelu'],
    ['breast_cancer', 6, 'softplus'],
    ['iris', 12, 'relu'],
  ] as const)('after picking %s, width %i, %s it shows the Node results', async (dataset, width, activation) => {
    await page.selectOption('#dataset', dataset);
    await page.fill('#width', String(width));
    await page.selectOption('#activation', activation);
    await page.click('#run');
    await waitDone(`${dataset}, hidden width ${width}, ${activation}`);
    const [got, want] = [await shown(), await inNode(dataset, width, activation)];
    for (const key of Object.keys(want)) expect(relErr(got[key]!, want[key]!), key).toBeLessThan(1e-9);
    // The chart: one dot per eigenvalue plus the lambda_max and WS bound lines.
    expect(await page.locator('#chart svg circle').count()).toBe(Number((await page.locator('#shape').textContent())!.split(' ')[0]));
    expect(await page.locator('#chart svg line').count()).toBeGreaterThanOrEqual(3);
    // The density plot of the views (issue 12): the smoothed spectrum with lambda_max marked.
    expect(await page.locator('#density svg polyline').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#density svg').textContent()).toContain('\u03bbmax');
  }, 90_000);

  it('raised no page errors and saves a screenshot', async () => {
    expect(pageErrors).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'browser.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'browser.png'))).toBe(true);
  });
});
