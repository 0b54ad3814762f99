/**
 * Which backend Node picks by itself (issue 26, item 3): native when the addon loads; without it the
 * threaded WebAssembly build on every core (at most 8), which `hessbound info` names with the reason;
 * on one thread (HESSBOUND_THREADS=1) the single-threaded build. No addon = HESSBOUND_ADDON pointing
 * at a file that does not exist (what a platform without a prebuild sees).
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers/cli.js';

const NO_ADDON = { HESSBOUND_ADDON: join(ROOT, 'no-such-dir', 'hessbound.node'), HESSBOUND_BACKEND: '', HESSBOUND_THREADS: '' };
const CORES = Math.min(8, availableParallelism());

interface Info { backend: string; threads: number; why: string; native: { loaded: boolean; reason?: string } }

function info(env: NodeJS.ProcessEnv): Info {
  const r = runCli(['info', '--json'], env);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Info;
}

describe('the automatic backend in Node', () => {
  it('without the addon: wasm-threads on the cores, and info says why', () => {
    const report = info(NO_ADDON);
    expect(report.native.loaded).toBe(false);
    if (CORES === 1) {
      expect(report.backend).toBe('wasm');
      return;
    }
    expect(report).toMatchObject({ backend: 'wasm-threads', threads: CORES });
    expect(report.why).toMatch(new RegExp(`^WebAssembly on ${CORES} threads .*because native: native addon not found \\(.*no-such-dir`));
    const text = runCli(['info'], NO_ADDON);
    expect(text.stdout).toMatch(new RegExp(`backend used: wasm-threads \\(eigen, SIMD128 module, ${CORES} threads\\)\\n  why: WebAssembly on ${CORES} threads`));
    const version = runCli(['--version'], NO_ADDON);
    expect(version.stdout).toMatch(new RegExp(`backend: wasm-threads \\(eigen, SIMD128 module, ${CORES} threads\\)`));
    expect(version.stderr).toMatch(/note: native addon not loaded, using WebAssembly on worker threads \(wasm-threads\)/);
  });

  it('the library picks it too, runs on the cores, and agrees with native to 1e-12', () => {
    const script = `import('${join(ROOT, 'src', 'index.ts')}').then(async (h) => {
      const d = h.loadDataset('iris');
      const m = h.randomModel({ inputs: d.d, hidden: [16], classes: d.classes, activation: 'tanh', seed: 3 });
      const r = await h.analyze(m, d, { method: 'dense', bound: false });
      const b = await h.getBackend();
      // Enough work (samples x parameters) for the kernel to start its threads.
      const digits = h.loadDataset('digits');
      await h.analyze(h.randomModel({ inputs: digits.d, hidden: [32], classes: digits.classes, activation: 'tanh', seed: 3 }), digits, { method: 'lanczos', k: 1, bound: false });
      console.log(JSON.stringify({ name: b.name, threads: b.threadsUsed ? await b.threadsUsed() : 1, resultBackend: r.backend, lambdaMax: r.lambdaMax, trace: r.trace }));
    })`;
    const run = (env: NodeJS.ProcessEnv) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { name: string; threads: number; resultBackend: string; lambdaMax: number; trace: number };
    };
    const fallback = run(NO_ADDON);
    const native = run({ HESSBOUND_BACKEND: 'native' });
    expect(native.name).toBe('native');
    expect(fallback.name).toBe(CORES > 1 ? 'wasm-threads' : 'wasm');
    expect(fallback.resultBackend).toBe(fallback.name);
    if (CORES > 1) expect(fallback.threads).toBe(CORES);
    expect(Math.abs(fallback.lambdaMax - native.lambdaMax) / native.lambdaMax).toBeLessThan(1e-12);
    expect(Math.abs(fallback.trace - native.trace) / Math.abs(native.trace)).toBeLessThan(1e-12);
  });

  it('one thread asked for: the single-threaded build; HESSBOUND_BACKEND still forces', () => {
    expect(info({ ...NO_ADDON, HESSBOUND_THREADS: '1' })).toMatchObject({ backend: 'wasm', threads: 1 });
    expect(info({ ...NO_ADDON, HESSBOUND_BACKEND: 'wasm' })).toMatchObject({ backend: 'wasm', why: 'forced by HESSBOUND_BACKEND=wasm' });
    expect(info({ HESSBOUND_BACKEND: '' })).toMatchObject({ backend: 'native', why: 'the native addon loaded' });
  });
});
