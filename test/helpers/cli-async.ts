/**
 * runCli without blocking the test worker: a spawnSync that lasts long on a loaded machine stalls
 * the worker's event loop, and vitest then reports its own RPC ("onTaskUpdate") as timed out.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, type CliRun } from './cli.js';

export function runCliAsync(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
