/** hessbound train, sweep and demo as a user runs them: outputs, resume after a hard kill, determinism. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSV_HEADER, parseCsvRow } from '../src/sweep/csv.js';
import { gridJobs } from '../src/sweep/job.js';
import type { SweepRecord, SweepResult } from '../src/sweep/result.js';
import { BACKENDS } from './helpers/backends.js';
import { ROOT, runCli } from './helpers/cli.js';
import { runCliAsync } from './helpers/cli-async.js';
import { checkSvg } from './helpers/svg.js';

const TIMINGS = new Set(['seconds', 'secondsTrain', 'secondsBound', 'secondsLambdaMax']);
const withoutTimings = (r: SweepResult) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIMINGS.has(k)));

function readRows(csvPath: string): SweepResult[] {
  const lines = readFileSync(csvPath, 'utf8').split('\n');
  expect(lines[0]).toBe(CSV_HEADER);
  expect(lines.at(-1)).toBe(''); // every row complete
  return lines.slice(1, -1).map(parseCsvRow);
}

function expectBoundHolds(rows: SweepResult[]): void {
  for (const r of rows) expect(r.bound, `width ${r.width} seed ${r.seed}`).toBeGreaterThanOrEqual(r.lambdaMax * (1 - 1e-9));
}

const tmp = () => mkdtempSync(join(tmpdir(), 'hb-cli-sweep-'));

describe.each(BACKENDS)('hessbound train --backend %s', (backend) => {
  it('trains to the tolerance, saves the model, and analyze confirms the (cross-entropy, no decay) gradient norm', () => {
    const out = join(tmp(), 'model.json');
    const r = runCli(['train', '--dataset', 'iris', '--hidden', '16', '--seed', '0', '--grad-tol', '1e-8', '--weight-decay', '0', '--out', out, '--backend', backend, '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as { out: string; converged: boolean; gradNorm: number; history: unknown[]; backend: string };
    expect(summary).toMatchObject({ out, converged: true, backend });
    expect(summary.gradNorm).toBeLessThanOrEqual(1e-8);
    expect(summary.history.length).toBeGreaterThan(2);
    const check = runCli(['analyze', '--model', out, '--dataset', 'iris', '--method', 'dense', '--backend', backend, '--json']);
    expect(check.status).toBe(0);
    expect((JSON.parse(check.stdout) as { gradNorm: number }).gradNorm).toBeLessThanOrEqual(1e-8);
  });

  it('prints a summary and trains on synthetic data', () => {
    const out = join(tmp(), 'synthetic.json');
    const r = runCli(['train', '--dataset', 'synthetic:n=40,d=50,classes=3,rho=0.5', '--hidden', '8', '--out', out, '--backend', backend, '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/converged\s+yes/);
    expect(existsSync(out)).toBe(true);
  });
});

describe('hessbound train errors', () => {
  it('needs --out and checks the training options', () => {
    const noOut = runCli(['train', '--dataset', 'iris', '--hidden', '4']);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/no --out given[\s\S]*hint: add --out model\.json/);
    const bad = runCli(['train', '--dataset', 'iris', '--hidden', '4', '--out', join(tmp(), 'm.json'), '--grad-tol=-1']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/gradTol must be a number >= 0/);
  });
});

describe('hessbound sweep', () => {
  // Slow enough points (digits, a fixed step budget) that the sweep can be killed midway.
  const args = ['--dataset', 'digits', '--widths', '12,16', '--seeds', '3', '--grad-tol', '0', '--max-steps', '100', '--workers', '2', '--quiet'];
  const keys = gridJobs({ dataset: 'digits', widths: [12, 16], seeds: 3, gradTol: 0, maxSteps: 100 }).map((j) => j.key).sort();

  it('resumes after a hard kill with no row lost or duplicated, and matches an uninterrupted run', async () => {
    const dir = tmp();
    const csvPath = join(dir, 'results.csv');
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'sweep', ...args, '--out', csvPath], { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Kill it (SIGKILL: no chance to clean up) once two points are on disk.
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 50));
      if (existsSync(csvPath) && readFileSync(csvPath, 'utf8').split('\n').length - 2 >= 2) break;
    }
    child.kill('SIGKILL');
    expect(await exited).toBeNull();
    const before = readRows(csvPath);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before.length).toBeLessThan(keys.length);

    const refused = await runCliAsync(['sweep', ...args, '--out', csvPath]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/already exists[\s\S]*--resume/);

    const resumed = await runCliAsync(['sweep', ...args, '--out', csvPath, '--resume', '--plot', join(dir, 'sweep.svg')]);
    expect(resumed.stderr).toBe('');
    expect(resumed.status).toBe(0);
    const rows = readRows(csvPath);
    expect(rows.map((r) => r.key).sort()).toEqual(keys);
    for (const r of before) expect(withoutTimings(rows.find((x) => x.key === r.key)!)).toEqual(withoutTimings(r));
    expectBoundHolds(rows);
    const jsonl = readFileSync(join(dir, 'results.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as SweepRecord);
    expect(jsonl.map((l) => l.key).sort()).toEqual(keys);
    checkSvg(readFileSync(join(dir, 'sweep.svg'), 'utf8'));

    // Determinism by seed: an uninterrupted run gives the same numbers to the bit. (Same --workers:
    // the BLAS thread count per worker follows from it, and OpenBLAS rounds differently per count.)
    const fresh = join(dir, 'fresh.csv');
    const again = await runCliAsync(['sweep', ...args, '--out', fresh]);
    expect(again.status).toBe(0);
    const byKey = new Map(readRows(fresh).map((r) => [r.key, r]));
    for (const r of rows) expect(withoutTimings(byKey.get(r.key)!)).toEqual(withoutTimings(r));
  }, 300_000); // four digits sweeps; generous because CI machines may be shared

  it('prints the rows as JSON and checks its options', () => {
    const dir = tmp();
    const r = runCli(['sweep', '--dataset', 'wine', '--widths', '4,8', '--seeds', '0,3', '--activation', 'gelu', '--out', join(dir, 'w.csv'), '--no-jsonl', '--json']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { rows: SweepResult[]; failures: unknown[]; jsonl: null };
    expect(out.rows.map((x) => [x.width, x.seed, x.activation])).toEqual([[4, 0, 'gelu'], [4, 3, 'gelu'], [8, 0, 'gelu'], [8, 3, 'gelu']]);
    expect(out.failures).toEqual([]);
    expect(out.jsonl).toBeNull();
    expect(existsSync(join(dir, 'w.jsonl'))).toBe(false);
    expectBoundHolds(out.rows);

    const noWidths = runCli(['sweep', '--dataset', 'iris', '--seeds', '2']);
    expect(noWidths.status).toBe(2);
    expect(noWidths.stderr).toMatch(/no --widths given/);
    const elu = runCli(['sweep', '--dataset', 'iris', '--widths', '4', '--seeds', '1', '--activation', 'elu', '--out', join(dir, 'x.csv')]);
    expect(elu.status).not.toBe(0);
    expect(elu.stderr).toMatch(/not smooth/);
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
  });

  it('--hsrs adds one set of points per HSR beta, with hsr columns, a table column and a plot group', () => {
    const dir = tmp();
    const csvPath = join(dir, 'h.csv');
    const args = ['sweep', '--dataset', 'iris', '--widths', '3', '--seeds', '1', '--hsrs', '0,0.05', '--hsr-target', 'spread', '--out', csvPath, '--plot', join(dir, 'h.svg'), '--quiet'];
    const r = runCli(args);
    expect(r.status, r.stderr).toBe(0);
    // Rows come in completion order (the two points run on parallel workers): order them by beta.
    const rows = readRows(csvPath).sort((a, b) => Number(a.hsr) - Number(b.hsr));
    expect(rows.map((x) => [x.hsr, x.hsrTarget])).toEqual([[0, ''], [0.05, 'spread']]);
    expect(rows[0]!.key).toBe(gridJobs({ dataset: 'iris', widths: [3], seeds: 1 })[0]!.key);
    expect(r.stdout.split('\n')[0]).toMatch(/\bhsr\b/);
    expect(readFileSync(join(dir, 'h.svg'), 'utf8')).toMatch(/hsr 0\.05/);
    const noBeta = runCli(['sweep', '--dataset', 'iris', '--widths', '3', '--seeds', '1', '--hsr-target', 'spread', '--out', join(dir, 'n.csv')]);
    expect(noBeta.status).toBe(2);
    expect(noBeta.stderr).toMatch(/--hsr-target needs --hsr BETA or --hsrs LIST/);
    const deep = runCli(['sweep', '--dataset', 'iris', '--widths', '3', '--seeds', '1', '--depth', '2', '--hsrs', '0.1', '--out', join(dir, 'd.csv')]);
    expect(deep.status).toBe(2);
    expect(deep.stderr).toMatch(/hsr needs one hidden layer/);
  });

  it('reports failed points, keeps the others, and exits non-zero', () => {
    const dir = tmp();
    const r = runCli(['sweep', '--dataset', 'iris', '--widths', '4', '--seeds', '1', '--lr', '1e300', '--activation', 'identity', '--out', join(dir, 'f.csv'), '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/1 point\(s\) failed[\s\S]*width 4, depth 1, seed 0: \[NON_FINITE\] training diverged/);
    expect(readRows(join(dir, 'f.csv'))).toEqual([]);
  });
});

describe('hessbound demo', () => {
  it('runs the iris sweep in seconds, prints the table and writes CSV, JSON lines and the plot', () => {
    const dir = tmp();
    const started = Date.now();
    const r = runCli(['demo', '--out-dir', dir, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(r.stdout).toMatch(/width\s+seed\s+params\s+loss\s+grad norm\s+lambda_max\s+WS bound\s+bound\/lmax/);
    expect(r.stdout).toMatch(/median bound\/lmax/);
    expect(r.stdout).toMatch(/train acc\s+test acc/);
    expect(r.stdout).toMatch(/Over the \d+ unflagged networks \(\d+ flagged, left out\)/);
    const rows = readRows(join(dir, 'hessbound-demo.csv'));
    expect(rows).toHaveLength(15);
    expect(rows.every((x) => x.converged)).toBe(true);
    expectBoundHolds(rows);
    // No degenerate point goes unflagged: the unflagged ones have live units and a non-rank-one Hessian.
    for (const x of rows.filter((row) => row.flags === '')) {
      expect(x.saturatedFraction).toBeLessThan(0.5);
      expect(x.collapsedCells).toBe(0);
      expect(x.lambdaRatio).toBeGreaterThan(1e-3);
      expect(x.testAccuracy).not.toBeNull();
    }
    const svg = checkSvg(readFileSync(join(dir, 'hessbound-demo.svg'), 'utf8'));
    expect(svg.count('polyline')).toBe(3);
    expect(readFileSync(join(dir, 'hessbound-demo.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(15);
  });
});
