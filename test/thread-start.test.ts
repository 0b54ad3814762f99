/**
 * The threaded WebAssembly build's start-up never hangs: Emscripten's ready promise waits for every
 * pthread worker to load and stays pending when one cannot, so createWasmBackend fails with BACKEND
 * on a worker's error report or after the start timeout (the browser fallback on top of this is in
 * browser-vite.test.ts). The glue is replaced here by factories that behave like the stuck one.
 */
import { describe, expect, it } from 'vitest';
import { HessboundError } from '../src/errors.js';
import { configureWasm, createWasmBackend } from '../src/backend/wasm.js';
import type { HessboundWasmFactory, WasmModuleOverrides } from '../src/backend/wasm-loader.js';

const EMPTY_MODULE = new WebAssembly.Module(Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0));

async function startFailure(factory: HessboundWasmFactory, startTimeoutMs: number): Promise<{ error: HessboundError; ms: number; terminated: boolean }> {
  const started = Date.now();
  try {
    await createWasmBackend({ factory, module: EMPTY_MODULE, threaded: { threads: 3, requested: 0, startTimeoutMs } });
  } catch (error) {
    return { error: error as HessboundError, ms: Date.now() - started, terminated };
  }
  throw new Error('expected the start to fail');
}

let terminated = false;
/** Like the glue: puts its PThread on the module object it was given, then never becomes ready. */
function stuckGlue(onStart?: (overrides: WasmModuleOverrides) => void): HessboundWasmFactory {
  return (overrides) => {
    terminated = false;
    Object.assign(overrides, { PThread: { terminateAllThreads: () => (terminated = true), unusedWorkers: [], runningWorkers: [] } });
    onStart?.(overrides);
    return new Promise(() => {});
  };
}

describe('starting the threaded build', () => {
  it('fails with BACKEND after the timeout when its workers never answer, and ends them', async () => {
    const { error, ms, terminated: ended } = await startFailure(stuckGlue(), 300);
    expect(error).toBeInstanceOf(HessboundError);
    expect(error.code).toBe('BACKEND');
    expect(error.message).toMatch(/threads did not start: no answer from its 2 pthread worker\(s\) within 0\.3 s/);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ended).toBe(true);
  });

  it('fails at once when a worker reports an error (a script that did not load)', async () => {
    const glue = stuckGlue((o) => setTimeout(() => o.printErr?.('worker sent an error! blob:x:1: Uncaught NetworkError: importScripts failed'), 10));
    const { error, ms } = await startFailure(glue, 60_000);
    expect(error.code).toBe('BACKEND');
    expect(error.message).toMatch(/threads did not start: worker sent an error! .*importScripts failed/);
    expect(ms).toBeLessThan(5_000);
  });

  it('configureWasm refuses a timeout that is not a positive number of milliseconds', () => {
    for (const bad of [0, -5, Number.NaN, Infinity])
      expect(() => configureWasm({ threadStartTimeout: bad }), String(bad)).toThrow(/threadStartTimeout must be a positive number of milliseconds/);
  });
});
