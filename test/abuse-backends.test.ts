/**
 * Abuse suite, backend identity (issue 22 item 5): native and WebAssembly agree to about 1e-12 on
 * converged points, not to the bit (and not at all on unconverged ones), so a sweep never mixes
 * them: the backend is stored with the sweep's spec (a resume on another is refused) and is part of
 * a queue point's job id (a native sweep is never answered by a wasm sweep's rows). Both backends by
 * nature: the test is about the two meeting.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsvRow } from '../src/sweep/csv.js';
import { runCli } from './helpers/cli.js';
import { runCliAsync, startCli, type Proc } from './helpers/queue-procs.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hb-backends-'));
const rows = (path: string) => readFileSync(path, 'utf8').trim().split('\n').slice(1).map(parseCsvRow);
const grid = ['--dataset', 'iris', '--widths', '2,3', '--seeds', '2', '--max-steps', '200', '--quiet'];

describe('backends never mix silently', () => {
  it('--resume with another backend is refused, saying which', () => {
    const out = join(tmp(), 'native.csv');
    const first = runCli(['sweep', ...grid, '--backend', 'native', '--workers', '1', '--out', out]);
    expect(first.status, first.stderr).toBe(0);
    const resumed = runCli(['sweep', ...grid, '--backend', 'wasm', '--workers', '1', '--out', out, '--resume']);
    expect(resumed.status).toBe(2);
    expect(resumed.stderr).toMatch(/\[BAD_OPTION\]: --resume of .* with a different sweep: backend: "native" in the file, "wasm" now/);
    const same = runCli(['sweep', ...grid, '--backend', 'native', '--workers', '1', '--out', out, '--resume']);
    expect(same.status, same.stderr).toBe(0);
  });

  describe('on a queue', () => {
    let redis: TestRedis;
    let worker: Proc;
    beforeAll(async () => {
      redis = await startRedis();
      worker = startCli(['worker', '--queue', redis.url, '--concurrency', '1', '--threads', '1'], { HESSBOUND_DATA_CACHE: tmp() });
      await worker.waitFor((o) => o.includes('hessbound worker: serving'), 'the worker to start');
    });
    afterAll(async () => {
      if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
      await redis?.stop();
    });

    it('a native sweep after a wasm sweep of the same grid gets native rows, computed anew', async () => {
      const dir = tmp();
      const wasm = await runCliAsync(['sweep', ...grid, '--backend', 'wasm', '--queue', redis.url, '--out', join(dir, 'wasm.csv')]);
      expect(wasm.status, wasm.stderr).toBe(0);
      const native = await runCliAsync(['sweep', ...grid, '--backend', 'native', '--queue', redis.url, '--out', join(dir, 'native.csv')]);
      expect(native.status, native.stderr).toBe(0);
      expect(rows(join(dir, 'wasm.csv')).map((r) => r.backend)).toEqual(['wasm', 'wasm', 'wasm', 'wasm']);
      expect(rows(join(dir, 'native.csv')).map((r) => r.backend)).toEqual(['native', 'native', 'native', 'native']);
      // Same keys (same spec), different points on the queue: eight points computed.
      expect(rows(join(dir, 'native.csv')).map((r) => r.key).sort()).toEqual(rows(join(dir, 'wasm.csv')).map((r) => r.key).sort());
      expect([...worker.output().matchAll(/Z done /g)]).toHaveLength(8);
    });
  });
});
