import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

// The core numerics files of the parametrized suite (test/helpers/backends.ts: native, wasm,
// wasm-threads) with the WebAssembly backends on the relaxed-SIMD build: Node 20 validates it only
// with --experimental-wasm-relaxed-simd, which the test workers get here, and
// HESSBOUND_WASM_MODULE=relaxed forces it (an engine or build without it fails, never falls back).
// Files that start child processes (the CLI) are left out: their children would lack the flag; the
// relaxed build's own cross-module and thread checks are test/wasm-relaxed.test.ts.
export default mergeConfig(
  base,
  defineConfig({
    test: {
      include: [
        'test/relaxed-suite/module.check.ts',
        'test/backends-agree.test.ts',
        'test/finite-differences.test.ts',
        'test/spectrum.test.ts',
        'test/eigensolver.test.ts',
        'test/closed-form.test.ts',
        'test/ws-gradient.test.ts',
        'test/blocks.test.ts',
        'test/train.test.ts',
        'test/api.test.ts',
      ],
      env: { HESSBOUND_WASM_MODULE: 'relaxed' },
      pool: 'forks',
      poolOptions: { forks: { execArgv: ['--experimental-wasm-relaxed-simd'] } },
    },
  }),
);
