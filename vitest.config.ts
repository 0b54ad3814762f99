import { defineConfig } from 'vitest/config';

// The machines are shared and noisy, and some tests run hundreds of kernel calls or spawn the CLI:
// timeouts here catch hangs, not slowness (speed is measured in bench/).
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['test/helpers/yield-event-loop.ts'],
  },
});
