/**
 * The CLI of the views: spectrum (JSON contract keys, plot file), analyze --blocks, train --track
 * with --track-out and --plot, landscape 2D, and their errors.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './helpers/backends.js';
import { ROOT, type CliRun } from './helpers/cli.js';
import { checkSvg } from './helpers/svg.js';

const dir = mkdtempSync(join(tmpdir(), 'hessbound-views-'));

/** The CLI from source, without blocking this worker's event loop (spawnSync would, for seconds). */
function runCli(args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe.each(BACKENDS)('views CLI on %s', (backend) => {
  it('spectrum --method slq --json --plot', async () => {
    const plot = join(dir, `spectrum-${backend}.svg`);
    const r = await runCli(['spectrum', '--dataset', 'iris', '--hidden', '8', '--method', 'slq', '--probes', '4', '--steps', '20', '--json', '--plot', plot, '--backend', backend, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown> & { grid: number[]; density: number[]; integral: number; bound: { upper: number } };
    for (const key of ['method', 'parameters', 'grid', 'density', 'kernelWidth', 'lambdaMax', 'lambdaMin', 'bound', 'settings', 'integral', 'mean', 'meanStdError'])
      expect(out).toHaveProperty(key);
    expect(out['method']).toBe('slq');
    expect(out.grid).toHaveLength(out.density.length);
    expect(Math.abs(out.integral - 1)).toBeLessThan(1e-7);
    expect(checkSvg(readFileSync(plot, 'utf8')).root).toBe('svg');
  });

  it('analyze --blocks prints the table and the JSON blocks', async () => {
    const text = await runCli(['analyze', '--dataset', 'iris', '--hidden', '5,4', '--blocks', '--backend', backend, '--quiet']);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('Diagonal Hessian blocks per layer');
    expect(text.stdout).toContain('2 (output)');
    const json = await runCli(['analyze', '--dataset', 'iris', '--hidden', '5,4', '--blocks', '--json', '--backend', backend, '--quiet']);
    const r = JSON.parse(json.stdout) as { blocks: Array<Record<string, unknown>> };
    expect(r.blocks.map((b) => b['parameters'])).toEqual([25, 24, 15]);
    for (const b of r.blocks) for (const key of ['layer', 'parameters', 'lambdaMax', 'lambdaMin', 'trace', 'traceOfSquare', 'bound']) expect(b).toHaveProperty(key);
    expect(r.blocks[0]).not.toHaveProperty('eigenvalues');
  });

  it('train --track --track-out --plot', async () => {
    const out = join(dir, `model-${backend}.json`);
    const jsonl = join(dir, `track-${backend}.jsonl`);
    const plot = join(dir, `track-${backend}.svg`);
    const r = await runCli(['train', '--dataset', 'iris', '--hidden', '6', '--max-steps', '25', '--adam-steps', '10', '--track', '5', '--out', out, '--track-out', jsonl, '--plot', plot, '--backend', backend, '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Sharpness every 5 steps');
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; lambdaMax: number });
    expect(lines.map((l) => l.step)).toEqual([0, 5, 10, 15, 20, 25]);
    expect(checkSvg(readFileSync(plot, 'utf8')).root).toBe('svg');
  });

  it('landscape --dimensions 2 --plot', async () => {
    const plot = join(dir, `landscape-${backend}.svg`);
    const r = await runCli(['landscape', '--dataset', 'iris', '--hidden', '4', '--dimensions', '2', '--points', '7', '--radius', '0.5', '--plot', plot, '--backend', backend, '--quiet']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('loss on the plane');
    expect(checkSvg(readFileSync(plot, 'utf8')).root).toBe('svg');
  });

  it('errors exit non-zero with a hint', async () => {
    const noTrack = await runCli(['train', '--dataset', 'iris', '--hidden', '4', '--out', join(dir, 'x.json'), '--plot', join(dir, 'x.svg'), '--backend', backend, '--quiet']);
    expect(noTrack.status).toBe(2);
    expect(noTrack.stderr).toContain('--plot needs --track K');
    const coarse = await runCli(['spectrum', '--dataset', 'iris', '--hidden', '4', '--grid', '5', '--backend', backend, '--quiet']);
    expect(coarse.status).toBe(2);
    expect(coarse.stderr).toContain('hint: raise the grid size');
  });
});
