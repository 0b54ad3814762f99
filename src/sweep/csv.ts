/**
 * The sweep CSV: one row per point, the contract columns first. Numbers are written in JavaScript's
 * shortest round-trip form, so parsing a row gives back exactly the float64 values. Pure.
 */
import { fail } from '../errors.js';
import type { SweepResult } from './result.js';

type Column = keyof SweepResult;

/** Contract columns (issue 5) first, then the key, training status, methods and phase timings. */
export const CSV_COLUMNS: readonly Column[] = [
  'dataset', 'activation', 'width', 'depth', 'seed', 'parameters', 'samples', 'loss', 'gradNorm', 'lambdaMax', 'bound',
  'ratio', 'trace', 'traceOfSquare', 'seconds',
  'key', 'converged', 'stopReason', 'trainSteps', 'lambdaMethod', 'lambdaConverged', 'boundMethod', 'boundEstimated',
  'reduction', 'secondsTrain', 'secondsBound', 'secondsLambdaMax', 'backend',
  // Study axes, generalization and diagnostics (issue 8).
  'rho', 'meanAbsCosine', 'maxAbsCosine', 'orthogonalCounterfactual', 'weightDecay', 'targetLoss', 'testFraction', 'testData', 'testSamples',
  'trainAccuracy', 'testAccuracy', 'testLoss', 'gap', 'objectiveLambdaMax', 'objectiveBound', 'parameterNorm', 'scaleDerivative',
  'saturatedFraction', 'collapsedCells', 'lambdaRatio', 'effectiveRank', 'flags',
  // HSR training (issue 13).
  'hsr', 'hsrTarget', 'hsrPenalty',
  // Mini-batch training (issue 25).
  'batchSize', 'optimizer', 'epochs',
];

export const CSV_HEADER = CSV_COLUMNS.join(',');

/** Columns of sweep CSVs written before the HSR columns: read (as plain points) and rewritten on resume. */
export const CSV_COLUMNS_BEFORE_HSR: readonly Column[] = CSV_COLUMNS.slice(0, CSV_COLUMNS.indexOf('hsr'));
/** Columns of sweep CSVs written before the mini-batch columns: read (as full-batch points) and rewritten on resume. */
export const CSV_COLUMNS_BEFORE_MINIBATCH: readonly Column[] = CSV_COLUMNS.slice(0, CSV_COLUMNS.indexOf('batchSize'));
/** The older layouts a resumed sweep accepts, newest first. */
export const CSV_OLDER_LAYOUTS: readonly (readonly Column[])[] = [CSV_COLUMNS_BEFORE_MINIBATCH, CSV_COLUMNS_BEFORE_HSR];

/** What the columns an older layout lacks held for every one of its points (plain, full-batch). */
const ABSENT_COLUMNS: Partial<Record<Column, unknown>> = { hsr: 0, hsrTarget: '', hsrPenalty: null, batchSize: 0, optimizer: '', epochs: 0 };

/** Columns renamed since: the old name in older CSVs (read, and rewritten with the new name on resume). */
const RENAMED_COLUMNS: Record<string, Column> = { boundIfOrthogonal: 'orthogonalCounterfactual' };

/**
 * The layout of a sweep CSV from its header line: CSV_COLUMNS or one of CSV_OLDER_LAYOUTS (any of
 * them possibly with renamed columns' old names), or null for a file that is no hessbound sweep.
 */
export function csvLayoutOf(header: string): readonly Column[] | null {
  const names = header.split(',').map((name) => RENAMED_COLUMNS[name] ?? name).join(',');
  if (names === CSV_HEADER) return CSV_COLUMNS;
  return CSV_OLDER_LAYOUTS.find((layout) => names === layout.join(',')) ?? null;
}

const STRING_COLUMNS = new Set<Column>(['dataset', 'activation', 'key', 'stopReason', 'lambdaMethod', 'boundMethod', 'reduction', 'backend', 'testData', 'flags', 'hsrTarget', 'optimizer']);
const BOOLEAN_COLUMNS = new Set<Column>(['converged', 'lambdaConverged', 'boundEstimated']);


function quote(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return quote(String(value));
}

/** One CSV line (without the newline). */
export function csvRow(result: SweepResult): string {
  return CSV_COLUMNS.map((c) => cell(result[c])).join(',');
}

/** Splits one CSV line into cells (RFC 4180 quoting; no embedded newlines in our rows). */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(current);
      current = '';
    } else current += ch;
  }
  if (quoted) fail('BAD_DATA', 'unterminated quote in a CSV line');
  cells.push(current);
  return cells;
}

/** A row back into a SweepResult; throws BAD_DATA when it does not fit the columns. */
export function parseCsvRow(line: string): SweepResult {
  return parseCsvRowOf(line, CSV_COLUMNS);
}

/**
 * A row of the given layout: a row of an older one (CSV_OLDER_LAYOUTS) is a plain full-batch point:
 * hsr 0, no target, no penalty, batch size 0, no optimizer, 0 epochs.
 */
export function parseCsvRowOf(line: string, columns: readonly Column[]): SweepResult {
  const cells = splitCsvLine(line);
  if (cells.length !== columns.length) fail('BAD_DATA', `a sweep CSV row has ${cells.length} cells, expected ${columns.length}`);
  const row: Record<string, unknown> = {};
  for (const column of CSV_COLUMNS) if (!columns.includes(column)) row[column] = ABSENT_COLUMNS[column];
  columns.forEach((column, i) => {
    const text = cells[i] as string;
    if (STRING_COLUMNS.has(column)) row[column] = text;
    else if (BOOLEAN_COLUMNS.has(column)) {
      if (text !== 'true' && text !== 'false') fail('BAD_DATA', `column ${column} must be true or false, got '${text}'`);
      row[column] = text === 'true';
    } else if (text === '') row[column] = null;
    else {
      const value = Number(text);
      if (!Number.isFinite(value)) fail('BAD_DATA', `column ${column} must be a number, got '${text}'`);
      row[column] = value;
    }
  });
  return row as unknown as SweepResult;
}
