/**
 * The memory budget in Node: 80% of the memory free right now, capped by HESSBOUND_MAX_MEMORY
 * (gigabytes) when set, so an operator can keep hessbound within a share of a machine it shares
 * (a queue worker, a CI runner). Installed by the library entry, the CLI and every sweep thread.
 */
import { freemem } from 'node:os';
import { fail } from '../errors.js';
import { setPlatformMemoryBudget } from '../memory.js';

export const MAX_MEMORY_ENV = 'HESSBOUND_MAX_MEMORY';

export function nodeMemoryBudget(env: NodeJS.ProcessEnv = process.env): number {
  const free = freemem() * 0.8;
  const text = env[MAX_MEMORY_ENV]?.trim();
  if (!text) return free;
  const gb = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(gb > 0)) fail('BAD_OPTION', `${MAX_MEMORY_ENV} must be a positive number of gigabytes, got '${text.slice(0, 40)}'`, `e.g. ${MAX_MEMORY_ENV}=4, or unset it`);
  return Math.min(free, gb * 1e9);
}

export function installNodeMemoryBudget(): void {
  setPlatformMemoryBudget(() => nodeMemoryBudget());
}
