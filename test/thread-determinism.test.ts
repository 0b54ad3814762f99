/**
 * Training is bit-identical for any OpenBLAS thread count (the forward/backward pass and the
 * reductions run on one BLAS thread in a fixed order). Native, and the threaded WebAssembly build
 * (wasm-threads; the single-threaded module has one thread). Before the fix, digits width 4 seed 0 diverged within 300 steps (different files).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './helpers/backends.js';
import { spawn } from 'node:child_process';
import { ROOT } from './helpers/cli.js';
import { runCliAsync } from './helpers/cli-async.js';

const dir = mkdtempSync(join(tmpdir(), 'hessbound-threads-'));

/** The model file `hessbound train ARGS` writes with OPENBLAS_NUM_THREADS = HESSBOUND_THREADS = threads. */
async function trainedWith(name: string, args: string[], threads: string): Promise<string> {
  const out = join(dir, `${name}-${threads}.json`);
  const r = await runCliAsync(['train', ...args, '--quiet', '--out', out], { OPENBLAS_NUM_THREADS: threads, HESSBOUND_THREADS: threads });
  expect(r.status).toBe(0);
  return readFileSync(out, 'utf8');
}

// wasm-threads: the threaded WebAssembly build splits training's evaluations the same way (HESSBOUND_THREADS).
describe.each(BACKENDS.filter((b) => b === 'native' || b === 'wasm-threads'))('training on %s with 1 and 2 OpenBLAS/kernel threads', (backend) => {
  it('gives the same model bit for bit (digits, width 4, seed 0)', async () => {
    const args = ['--dataset', 'digits', '--hidden', '4', '--seed', '0', '--max-steps', '300', '--backend', backend];
    expect(await trainedWith('digits', args, '2')).toBe(await trainedWith('digits', args, '1'));
  }, 120_000);

  it('gives the same model bit for bit with 1 and 3 kernel threads over the samples (digits, width 32)', async () => {
    // Training's evaluations split the samples into a fixed set of chunks (train_eval.cpp); 3
    // threads take them in an uneven, timing-dependent order, which must not change a bit.
    const args = ['--dataset', 'digits', '--hidden', '32', '--seed', '1', '--max-steps', '120', '--adam-steps', '60', '--backend', backend];
    expect(await trainedWith('digits-32', args, '3')).toBe(await trainedWith('digits-32', args, '1'));
  }, 120_000);

  it('gives the same HSR-trained model bit for bit (breast_cancer, width 64: the bound gradient\'s BLAS calls too)', async () => {
    const args = ['--dataset', 'breast_cancer', '--hidden', '64', '--seed', '0', '--hsr', '0.01', '--max-steps', '40', '--adam-steps', '40', '--backend', backend];
    expect(await trainedWith('bc-hsr', args, '2')).toBe(await trainedWith('bc-hsr', args, '1'));
  }, 120_000);

  it('gives a sweep point (training, bound, dense lambda_max) the same row bit for bit', async () => {
    const rows: string[] = [];
    for (const threads of ['1', '2']) {
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/sweep-point.ts'), 'wine', '4', '0'], {
          cwd: ROOT,
          env: { ...process.env, OPENBLAS_NUM_THREADS: threads, HESSBOUND_THREADS: threads },
        });
        let text = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (text += c));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
      });
      rows.push(out);
    }
    expect(JSON.parse(rows[0]!)).toMatchObject({ dataset: 'wine', width: 4, lambdaMethod: 'dense' });
    expect(rows[1]).toBe(rows[0]);
  }, 120_000);
});
