/** Shared assertions. */
import { expect } from 'vitest';
import { HessboundError, type ErrorCode } from '../../src/errors.js';

/** Runs `fn` and checks it throws a HessboundError with this code and message fragment. */
export function expectError(fn: () => unknown, code: ErrorCode, fragment: string | RegExp): HessboundError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(HessboundError);
  const error = caught as HessboundError;
  expect(error.code).toBe(code);
  if (typeof fragment === 'string') expect(error.message).toContain(fragment);
  else expect(error.message).toMatch(fragment);
  return error;
}

/** max |a - b| / max |a| over two equally long arrays. */
export function maxRelativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return diff / scale;
}
