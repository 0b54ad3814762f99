/** Ctrl-C and SIGTERM end every command cleanly: exit 130/143, never an abort, partial results kept. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSV_HEADER } from '../src/sweep/csv.js';
import { BACKENDS } from './helpers/backends.js';
import { ROOT, runCli } from './helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hb-cli-signals-'));

function start(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, stderr: () => stderr };
}

const rowsOf = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 2 : 0);

describe.each(BACKENDS)('signals (%s)', (backend) => {
  // digits with a fixed step budget: points take seconds, so the signal lands while kernels run.
  const args = ['sweep', '--dataset', 'digits', '--widths', '12,16,24', '--seeds', '2', '--grad-tol', '0', '--max-steps', '150', '--workers', '2', '--quiet', '--backend', backend];

  it('SIGINT during a sweep: exit 130, a message, and a CSV that --resume completes', async () => {
    const dir = tmp();
    const csvPath = join(dir, 'results.csv');
    const run = start([...args, '--out', csvPath]);
    for (let i = 0; i < 1200 && rowsOf(csvPath) < 1; i++) await new Promise((r) => setTimeout(r, 50));
    run.child.kill('SIGINT');
    const { code, signal } = await run.exited;
    expect(run.stderr()).not.toMatch(/terminate called|Napi::Error|Aborted/);
    expect(signal).toBeNull();
    expect(code).toBe(130);
    expect(run.stderr()).toMatch(/interrupted; finished points are in .*--resume/);
    const lines = readFileSync(csvPath, 'utf8').split('\n');
    expect(lines[0]).toBe(CSV_HEADER);
    expect(lines.at(-1)).toBe(''); // no torn row
    const before = lines.length - 2;
    expect(before).toBeGreaterThanOrEqual(1);
    expect(before).toBeLessThan(6);
    const resumed = runCli([...args, '--out', csvPath, '--resume']);
    expect(resumed.status).toBe(0);
    expect(rowsOf(csvPath)).toBe(6);
  }, 240_000);

  it('SIGTERM during train: exit 143', async () => {
    const run = start(['train', '--out', join(tmp(), 'model.json'), '--dataset', 'digits', '--hidden', '32', '--grad-tol', '0', '--max-steps', '100000', '--backend', backend]);
    // The progress bar's first output: the command is running (signal handlers are installed first).
    for (let i = 0; i < 1200 && run.stderr() === ''; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    run.child.kill('SIGTERM');
    const { code, signal } = await run.exited;
    expect(run.stderr()).not.toMatch(/terminate called|Napi::Error/);
    expect(signal).toBeNull();
    expect(code).toBe(143);
  }, 120_000);
});
