/**
 * The memory analyze() plans for Lanczos before it allocates (src/resources/memory-plan.ts: the
 * forward cache, the Hessian-vector product scratch, the Lanczos basis) against what a real run
 * takes: a child process's peak RSS after one analyze() call over its RSS before, 3,000 x 784 inputs
 * (a quarter nonzero: the products read X by its nonzeros), width 512, one kernel thread. The plan
 * counts as many basis rows as the run used. Within 20% either way; the plan before the HVP scratch
 * was modelled on hvp.cpp (4,096-row blocks, 17 partial products) was 48% over. The native kernel's
 * memory only: the WebAssembly heap grows in steps and never shrinks, so its RSS says little.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const src = (file: string) => JSON.stringify(pathToFileURL(join(ROOT, 'src', file)).href);
const CHILD = `
import { analyze, randomModel, syntheticDataset } from ${src('index.ts')};
import { forwardCache, hvpScratch, lanczosBasis, parameterCountOf } from ${src('resources/memory-plan.ts')};
const base = syntheticDataset({ n: 3000, d: 784, classes: 10, rho: 0.3, seed: 7 });
const x = new Float64Array(base.x.length);
for (let i = 0; i < x.length; i++) x[i] = (i * 37) % 101 < 50 && base.x[i] > 0 ? base.x[i] : 0;
const data = { ...base, x };
const model = randomModel({ inputs: data.d, hidden: [512], classes: data.classes, activation: 'tanh', seed: 0 });
// The backend, its threads and the JIT warmed up on 50 rows, so the baseline holds them.
const head = { ...data, n: 50, x: x.subarray(0, 50 * data.d), targets: data.targets.subarray(0, 50 * data.classes), labels: data.labels ? data.labels.subarray(0, 50) : null };
const options = { method: 'lanczos', which: 'largest', k: 1, bound: false, backend: 'native' };
await analyze(model, head, { ...options, maxIterations: 5, tolerance: 0.5 });
// The current RSS, not the peak so far: data generation's transient JS arrays raised the peak.
const before = process.memoryUsage().rss;
const r = await analyze(model, data, { ...options, maxIterations: 60, tolerance: 1e-12 });
const grew = process.resourceUsage().maxRSS * 1024 - before;
const sizes = [data.d, 512, data.classes];
const plan = [forwardCache(sizes, data.n), hvpScratch(sizes, data.n, 1), lanczosBasis(parameterCountOf(sizes), r.lanczos.iterations)];
console.log(JSON.stringify({ grew, planned: plan.reduce((s, a) => s + a.bytes, 0), inputs: r.lanczos.inputs, iterations: r.lanczos.iterations }));
`;

describe('memory plan against a measured peak (native)', () => {
  it('analyze() Lanczos at 3,000 x 784 x 512: the planned bytes are within 20% of the peak RSS growth', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: ROOT,
      env: { ...process.env, HESSBOUND_THREADS: '1', OPENBLAS_NUM_THREADS: '1', HESSBOUND_SPARSE_INPUTS: 'auto' },
      encoding: 'utf8',
      timeout: 180_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const m = JSON.parse(lines[lines.length - 1]!) as { grew: number; planned: number; inputs: string; iterations: number };
    expect(m.inputs).toBe('sparse');
    expect(m.iterations).toBeGreaterThan(5);
    const off = m.planned / m.grew - 1;
    expect(Math.abs(off), `planned ${(m.planned / 2 ** 20).toFixed(1)} MiB, peak RSS grew ${(m.grew / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(0.2);
  }, 180_000);
});
