/**
 * analyze's `deterministic` option is honoured or refused, never silently dropped: a kernel built
 * before the option existed ignores it (a stale build/Release addon gave thread-dependent sweep
 * points that way), so the kernel echoes it and the facade checks the echo.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { assertDeterministicHonoured } from '../src/analysis/deterministic-guard.js';
import { HessboundError } from '../src/errors.js';
import { randomModel } from '../src/model.js';
import { loadDataset } from '../src/node/datasets.js';
import { BACKENDS } from './helpers/backends.js';

const wine = loadDataset('wine');
const model = randomModel({ inputs: wine.d, hidden: [4], classes: wine.classes, activation: 'tanh', seed: 0 });

describe.each(BACKENDS)('deterministic analyze on the %s backend', (backend) => {
  it.each(['dense', 'lanczos'] as const)('is confirmed by the kernel (%s) and agrees with the default path', async (method) => {
    const options = { backend, method, which: 'largest', k: 2, bound: false } as const;
    const serial = await analyze(model, wine, { ...options, deterministic: true });
    const plain = await analyze(model, wine, options);
    expect(serial.lambdaMax).not.toBeNull();
    expect(Math.abs(serial.lambdaMax! - plain.lambdaMax!)).toBeLessThanOrEqual(1e-12 * Math.abs(plain.lambdaMax!));
  });
});

describe('the deterministic-option check', () => {
  it('refuses a kernel that did not echo the option, with a rebuild hint', () => {
    let error: unknown;
    try {
      assertDeterministicHonoured(true, undefined, 'native');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HessboundError);
    expect((error as HessboundError).code).toBe('BACKEND');
    expect((error as HessboundError).message).toMatch(/ignored the deterministic option/);
    expect((error as HessboundError).hint).toMatch(/npm run build:native/);
    expect(() => assertDeterministicHonoured(true, false, 'wasm')).toThrow(/npm run build:wasm|ignored/);
  });

  it('accepts an echo, and anything when the option was not asked for', () => {
    expect(() => assertDeterministicHonoured(true, true, 'native')).not.toThrow();
    expect(() => assertDeterministicHonoured(false, undefined, 'native')).not.toThrow();
    expect(() => assertDeterministicHonoured(undefined, undefined, 'wasm')).not.toThrow();
  });
});
