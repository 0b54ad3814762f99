/**
 * hessbound study end to end (issue 24): a tiny grid on iris, the CSV rows checked against the
 * JSON, tau recomputed from the CSV by the textbook pair-counting definition; a grid over the
 * learning rate, batch size, activation, training-set size and a rho grid of the adaptive
 * measures, and one over rho of synthetic data, with tau and granulated tau recomputed from the
 * CSV by scipy (bench/peers/study_tau.py; python3-scipy, installed by scripts/setup.sh); and the
 * bad-input cases (unknown measure, empty grid, a target no network reaches).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StudyResult } from '../src/study/study.js';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { checkSvg } from './helpers/svg.js';

/** Kendall tau-b by concordant/discordant pairs and tie counts, written out here. */
function referenceTauB(x: number[], y: number[]): number {
  let nc = 0, nd = 0, tx = 0, ty = 0;
  for (let i = 0; i < x.length; i++)
    for (let j = i + 1; j < x.length; j++) {
      const p = (x[i]! - x[j]!) * (y[i]! - y[j]!);
      if (x[i] === x[j]) tx++;
      if (y[i] === y[j]) ty++;
      if (p > 0) nc++;
      else if (p < 0) nd++;
    }
  const n0 = (x.length * (x.length - 1)) / 2;
  return (nc - nd) / Math.sqrt((n0 - tx) * (n0 - ty));
}

/** tau and granulated tau per measure, from the CSV, by scipy.stats.kendalltau. */
function scipyTaus(csv: string, axes: readonly string[]): Record<string, { tau: number | null; granulated: number | null; networks: number }> {
  const r = spawnSync('python3', ['bench/peers/study_tau.py', csv, axes.join(',')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench/peers/study_tau.py failed (needs python3-scipy: scripts/setup.sh installs it):\n${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, { tau: number | null; granulated: number | null; networks: number }>;
}

function expectScipyAgrees(json: StudyResult, csv: string): void {
  const reference = scipyTaus(csv, json.protocol.axes);
  expect(Object.keys(reference)).toEqual(json.protocol.measures);
  for (const s of json.statistics) {
    const ref = reference[s.measure]!;
    expect(s.networks).toBe(ref.networks);
    if (ref.tau === null) expect(s.tau).toBeNull();
    else expect(s.tau).toBeCloseTo(ref.tau, 12);
    if (ref.granulated === null) expect(s.granulated).toBeNull();
    else expect(s.granulated).toBeCloseTo(ref.granulated, 12);
  }
}

describe.each(BACKENDS)('hessbound study, %s backend', (backend) => {
  it('runs a grid on iris: table, JSON and CSV agree, tau equals tau recomputed from the CSV', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-gap-'));
    const r = runCli(['study', '--dataset', 'iris', '--widths', '3,6', '--seeds', '0,1', '--label-noise', '0,0.2', '--target-loss', '0.25',
      '--max-steps', '3000', '--resamples', '50', '--measures', 'all', '--backend', backend, '--quiet', '--json', join(dir, 'r.json'), '--csv', join(dir, 'r.csv'), '--plot', join(dir, 'r.svg'), '--report', join(dir, 'r.md')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as StudyResult;
    const [head, ...lines] = readFileSync(join(dir, 'r.csv'), 'utf8').trim().split('\n');
    const cols = head!.split(',');
    const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
    expect(rows.length).toBe(8);
    const reached = rows.filter((row) => row['reached'] === 'true');
    expect(reached.length).toBe(json.reached);
    expect(json.excluded).toBe(8 - json.reached);
    expect(reached.every((row) => Number(row['trainLoss']) <= 0.25)).toBe(true);
    expect(r.stdout).toMatch(new RegExp(`8 trained, ${json.reached} reached the target, ${json.excluded} left out`));
    expect(json.statistics.length).toBe(19);
    for (const s of json.statistics) {
      const defined = reached.filter((row) => row[s.measure] !== '');
      const tau = referenceTauB(defined.map((row) => Number(row[s.measure])), defined.map((row) => Number(row['gap'])));
      expect(s.networks).toBe(defined.length);
      if (s.tau === null) expect(Number.isNaN(tau)).toBe(true);
      else expect(s.tau).toBeCloseTo(tau, 12);
      expect(r.stdout).toContain(s.measure);
    }
    // The chart: one dot per defined tau, at x = left + (tau + 1) / 2 x width (190 and 460 px).
    const report = readFileSync(join(dir, 'r.md'), 'utf8');
    expect(report).toContain(`${json.reached} of 8 networks reached the target and are in the statistics; ${json.excluded} were left out.`);
    for (const n of json.networks.filter((x) => !x.reached)) expect(report).toContain(`| ${n.axes.width} | 1 | ${n.axes.seed} | 0 | ${n.axes.labelNoise} | 0.01 | 0 | tanh | ${json.protocol.trainSamples} | — | ${n.stopReason} |`);
    const svg = readFileSync(join(dir, 'r.svg'), 'utf8');
    checkSvg(svg);
    const dots = [...svg.matchAll(/<circle cx="([\d.]+)"[^>]*data-kind="tau" data-value="([^"]+)"/g)];
    expect(dots.length).toBe(json.statistics.filter((s) => s.tau !== null).length);
    for (const [, cx, value] of dots) expect(Number(cx)).toBeCloseTo(190 + ((Number(value) + 1) / 2) * 460, 1);
    expect(dots.map((d) => Number(d[2]))).toEqual(json.statistics.filter((s) => s.tau !== null).map((s) => s.tau));
  }, 120_000);

  it('runs a grid over learning rate, batch size, activation, training-set size and a rho grid of the adaptive measures; scipy agrees on the CSV', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-axes-'));
    const r = runCli(['study', '--dataset', 'iris', '--widths', '6', '--seeds', '0,1', '--lrs', '0.01,0.05', '--batch-sizes', '0,32', '--activations', 'tanh,relu',
      '--train-sizes', '60,105', '--epochs', '300', '--target-loss', '0.3', '--max-steps', '3000', '--resamples', '20',
      '--measures', 'lambdaMax,pathNorm,adaptiveSharpness2,averageSharpness,pacBayes', '--sharpness-rhos', '0.01,0.05',
      '--backend', backend, '--quiet', '--json', join(dir, 'r.json'), '--csv', join(dir, 'r.csv'), '--report', join(dir, 'r.md')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as StudyResult;
    expect(json.networks.length).toBe(32);
    expect(json.protocol.axes).toEqual(['seed', 'lr', 'batchSize', 'activation', 'trainSize']);
    expect(json.protocol.measures).toEqual(['lambdaMax', 'pathNorm', 'adaptiveSharpness2@rho=0.01', 'adaptiveSharpness2@rho=0.05', 'averageSharpness@rho=0.01', 'averageSharpness@rho=0.05', 'pacBayes']);
    expect(json.reached).toBeGreaterThanOrEqual(24);
    expect(r.stdout).toContain('adaptiveSharpness2@rho=0.05');
    expect(r.stdout).toMatch(/axes varied\s+seed, lr, batchSize, activation, trainSize/);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toMatch(/learning rates 0\.01, 0\.05; batch sizes 0, 32 \(0: full batch\); activations tanh, relu; training-set sizes 60, 105/);
    expectScipyAgrees(json, join(dir, 'r.csv'));
  }, 240_000);

  it('runs a rho grid of synthetic data (one data set per rho); scipy agrees on the CSV; bad axis flags are errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-rho-'));
    const r = runCli(['study', '--dataset', 'synthetic:n=90,d=16,classes=3', '--rhos', '0,0.3,0.6', '--widths', '4', '--seeds', '0,1,2', '--target-loss', '0.4',
      '--max-steps', '3000', '--resamples', '20', '--measures', 'lambdaMax,wsUpper,pathNorm,inverseMarginSquared', '--backend', backend, '--quiet',
      '--json', join(dir, 'r.json'), '--csv', join(dir, 'r.csv')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as StudyResult;
    expect(json.networks.map((n) => n.axes.rho)).toEqual([0, 0, 0, 0.3, 0.3, 0.3, 0.6, 0.6, 0.6]);
    expect(json.protocol.axes).toEqual(['seed', 'rho']);
    expectScipyAgrees(json, join(dir, 'r.csv'));
    const notSynthetic = runCli(['study', '--dataset', 'iris', '--rhos', '0,0.5', '--target-loss', '0.1', '--backend', backend, '--quiet']);
    expect(notSynthetic.status).not.toBe(0);
    expect(notSynthetic.stderr).toMatch(/rho grid needs synthetic data|rhos apply to synthetic data sets only/);
    const both = runCli(['study', '--dataset', 'iris', '--lr', '0.1', '--lrs', '0.1,0.2', '--target-loss', '0.1', '--backend', backend, '--quiet']);
    expect(both.stderr).toMatch(/either --lr or --lrs/);
    const epochs = runCli(['study', '--dataset', 'iris', '--epochs', '5', '--target-loss', '0.1', '--backend', backend, '--quiet']);
    expect(epochs.stderr).toMatch(/--epochs and --optimizer apply to mini-batch training/);
    const radius = runCli(['study', '--dataset', 'iris', '--measures', 'pathNorm@rho=0.1', '--target-loss', '0.1', '--backend', backend, '--quiet']);
    expect(radius.stderr).toMatch(/'pathNorm' in 'pathNorm@rho=0.1' takes no radius/);
  }, 240_000);

  it('runs on digits end to end: a small grid over training-set size, activation and label noise; scipy agrees on the CSV', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-digits-'));
    const r = runCli(['study', '--dataset', 'digits', '--widths', '6', '--seeds', '0', '--train-sizes', '200,400', '--activations', 'tanh,relu', '--label-noise', '0,0.1',
      '--target-loss', '0.2', '--max-steps', '2000', '--resamples', '20', '--measures', 'lambdaMax,wsUpper,adaptiveSharpness2,pacBayesMagnitude,pathNorm,spectralProduct',
      '--backend', backend, '--quiet', '--json', join(dir, 'r.json'), '--csv', join(dir, 'r.csv'), '--report', join(dir, 'r.md'), '--plot', join(dir, 'r.svg')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as StudyResult;
    expect(json.protocol.data).toBe('digits');
    expect(json.protocol.trainSamples + json.protocol.testSamples).toBe(1797);
    expect(json.networks.length).toBe(8);
    expect(json.protocol.axes).toEqual(['labelNoise', 'activation', 'trainSize']);
    expect(json.reached).toBeGreaterThanOrEqual(6);
    expectScipyAgrees(json, join(dir, 'r.csv'));
    checkSvg(readFileSync(join(dir, 'r.svg'), 'utf8'));
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toContain(`${json.reached} of 8 networks reached the target`);
  }, 240_000);

  it('--workers 2 (worker threads) gives the same networks and statistics as one at a time, for file data too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-workers-'));
    const file = join(dir, 'wine.json');
    writeFileSync(file, JSON.stringify({ x: [[1, 2], [2, 1], [3, 3], [0, 1], [1, 0], [4, 4], [2, 2], [3, 1], [1, 3], [0, 0], [5, 1], [1, 5]], y: [0, 0, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1] }));
    const run = (data: string[], extra: string[]) => {
      const out = join(dir, `r${extra.join('')}${data.length}.json`);
      const r = runCli(['study', ...data, '--widths', '3,5', '--seeds', '0,1', '--target-loss', '0.3', '--max-steps', '2000', '--measures', 'lambdaMax,pathNorm,averageSharpness',
        '--resamples', '20', '--test-fraction', '0.34', '--backend', backend, '--quiet', '--json', out, ...extra], { OPENBLAS_NUM_THREADS: '1' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const json = JSON.parse(readFileSync(out, 'utf8')) as StudyResult;
      return { ...json, networks: json.networks.map(({ seconds: _s, ...n }) => n) };
    };
    for (const data of [['--dataset', 'iris', '--test-fraction', '0.3'].slice(0, 2), ['--data', file]]) {
      const one = run(data, []);
      const two = run(data, ['--workers', '2']);
      expect(two.networks).toEqual(one.networks);
      expect(two.statistics).toEqual(one.statistics);
    }
  }, 240_000);

  it('bad input: an unknown measure and an empty grid are errors; a target no network reaches reports empty statistics', () => {
    const unknown = runCli(['study', '--dataset', 'iris', '--target-loss', '0.1', '--measures', 'lambdaMax,sharpest', '--backend', backend, '--quiet']);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown measure 'sharpest'/);
    const empty = runCli(['study', '--dataset', 'iris', '--target-loss', '0.1', '--widths', '', '--backend', backend, '--quiet']);
    expect(empty.status).not.toBe(0);
    expect(empty.stderr).toMatch(/--widths/);
    const missing = runCli(['study', '--dataset', 'iris', '--backend', backend, '--quiet']);
    expect(missing.stderr).toMatch(/--target-loss is required/);
    const none = runCli(['study', '--dataset', 'iris', '--widths', '2', '--target-loss', '1e-9', '--max-steps', '20', '--measures', 'pathNorm', '--backend', backend, '--quiet']);
    expect(none.status).toBe(0);
    expect(none.stdout).toMatch(/0 reached the target, 2 left out/);
    expect(none.stdout).toMatch(/no network reached the target training loss/);
    expect(none.stdout).toMatch(/pathNorm\s+0\s+n\/a\s+n\/a/);
  }, 120_000);
});
