/**
 * Abuse suite, signals (issue 22 item 4): every interruption is obeyed within the time the issue
 * sets (the queue worker's signals: test/abuse-queue-signals.test.ts); an AbortSignal during a dense
 * eigensolve (LAPACK, which polls no flag) releases the caller within 1 s on every backend; a grid
 * too large to generate quickly is refused before it blocks the process.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { gridJobs, MAX_GRID_POINTS } from '../src/sweep/job.js';
import { BACKENDS } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';

const digits = loadDataset('digits');

describe.each(BACKENDS)('signals are obeyed (%s)', (backend) => {
  it('AbortSignal during a dense eigensolve releases the caller within 1 s', async () => {
    // P = 3,010: the eigensolve takes seconds; abort once assembly is done (progress past 0.5).
    const model = randomModel({ inputs: 64, hidden: [40], classes: 10, activation: 'tanh', seed: 0 });
    const controller = new AbortController();
    let abortedAt = 0;
    const started = performance.now();
    const pending = analyze(model, digits, {
      backend,
      method: 'dense',
      bound: false,
      signal: controller.signal,
      onProgress: (f) => {
        if (f >= 0.5 && abortedAt === 0) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    // No progress past 0.5 before the end on some path: abort on a timer instead.
    const timer = setTimeout(() => {
      if (abortedAt === 0) {
        abortedAt = performance.now();
        controller.abort();
      }
    }, 1500);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    clearTimeout(timer);
    const latency = performance.now() - abortedAt;
    expect(abortedAt - started).toBeGreaterThan(0);
    expect(latency).toBeLessThan(1000);
    // The backend still answers afterwards.
    const small = await analyze(randomModel({ inputs: 64, hidden: [2], classes: 10, activation: 'tanh', seed: 0 }), digits, { backend, method: 'dense', bound: false });
    expect(small.lambdaMax).toBeGreaterThan(0);
  }, 120_000);
});

describe('grids too large to generate quickly', () => {
  it(`more than ${MAX_GRID_POINTS.toLocaleString('en-US')} points is refused before any job is made, in milliseconds`, () => {
    const started = performance.now();
    expect(() => gridJobs({ dataset: 'iris', widths: Array.from({ length: 1000 }, (_, i) => i + 1), seeds: 1000 })).toThrow(/the grid has 1,000,000 points, more than one sweep takes \(20,000\)/);
    expect(performance.now() - started).toBeLessThan(100);
    const r = runCli(['sweep', '--dataset', 'iris', '--widths', Array.from({ length: 1000 }, (_, i) => i + 1).join(','), '--seeds', '1000', '--out', '/dev/null/x.csv']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\[TOO_LARGE\]: the grid has 1,000,000 points/);
  });
});
