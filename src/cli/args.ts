/** Argument parsing shared by every subcommand (node:util parseArgs, strict: unknown flags are errors). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fail } from '../errors.js';
import { decimal } from '../io/decimal.js';

export { decimal };

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type ParsedValues = Record<string, string | boolean | undefined>;

export function parse(argv: string[], options: OptionSpec): ParsedValues {
  try {
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    return values as ParsedValues;
  } catch (e) {
    return fail('BAD_OPTION', (e as Error).message.replace(/\. To specify.*$/s, ''), 'run hessbound help for the options');
  }
}

export function str(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function int(values: ParsedValues, name: string, fallback?: number, min = 0): number | undefined {
  const v = str(values, name);
  if (v === undefined) return fallback;
  const n = decimal(v);
  if (!Number.isSafeInteger(n) || n < min) fail('BAD_OPTION', `--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

export function num(values: ParsedValues, name: string, fallback?: number): number | undefined {
  const v = str(values, name);
  if (v === undefined) return fallback;
  const n = decimal(v);
  if (!Number.isFinite(n)) fail('BAD_OPTION', `--${name} must be a number, got '${v}'`);
  return n;
}

export function intList(values: ParsedValues, name: string): number[] | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => s.trim());
  const list = parts.map(decimal);
  if (parts.some((s) => s === '') || list.some((n) => !Number.isSafeInteger(n) || n < 1))
    fail('BAD_OPTION', `--${name} must be a comma-separated list of positive integers, e.g. 16,16; got '${v}'`);
  return list;
}

export function choice<T extends string>(values: ParsedValues, name: string, allowed: readonly T[], fallback: T): T {
  const v = str(values, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) fail('BAD_OPTION', `--${name} must be one of ${allowed.join(', ')}; got '${v}'`);
  return v as T;
}
