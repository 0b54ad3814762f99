/**
 * The one CSV reader (embedded data sets, --data FILE.csv / .csv.gz in any case, the API's
 * parseCsv): numeric features, an integer class label in the last column. Pure (no Node
 * built-ins), so it runs in browsers too. Fields are split by csv-parse (RFC 4180: quoted fields
 * with delimiters, doubled quotes, CRLF), a maintained parser, instead of a hand-written split.
 *
 * The first line is a header unless `header: false`; a first line of numbers is refused rather
 * than guessed (taking a header as a sample, or a sample as a header, silently changes the data).
 * Errors name the 1-based line.
 */
// The browser build of csv-parse's sync API: self-contained (its Node build needs the Buffer global).
import { parse } from 'csv-parse/browser/esm/sync';
import { assemble, type DatasetOptions } from '../data.js';
import { fail, HessboundError } from '../errors.js';
import type { Dataset } from '../types.js';
import { decimal, quoted } from './decimal.js';

export interface CsvOptions {
  name?: string;
  classes?: number;
  /** Whether the first line is a header (default true). A numeric first line with true is an error. */
  header?: boolean;
}

interface Row {
  line: number;
  cells: string[];
}

/** Comma, or tab / semicolon when the first line has no comma (outside quotes is not checked: rare). */
function detectDelimiter(text: string): string {
  const first = text.split(/\r\n|\n|\r/).find((line) => line.trim() !== '') ?? '';
  return [',', '\t', ';'].find((candidate) => first.includes(candidate)) ?? ',';
}

function rows(text: string): Row[] {
  if (text.includes('\u0000'))
    fail('BAD_DATA', 'the CSV contains NUL characters: it looks like UTF-16 (or binary) read as UTF-8', 'save it as UTF-8 (readDataFile and the CLI decode UTF-16 files that start with a byte-order mark)');
  const body = text.replace(/^\uFEFF/, '');
  try {
    const records = parse(body, {
      delimiter: detectDelimiter(body),
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
    }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
    return records
      .filter(({ record }) => !(record.length === 1 && record[0] === ''))
      .map(({ record, info }) => ({ line: info.lines, cells: record }));
  } catch (err) {
    if (err instanceof HessboundError) throw err;
    const e = err as { message?: string; lines?: number };
    return fail('BAD_DATA', `the CSV is malformed${e.lines !== undefined ? ` near line ${e.lines}` : ''}: ${e.message ?? String(err)}`, 'quote fields that contain the delimiter, and close every quote ("..."; a quote inside is written "")');
  }
}

export function isNumericCell(cell: string): boolean {
  return cell !== '' && !Number.isNaN(decimal(cell));
}

export function parseNumber(cell: string, line: number, column: string): number {
  const value = decimal(cell);
  if (cell === '' || (Number.isNaN(value) && !/^[+-]?nan$/i.test(cell))) {
    fail('BAD_DATA', `line ${line}, column ${column}: ${cell === '' ? 'empty value' : quoted(cell) + ' is not a number'}`, 'features must be plain numbers; remove or impute missing values first');
  }
  if (!Number.isFinite(value)) fail('NON_FINITE', `line ${line}, column ${column} is ${cell.length <= 40 ? cell : quoted(cell)}`, 'remove or impute missing values first');
  return value;
}

/** A label as a JS number (never through an Int32Array, which would wrap 2^32 + 1 to 1). */
export function parseLabel(cell: string, line: number): number {
  const value = decimal(cell);
  if (!Number.isInteger(value) || value < 0) {
    fail('BAD_LABELS', `line ${line}: the label ${quoted(cell)} is not an integer 0..c-1`, 'the last column must hold integer class labels');
  }
  return value;
}

export function parseCsv(text: string, opts: CsvOptions = {}): Dataset {
  if (typeof text !== 'string') fail('BAD_DATA', `parseCsv needs the CSV text as a string, got ${typeof text}`, 'read the file first (readDataFile reads .csv and .csv.gz)');
  const all = rows(text);
  const first = all[0];
  if (!first) fail('BAD_DATA', 'the CSV is empty', 'a CSV needs a header line and one line per sample');
  const hasHeader = opts.header ?? true;
  if (hasHeader && first.cells.every(isNumericCell))
    fail(
      'BAD_DATA',
      `line ${first.line} holds only numbers (${first.cells.slice(0, 4).join(',')}${first.cells.length > 4 ? ',...' : ''}), but the first line must be the header`,
      'if the file has no header line, pass --no-header (option header: false); otherwise add a header such as f0,f1,...,label',
    );
  const columns = hasHeader ? first.cells : first.cells.map((_, i) => `#${i + 1}`);
  const width = columns.length;
  if (width < 2) fail('BAD_DATA', `the CSV has ${width} column; it needs feature columns and a label in the last column`, 'put the features first and the integer label last');
  const data = hasHeader ? all.slice(1) : all;
  if (data.length === 0) fail('BAD_DATA', 'the CSV has a header but no data rows', 'add one line per sample below the header');

  const d = width - 1;
  const x = new Float64Array(data.length * d);
  const labels = new Array<number>(data.length);
  data.forEach((row, r) => {
    if (row.cells.length !== width) {
      fail(
        'SHAPE_MISMATCH',
        `line ${row.line} has ${row.cells.length} values but ${hasHeader ? 'the header' : 'line ' + first.line} has ${width}`,
        'every line needs the same columns; quote a field that contains the delimiter ("3,5")',
      );
    }
    for (let c = 0; c < d; c++) x[r * d + c] = parseNumber(row.cells[c] as string, row.line, `${c + 1} (${columns[c] as string})`);
    labels[r] = parseLabel(row.cells[d] as string, row.line);
  });
  const options: DatasetOptions = { ...(opts.classes !== undefined ? { classes: opts.classes } : {}), ...(opts.name !== undefined ? { name: opts.name } : {}) };
  return assemble({ data: x, rows: data.length, cols: d }, { kind: 'labels', values: labels }, options, (i) => `line ${(data[i] as Row).line}: the label`);
}
