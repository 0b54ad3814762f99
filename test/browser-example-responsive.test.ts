/**
 * The example page stays responsive (issue 9): its kernel runs in a Web Worker, a progress bar moves,
 * Cancel stops a long dense analyze (the status says cancelled) and the next run shows results; the
 * spectrum chart takes the width of the viewport and has ticks on both axes.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildBrowserExample } from '../scripts/build-example.mjs';
import { launchChromium, serveStatic } from './helpers/static-server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

let server: Server;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  await buildBrowserExample();
  server = await serveStatic(ROOT);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  const { port } = server.address() as AddressInfo;
  await page.goto(`http://127.0.0.1:${port}/examples/browser/index.html`);
  await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'done', undefined, { timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const svgWidth = () => page.evaluate(() => Number(document.querySelector('#chart svg')?.getAttribute('width')));
const chartWidth = () => page.evaluate(() => document.getElementById('chart')!.clientWidth);

describe('the example page stays responsive', () => {
  it('draws the chart at the width of the viewport, with ticks on both axes', async () => {
    expect(await svgWidth()).toBe(await chartWidth());
    // Tick labels: numbers under the x axis (eigenvalue index) and left of the y axis.
    const ticks = await page.evaluate(() => {
      const texts = [...document.querySelectorAll('#chart svg text')];
      return {
        x: texts.filter((t) => t.getAttribute('text-anchor') === 'middle').map((t) => Number(t.textContent)),
        y: texts.filter((t) => t.getAttribute('text-anchor') === 'end').map((t) => Number(t.textContent)),
      };
    });
    expect(ticks.x.length).toBeGreaterThanOrEqual(3);
    expect(ticks.y.length).toBeGreaterThanOrEqual(3);
    for (const axis of [ticks.x, ticks.y]) expect(axis.every((v, i) => Number.isFinite(v) && (i === 0 || v > axis[i - 1]!))).toBe(true);
    const wide = await svgWidth();
    await page.setViewportSize({ width: 420, height: 900 });
    await page.waitForFunction((w) => Number(document.querySelector('#chart svg')?.getAttribute('width')) < w, wide);
    expect(await svgWidth()).toBe(await chartWidth());
    expect(await svgWidth()).toBeLessThanOrEqual(420);
    await page.setViewportSize({ width: 900, height: 900 });
  });

  it('shows progress and cancels a long analyze; the next run shows results', async () => {
    await page.selectOption('#dataset', 'breast_cancer');
    await page.fill('#width', '64'); // 2114 parameters: a dense analyze of several seconds in WebAssembly
    await page.click('#run');
    await page.waitForFunction(() => (document.getElementById('progress') as HTMLProgressElement).value > 0, undefined, { timeout: 60_000 });
    expect(await page.locator('#status').getAttribute('data-state')).toBe('running');
    expect(await page.locator('#cancel').isVisible()).toBe(true);
    await page.click('#cancel'); // the page responds to the click while the kernel works
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state !== 'running', undefined, { timeout: 60_000 });
    expect(await page.locator('#status').getAttribute('data-state')).toBe('cancelled');
    expect(await page.locator('#status').textContent()).toContain('cancelled');
    expect(await page.locator('#cancel').isVisible()).toBe(false);

    await page.selectOption('#dataset', 'iris');
    await page.fill('#width', '4');
    await page.click('#run');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state !== 'running', undefined, { timeout: 60_000 });
    expect(await page.locator('#status').textContent()).toBe('iris, hidden width 4, tanh: done.');
    expect(await page.locator('#shape').textContent()).toBe('35 × 150');
  }, 120_000);

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
