/**
 * A small deterministic pseudo-random generator, identical on every platform and in the browser.
 *
 * Scheme: the seed (any safe integer) is expanded by splitmix32 into the 128-bit state of
 * xoshiro128** (Blackman & Vigna). `next()` joins two 32-bit outputs into a 53-bit double in
 * [0, 1); `normal()` uses the Box–Muller transform and caches the second variate. Only 32-bit
 * integer operations (`Math.imul`, shifts) are used, so no BigInt is needed.
 */
import { fail } from './errors.js';

export interface Rng {
  /** Uniform double in [0, 1). */
  next(): number;
  /** Standard normal N(0, 1). */
  normal(): number;
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[];
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** splitmix32: a good 32-bit mixer, used only to spread the seed over the xoshiro state. */
function splitmix32(seedState: { value: number }): number {
  seedState.value = (seedState.value + 0x9e3779b9) | 0;
  let z = seedState.value;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    fail('BAD_OPTION', `seed must be a safe integer, got ${String(seed)}`, 'pass e.g. seed: 42');
  }
  // Fold the high 32 bits of the seed in so seeds above 2^32 (and negative seeds) stay distinct.
  const low = seed >>> 0;
  const high = Math.floor(seed / TWO_POW_32) >>> 0;
  const seedState = { value: low ^ Math.imul(high, 0x85ebca6b) };
  splitmix32(seedState);
  seedState.value ^= high;
  let s0 = splitmix32(seedState);
  let s1 = splitmix32(seedState);
  let s2 = splitmix32(seedState);
  let s3 = splitmix32(seedState);
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point of xoshiro

  function nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  }

  function next(): number {
    const high27 = nextUint32() >>> 5;
    const low26 = nextUint32() >>> 6;
    return (high27 * 67108864 + low26) / TWO_POW_53;
  }

  let spareNormal: number | null = null;
  function normal(): number {
    if (spareNormal !== null) {
      const value = spareNormal;
      spareNormal = null;
      return value;
    }
    const u1 = 1 - next(); // in (0, 1], so the log is finite
    const u2 = next();
    const radius = Math.sqrt(-2 * Math.log(u1));
    const angle = 2 * Math.PI * u2;
    spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  function int(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive <= 0) {
      fail('BAD_OPTION', `rng.int needs a positive integer bound, got ${String(maxExclusive)}`);
    }
    return Math.floor(next() * maxExclusive);
  }

  function shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  return { next, normal, int, shuffle };
}
