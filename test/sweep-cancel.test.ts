/** Cancelling sweep() and runSweep(): finished points are kept, running ones stop, the generator throws ABORTED. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWorkerPool, runSweep, sweep } from '../src/index.js';
import { normalizeJob } from '../src/sweep/job.js';
import type { SweepEvent } from '../src/sweep/sweep.js';
import type { NodeSweepEvent } from '../src/node/sweep-run.js';
import { BACKENDS } from './helpers/backends.js';

/** Collects events until the generator ends or throws; aborts `controller` when `when(event)` holds. */
async function collect(events: AsyncIterable<{ type: string }>, controller: AbortController, when: (e: { type: string }) => boolean) {
  const seen: { type: string }[] = [];
  let error: unknown = null;
  try {
    for await (const e of events) {
      seen.push(e);
      if (when(e) && !controller.signal.aborted) controller.abort();
    }
  } catch (e) {
    error = e;
  }
  return { seen, error };
}

// A point that trains for far longer than the rest of the test: if cancellation did not reach the
// kernel, its result would arrive (and be yielded) before the generator ends.
const LONG_POINT = { dataset: 'digits', width: 256, seed: 0, maxSteps: 200000, gradTol: 1e-14 };

describe.each(BACKENDS)('cancelling a sweep (%s)', (backend) => {
  it('an aborted signal refuses to start', async () => {
    const controller = new AbortController();
    controller.abort();
    const run = async () => {
      for await (const _ of sweep({ grid: { dataset: 'iris', widths: [4], seeds: 1 }, backend, signal: controller.signal })) void _;
    };
    await expect(run()).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('in process: yields the points finished before, then throws ABORTED without starting the others', async () => {
    const controller = new AbortController();
    const grid = { dataset: 'iris', widths: [4, 8, 16], seeds: 2 };
    const { seen, error } = await collect(sweep({ grid, backend, signal: controller.signal }), controller, (e) => e.type === 'result');
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect(seen.filter((e) => e.type === 'result')).toHaveLength(1);
    expect(seen.filter((e) => e.type === 'failure')).toHaveLength(0);
  });

  it('in process: stops the running point inside the kernel', async () => {
    const controller = new AbortController();
    const { seen, error } = await collect(sweep({ jobs: [LONG_POINT], backend, signal: controller.signal }), controller, (e) => e.type === 'progress');
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect(seen.some((e) => e.type === 'result' || e.type === 'failure')).toBe(false);
  }, 60_000);

  it('on a worker pool: stops the running points, and runSweep keeps what finished for a resume', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hessbound-cancel-'));
    const csv = join(dir, 'out.csv');
    const controller = new AbortController();
    // Two workers: the long point (scheduled first, as the largest) and the small one run together.
    const jobs = [{ dataset: 'iris', width: 4, seed: 0 }, LONG_POINT];
    const { seen, error } = await collect(
      runSweep({ jobs, workers: 2, backend, files: { csvPath: csv }, signal: controller.signal }),
      controller,
      (e) => e.type === 'result',
    );
    expect(error).toMatchObject({ code: 'ABORTED' });
    const results = seen.filter((e): e is Extract<SweepEvent, { type: 'result' }> => e.type === 'result');
    expect(results.map((r) => r.record.spec.width)).toEqual([4]);
    expect(seen.some((e) => e.type === 'failure')).toBe(false);
    // The finished point is on disk: the CSV has its header and one row.
    expect(readFileSync(csv, 'utf8').trim().split('\n')).toHaveLength(2);
    // A resume of the same sweep skips it (cancelled again at once: only its start event matters).
    const again = new AbortController();
    const resumed = await collect(runSweep({ jobs, workers: 2, backend, files: { csvPath: csv, resume: true }, signal: again.signal }), again, (e) => e.type === 'start');
    expect(resumed.error).toMatchObject({ code: 'ABORTED' });
    const start = resumed.seen[0] as Extract<NodeSweepEvent, { type: 'start' }>;
    expect(start.skipped).toBe(1);
    expect(start.previous.map((r) => r.width)).toEqual([4]);
  }, 60_000);

  it('a pool task still queued is dropped without reaching a worker', async () => {
    const pool = createWorkerPool({ workers: 1, backend });
    try {
      const controller = new AbortController();
      const first = pool.run(normalizeJob(LONG_POINT), () => undefined, controller.signal);
      const queued = pool.run(normalizeJob({ dataset: 'iris', width: 4, seed: 0 }), () => undefined, controller.signal);
      controller.abort();
      await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(first).rejects.toMatchObject({ code: 'ABORTED' });
    } finally {
      await pool.close();
    }
  }, 60_000);
});
