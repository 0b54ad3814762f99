/**
 * The kernel never blocks the event loop (WebAssembly runs on a worker thread in Node, the native
 * addon on libuv's pool), and AbortSignal cancels long calls on both backends.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { wsBound } from '../src/bound.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { train } from '../src/train.js';
import { BACKENDS } from './helpers/backends.js';

const digits = await loadDataset('digits');
const model = (hidden: number) => randomModel({ inputs: 64, hidden: [hidden], classes: 10, activation: 'tanh', seed: 0 });

describe.each(BACKENDS)('event loop and cancellation (%s)', (backend) => {
  it('the event loop keeps ticking during a dense analyze of digits', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = performance.now();
    const r = await analyze(model(8), digits, { backend, method: 'dense' });
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(r.backend).toBe(backend);
    expect(r.parameters).toBe(610);
    // Blocked, a 10 ms interval fires once after the call; free, about elapsed / 10 times (a busy
    // machine delays timers, hence the generous factor).
    expect(elapsed).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThanOrEqual(Math.max(5, Math.floor(elapsed / 10 / 5)));
  });

  it('an AbortSignal cancels analyze mid-call (ABORTED), and the next call works', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const pending = analyze(model(24), digits, {
      backend,
      method: 'dense',
      signal: controller.signal,
      onProgress: (f) => {
        seen.push(f);
      },
    });
    setTimeout(() => controller.abort(), 300);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    const after = await analyze(model(4), digits, { backend, method: 'dense' });
    expect(Number.isFinite(after.lambdaMax)).toBe(true);
  });

  it('an aborted signal rejects analyze, wsBound and train before any work', async () => {
    const signal = AbortSignal.abort();
    await expect(analyze(model(4), digits, { backend, signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(wsBound(model(4), digits, { backend, signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(train(model(4), digits, { backend, signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('an AbortSignal stops train during its steps', async () => {
    const controller = new AbortController();
    const pending = train(model(32), digits, { backend, gradTol: 0, maxSteps: 1_000_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 500);
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
