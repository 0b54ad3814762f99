/** Node's sweep(): embedded data sets load without a loadData option; failures as a summary or an error. */
import { describe, expect, it } from 'vitest';
import { HessboundError } from '../src/errors.js';
import { sweep, sweepToEnd } from '../src/index.js';
import { BACKENDS } from './helpers/backends.js';

describe.each(BACKENDS)('sweep() in Node (%s)', (backend) => {
  it('runs points on an embedded data set without loadData', async () => {
    const { results, failures } = await sweepToEnd(sweep({ grid: { dataset: 'iris', widths: [4, 8], seeds: 1 }, backend }), { throwOnFailure: true });
    expect(failures).toEqual([]);
    expect(results.map((r) => r.result.width).sort((a, b) => a - b)).toEqual([4, 8]);
    for (const { result: r } of results) {
      expect(r.backend).toBe(backend);
      expect(r.bound).toBeGreaterThanOrEqual(r.lambdaMax * (1 - 1e-9));
    }
  });
});

describe('sweepToEnd', () => {
  const failing = { concurrency: 1, run: () => Promise.reject(new HessboundError('NON_FINITE', 'diverged')) };

  it('collects failures in the summary', async () => {
    const { results, failures } = await sweepToEnd(sweep({ grid: { dataset: 'iris', widths: [4], seeds: 2 }, executor: failing }));
    expect(results).toEqual([]);
    expect(failures.map((f) => [f.spec.seed, f.error.code])).toEqual([[0, 'NON_FINITE'], [1, 'NON_FINITE']]);
  });

  it('throws with the first failure code when asked', async () => {
    await expect(sweepToEnd(sweep({ grid: { dataset: 'iris', widths: [4], seeds: 2 }, executor: failing }), { throwOnFailure: true })).rejects.toMatchObject({
      code: 'NON_FINITE',
      message: expect.stringMatching(/2 of 2 sweep point\(s\) failed: iris width 4 seed 0/),
    });
  });
});
