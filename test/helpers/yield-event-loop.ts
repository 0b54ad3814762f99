/**
 * Setup file (vitest.config.ts): after every test, let the worker's event loop turn once. Tests
 * that spawn the CLI synchronously block the loop; a file of several such tests (hvp-threads,
 * cli-analyze: 60-90 s under load) otherwise never lets vitest's own RPC replies in, and vitest
 * then reports "Timeout calling onTaskUpdate" (60 s) as an unhandled error although every test passed.
 */
import { afterEach } from 'vitest';

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
