/**
 * Every plot the CLI can write, and every image under docs/images/, opened in headless Chromium as a
 * standalone SVG file (strict XML, as a browser shows a file or a README's <img>): it parses, and
 * no text leaves the canvas or overlaps another text. The plots come from real CLI runs on small
 * problems, on every backend (their numbers are tested in cli-views and cli-sweep); the hard cases are a sweep over 5 rho values x 2 activations (10 groups) and a
 * sweep whose data set is a content id (sha256:<64 hex>, as queue sweeps of file data have).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepPlotSvg } from '../src/sweep/plot.js';
import type { SweepResult } from '../src/sweep/result.js';
import { BACKENDS } from './helpers/backends.js';
import { ROOT, runCli } from './helpers/cli.js';
import { renderingProblems, renderSvgFile } from './helpers/render-svg.js';
import { launchChromium } from './helpers/static-server.js';

const root = mkdtempSync(join(tmpdir(), 'hb-plots-'));

/** Each plot the CLI writes: the file and the command that writes it. */
const CLI_PLOTS: Array<{ name: string; args: (plot: string, dir: string) => string[] }> = [
  { name: 'density-slq', args: (p) => ['spectrum', '--dataset', 'iris', '--hidden', '8', '--method', 'slq', '--probes', '4', '--steps', '20', '--plot', p] },
  { name: 'density-dense', args: (p) => ['spectrum', '--dataset', 'iris', '--hidden', '6', '--method', 'dense', '--plot', p] },
  { name: 'density-no-bound', args: (p) => ['spectrum', '--dataset', 'wine', '--hidden', '5', '--method', 'dense', '--no-bound', '--plot', p] },
  { name: 'landscape-1d', args: (p) => ['landscape', '--dataset', 'iris', '--hidden', '4', '--k', '2', '--points', '21', '--plot', p] },
  {
    name: 'landscape-1d-relu-kinks',
    args: (p) => ['landscape', '--model', join(ROOT, 'test/fixtures/iris-relu-h8.model.json'), '--data', join(ROOT, 'test/fixtures/iris-relu-h8.data.json'), '--k', '2', '--points', '41', '--plot', p],
  },
  { name: 'landscape-1d-random', args: (p) => ['landscape', '--dataset', 'iris', '--hidden', '4', '--directions', 'random', '--points', '21', '--plot', p] },
  { name: 'landscape-2d', args: (p) => ['landscape', '--dataset', 'iris', '--hidden', '4', '--dimensions', '2', '--points', '9', '--plot', p] },
  { name: 'landscape-2d-random', args: (p) => ['landscape', '--dataset', 'iris', '--hidden', '4', '--dimensions', '2', '--directions', 'random', '--points', '9', '--plot', p] },
  { name: 'track', args: (p, dir) => ['train', '--dataset', 'iris', '--hidden', '6', '--max-steps', '40', '--adam-steps', '10', '--track', '5', '--out', join(dir, 'tracked.json'), '--plot', p] },
  { name: 'sweep-single', args: (p, dir) => ['sweep', '--dataset', 'iris', '--widths', '2,4,8', '--seeds', '2', '--out', join(dir, 'single.csv'), '--overwrite', '--plot', p] },
  {
    name: 'sweep-datasets-depths',
    args: (p, dir) => ['sweep', '--datasets', 'iris,wine', '--depths', '1,2', '--widths', '2,4', '--seeds', '1', '--out', join(dir, 'dd.csv'), '--overwrite', '--plot', p],
  },
  {
    name: 'sweep-rhos-activations',
    args: (p, dir) => ['sweep', '--dataset', 'synthetic:n=24,d=32,classes=3', '--rhos', '0,0.25,0.5,0.75,0.9', '--activations', 'tanh,sigmoid', '--widths', '4,16', '--seeds', '1',
      '--test-fraction', '0.25', '--out', join(dir, 'rho.csv'), '--overwrite', '--plot', p, '--json'],
  },
];

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe.each(BACKENDS)('every plot the CLI writes renders cleanly as a standalone SVG in Chromium (%s)', (backend) => {
  const dir = join(root, backend);
  const files: Record<string, string> = {};

  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    const quiet = ['--backend', backend, '--quiet'];
    let multiAxisRows: SweepResult[] = [];
    for (const plot of CLI_PLOTS) {
      const file = join(dir, `${plot.name}.svg`);
      const r = runCli([...plot.args(file, dir), ...quiet]);
      expect(r.status, `${plot.name}: ${r.stderr}`).toBe(0);
      files[plot.name] = file;
      if (plot.name === 'sweep-rhos-activations') multiAxisRows = (JSON.parse(r.stdout) as { rows: SweepResult[] }).rows;
    }
    const demo = runCli(['demo', '--out-dir', dir, ...quiet]);
    expect(demo.status, demo.stderr).toBe(0);
    files['demo'] = join(dir, 'hessbound-demo.svg');
    // The plot of a queue sweep over file data, whose data set is its content id.
    const contentId = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const write = (name: string, rows: SweepResult[]) => {
      files[name] = join(dir, `${name}.svg`);
      writeFileSync(files[name], sweepPlotSvg(rows));
    };
    write('sweep-content-id', multiAxisRows.filter((r) => r.activation === 'tanh').map((r) => ({ ...r, dataset: contentId, rho: null })));
    // Degenerate sweeps: every point flagged; no positive value at all (a placeholder panel).
    write('sweep-all-flagged', multiAxisRows.map((r) => ({ ...r, flags: 'saturated', converged: false })));
    write('sweep-no-positive', multiAxisRows.slice(0, 2).map((r) => ({ ...r, lambdaMax: -1, bound: -1, ratio: null })));
  }, 600_000);

  it.each([...CLI_PLOTS.map((p) => p.name), 'demo', 'sweep-content-id', 'sweep-all-flagged', 'sweep-no-positive'])('%s', async (name) => {
    const rendering = await renderSvgFile(browser, files[name] as string);
    expect(renderingProblems(rendering)).toEqual([]);
    expect(rendering.texts.length).toBeGreaterThan(8);
  });

  it('the multi-axis title names every rho value and activation, and no legend label repeats an axis value', () => {
    const svg = readFileSync(files['sweep-rhos-activations'] as string, 'utf8');
    const title = /<title>([^<]*)<\/title>/.exec(svg)?.[1] ?? '';
    expect(title).toContain('rho 5 values, 0 to 0.9');
    expect(title).toMatch(/tanh, sigmoid|sigmoid, tanh/);
    expect(title).not.toContain('rho=');
    const legend = [...svg.matchAll(/>(rho [^<]*)</g)].map((m) => m[1] as string);
    expect(legend).toHaveLength(10);
    for (const text of legend) expect(text).toMatch(/^rho [\d.]+, (tanh|sigmoid)$/);
  });
});

describe('every image under docs/images/ renders cleanly as a standalone SVG in Chromium', () => {
  const images = readdirSync(join(ROOT, 'docs', 'images')).filter((f) => f.endsWith('.svg'));
  it.each(images)('docs/images/%s', async (image) => {
    const rendering = await renderSvgFile(browser, join(ROOT, 'docs', 'images', image));
    expect(renderingProblems(rendering)).toEqual([]);
  });
});
