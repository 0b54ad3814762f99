/**
 * The WebAssembly heap stops at 4 GB: a dense request beyond it fails with TOO_LARGE and a hint
 * towards Lanczos, and the module keeps working afterwards (no abort, no leaked state).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getBackend } from '../src/backend/select.js';
import { createWasmBackend, type WasmKernelBackend } from '../src/backend/wasm.js';
import { loadNodeWasm } from '../src/backend/wasm-loader-node.js';
import type { HessboundWasmModule } from '../src/backend/wasm-loader.js';
import { toProblemSpec } from '../src/problem.js';
import { randomModel } from '../src/model.js';
import type { Dataset } from '../src/types.js';
import { loadFixtures, relErr } from './helpers/fixtures.js';

let wasm: WasmKernelBackend;
const fixture = loadFixtures().find((f) => f.name === 'iris-tanh-h8')!;
const smallSpec = () => toProblemSpec(fixture.model, fixture.data, fixture.reduction);

// 4 inputs -> 6000 hidden -> 3 classes: P = 48,003, a dense Hessian of 18.4 GB.
const bigModel = randomModel({ inputs: 4, hidden: [6000], classes: 3, activation: 'tanh', seed: 1 });
const tinyData: Dataset = {
  x: Float64Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]),
  targets: Float64Array.from([1, 0, 0, 0, 1, 0]),
  n: 2,
  d: 4,
  classes: 3,
  labels: null,
};

async function expectStillWorks(): Promise<void> {
  const r = JSON.parse(await wasm.run('analyze', smallSpec(), { method: 0 })) as { lambdaMax: number };
  expect(relErr(r.lambdaMax, fixture.expected.lambdaMax)).toBeLessThan(1e-9);
  expect(wasm.lossGrad(smallSpec()).loss).toBeCloseTo(fixture.expected.loss, 12);
}

beforeAll(async () => {
  wasm = (await getBackend('wasm')) as WasmKernelBackend;
});

describe('WebAssembly memory limits', () => {
  it('reports a realistic dense limit below the 4 GB heap', () => {
    expect(wasm.maxDenseBytes).toBeGreaterThan(1e9);
    expect(wasm.maxDenseBytes).toBeLessThan(4 * 2 ** 30);
  });

  it('a dense analyze beyond the heap fails with TOO_LARGE suggesting Lanczos, then works', async () => {
    const spec = toProblemSpec(bigModel, tinyData);
    // Even when the caller allows more, the heap decides.
    const error = await wasm.run('analyze', spec, { method: 0, maxDenseBytes: 1e12 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOO_LARGE' });
    expect((error as Error).message).toMatch(/lanczos/i);
    expect((error as Error).message).toMatch(/WebAssembly/);
    await expectStillWorks();
  });

  it('a dense Hessian beyond the heap fails the same way, then works', async () => {
    const error = await wasm.hessian(toProblemSpec(bigModel, tinyData), 0, Number.MAX_SAFE_INTEGER).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOO_LARGE' });
    expect((error as Error).message).toMatch(/lanczos/i);
    await expectStillWorks();
  });

  it('an allocation the heap cannot grow to (std::bad_alloc) is TOO_LARGE, then works', async () => {
    // Just under 2^32 bytes: representable in size_t, but the heap (already holding the program)
    // can never grow to it, so malloc fails deterministically whatever the host's memory.
    for (const bytes of [4.29e9, 2 ** 32 - 1]) {
      let error: unknown;
      try {
        wasm.probeAllocation(bytes);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'TOO_LARGE' });
      expect((error as Error).message).toMatch(/lanczos/i);
      await expectStillWorks();
    }
    // A normal allocation still succeeds afterwards.
    expect(() => wasm.probeAllocation(64e6)).not.toThrow();
  });

  it('Lanczos handles the large model within the heap', async () => {
    const r = JSON.parse(
      await wasm.run('analyze', toProblemSpec(bigModel, tinyData), { method: 1, k: 1, which: 0, maxIterations: 60 }),
    ) as { method: string; lambdaMax: number };
    expect(r.method).toBe('lanczos');
    expect(Number.isFinite(r.lambdaMax)).toBe(true);
  });

  it('a trap (simulated here; a kernel bug in practice) is KERNEL, and a fresh instance takes over', async () => {
    const { factory, module } = await loadNodeWasm();
    const instances: HessboundWasmModule[] = [];
    const backend = await createWasmBackend({
      factory: async (overrides) => {
        const m = await factory(overrides);
        instances.push(m);
        return m;
      },
      module,
    });
    instances[0]!._hb_run = () => {
      throw new WebAssembly.RuntimeError('memory access out of bounds');
    };
    await expect(backend.run('analyze', smallSpec(), {})).rejects.toMatchObject({ code: 'KERNEL' });
    const r = JSON.parse(await backend.run('analyze', smallSpec(), {})) as { lambdaMax: number };
    expect(instances).toHaveLength(2);
    expect(relErr(r.lambdaMax, fixture.expected.lambdaMax)).toBeLessThan(1e-9);
  });
});
