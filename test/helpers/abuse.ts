/** Helpers of the abuse suite: peak memory of spawned CLI processes, timing. */
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** Env for a spawned CLI process that prints its peak RSS at exit (maxrss.mjs). */
export function withMaxRss(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const preload = `--import ${join(ROOT, 'test/helpers/maxrss.mjs')}`;
  return { ...env, NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} ${preload}`.trim() };
}

/** The peak RSS in MB a process printed at exit (NaN when it printed none). */
export function maxRssMb(output: string): number {
  const m = /MAXRSS_KB (\d+)/.exec(output);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}
