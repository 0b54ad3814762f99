/** Argument parsing shared by every subcommand (node:util parseArgs, strict: unknown flags are errors). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fail } from '../errors.js';
import { closestNames, didYouMean } from '../suggest.js';
import { decimal } from '../io/decimal.js';

export { decimal };

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type ParsedValues = Record<string, string | boolean | undefined>;

/** The subcommand being run (main.ts sets it), for the option errors' hints. */
let commandName = '';
export function setCommandName(name: string): void {
  commandName = name;
}

/**
 * `--k -3`: parseArgs reads -3 as a flag and calls the value missing; a number after an option that
 * takes a value is that value, so the option's own check can say what is wrong with it.
 */
function joinNegativeValues(argv: string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** The hint of an option value's error: where that command's options are explained. */
function optionHint(name: string): string {
  return commandName ? `hessbound help ${commandName} says what --${name} takes` : `hessbound help <command> says what --${name} takes`;
}

function optionList(options: OptionSpec): string {
  return Object.keys(options).sort().map((name) => `--${name}`).join(' ');
}

export function parse(argv: string[], options: OptionSpec): ParsedValues {
  const command = commandName ? `hessbound ${commandName}` : 'this command';
  const listHint = `${command} takes: ${optionList(options)}${commandName ? ` (hessbound help ${commandName} explains them)` : ''}`;
  try {
    const { values } = parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: false });
    return values as ParsedValues;
  } catch (e) {
    const error = e as Error & { code?: string };
    if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const typed = /option '([^']+)'/i.exec(error.message)?.[1] ?? '';
      const close = closestNames(typed.replace(/^-+/, '').split('=')[0] as string, Object.keys(options));
      const guess = close.length ? `; did you mean ${close.map((c) => `--${c}`).join(' or ')}?` : '';
      return fail('BAD_OPTION', `${command} has no option '${typed}'${guess}`, listHint);
    }
    if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const typed = /argument '([^']+)'/i.exec(error.message)?.[1] ?? '';
      return fail('BAD_OPTION', `unexpected argument '${typed}': every input is given by an option`, `e.g. --dataset ${typed || 'iris'}; ${listHint}`);
    }
    if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const option = /'(--?[\w-]+)/.exec(error.message)?.[1];
      if (option && /argument missing/.test(error.message)) return fail('BAD_OPTION', `${option} needs a value`, `e.g. ${option} VALUE; hessbound help ${commandName || '<command>'} says what it takes`);
      if (option && /ambiguous/.test(error.message)) return fail('BAD_OPTION', `${option} needs a value, and the next argument starts with '-'`, `e.g. ${option} VALUE; a value that starts with '-' goes as ${option}=-VALUE`);
      if (option && /does not take an argument/.test(error.message)) return fail('BAD_OPTION', `${option} is a switch and takes no value`, `write ${option} alone`);
    }
    return fail('BAD_OPTION', error.message.replace(/\. To specify.*$/s, ''), listHint);
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
  if (!Number.isSafeInteger(n) || n < min) fail('BAD_OPTION', `--${name} must be an integer >= ${min}, got '${v}'`, optionHint(name));
  return n;
}

export function num(values: ParsedValues, name: string, fallback?: number): number | undefined {
  const v = str(values, name);
  if (v === undefined) return fallback;
  const n = decimal(v);
  if (!Number.isFinite(n)) fail('BAD_OPTION', `--${name} must be a number, got '${v}'`, optionHint(name));
  return n;
}

export function intList(values: ParsedValues, name: string): number[] | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => s.trim());
  const list = parts.map(decimal);
  if (parts.some((s) => s === '') || list.some((n) => !Number.isSafeInteger(n) || n < 1))
    fail('BAD_OPTION', `--${name} must be a comma-separated list of positive integers, e.g. 16,16; got '${v}'`, optionHint(name));
  return list;
}

export function choice<T extends string>(values: ParsedValues, name: string, allowed: readonly T[], fallback: T): T {
  const v = str(values, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) fail('BAD_OPTION', `--${name} must be one of ${allowed.join(', ')}; got '${v}'${didYouMean(v, allowed)}`, optionHint(name));
  return v as T;
}
