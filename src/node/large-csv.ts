/**
 * CSV files above 16 MB (the in-memory reader's arrays of cell strings ran out of V8's heap at
 * 194 MB; V8 strings end at 512 MB; a 60,000 x 3,072 CSV is about 1.9 GB): read in chunks, twice — once to count the rows and check the format, once to parse the
 * numbers straight into the one float64 matrix the kernel needs. Same rules and messages as the
 * in-memory reader (src/io/csv.ts) for numeric CSVs; files with quoted fields or in UTF-16 go to
 * that reader when they are at most 400 MB, and are refused above.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { assemble, type DatasetOptions } from '../data.js';
import { fail, HessboundError } from '../errors.js';
import { isNumericCell, parseLabel, parseNumber, type CsvOptions } from '../io/csv.js';
import { formatBytes, platformMemoryBudget } from '../memory.js';
import type { Dataset } from '../types.js';
import { fileSource, gunzipSource, type ByteSource } from './byte-source.js';

const CHUNK = 32 * 1024 * 1024;
/** Longest line taken (a row of 3,072 values is about 30 kB). */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Thrown by a consumer that has what it needs (the first bytes of a file). */
class StopReading extends Error {}

/** The first `count` bytes a source gives (fewer if it is shorter). */
function headOf(source: ByteSource, count: number): Buffer {
  const pieces: Buffer[] = [];
  let have = 0;
  try {
    source((bytes) => {
      pieces.push(Buffer.from(bytes.subarray(0, count - have)));
      have += Math.min(bytes.length, count - have);
      if (have >= count) throw new StopReading();
    });
  } catch (err) {
    if (!(err instanceof StopReading)) throw err;
  }
  return Buffer.concat(pieces);
}

/**
 * Calls `line(bytes, lineNumber)` for every line that is not blank (1-based numbers, as editors
 * count; CR of CRLF removed; `bytes` valid during the call only). A line's pieces are kept only up
 * to MAX_LINE_BYTES, counted before they are kept.
 */
function eachLine(source: ByteSource, line: (bytes: Buffer, number: number) => void): void {
  let pieces: Buffer[] = [];
  let pending = 0;
  let number = 0;
  const emit = (bytes: Buffer) => {
    number++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--; // CRLF
    let start = 0;
    if (number === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3; // UTF-8 byte-order mark
    for (let i = start; i < end; i++) {
      const b = bytes[i] as number;
      // Not blank: anything but spaces, tabs, vertical tabs and form feeds.
      if (b !== 0x20 && (b < 0x09 || b > 0x0c || b === 0x0a)) return line(bytes.subarray(start, end), number);
    }
  };
  source((chunk) => {
    let start = 0;
    for (let i = chunk.indexOf(0x0a, start); i !== -1; i = chunk.indexOf(0x0a, start)) {
      const part = chunk.subarray(start, i);
      if (pieces.length > 0) {
        emit(Buffer.concat([...pieces, part]));
        pieces = [];
        pending = 0;
      } else emit(part);
      start = i + 1;
    }
    if (start < chunk.length) {
      pending += chunk.length - start;
      if (pending > MAX_LINE_BYTES)
        fail('BAD_DATA', `line ${number + 1} is longer than ${formatBytes(MAX_LINE_BYTES)} (no line break)`, 'a CSV has one sample per line; is this a CSV file?');
      pieces.push(Buffer.from(chunk.subarray(start)));
    }
  });
  if (pieces.length > 0) emit(Buffer.concat(pieces));
}

/** Thrown inside pass 1 when the file needs the RFC 4180 reader (quotes, UTF-16). */
class NeedsFullReader extends Error {}

/**
 * `chunkBytes`: the read size (tests use tiny chunks to cross line boundaries). `fullReader`: what
 * to do with a file this reader does not take (quoted fields, UTF-16): the in-memory reader when the
 * file is small enough for it; without one such a file is refused. A path ending in .gz is
 * decompressed as it streams (gunzipSource), in both passes.
 */
export function readLargeCsv(path: string, opts: CsvOptions = {}, chunkBytes = CHUNK, fullReader?: () => Dataset): Dataset {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return fail('IO', `cannot read ${path}: ${(err as Error).message}`, 'check the path and the file permissions');
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) fail('IO', `${path} is not a regular file; hessbound reads data and models from regular files only`, 'save the data to a file first');
    const source = /\.gz$/i.test(path) ? gunzipSource(fd, stats.size, path) : fileSource(fd, stats.size, chunkBytes);
    return parseCsvSource(path, source, opts, fullReader !== undefined);
  } catch (err) {
    if (err instanceof NeedsFullReader && fullReader) {
      closeSync(fd);
      fd = -1;
      return fullReader();
    }
    if (err instanceof HessboundError) throw err;
    return fail('IO', `cannot read ${path}: ${(err as Error).message}`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** The two passes over a source: count and check, then parse into the planned matrix. */
function parseCsvSource(path: string, source: ByteSource, opts: CsvOptions, hasFullReader: boolean): Dataset {
  // UTF-16 or binary: told apart from the first bytes, as the in-memory reader does.
  const head = headOf(source, 4096);
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
  if (utf16 || head.includes(0)) {
    if (utf16 && hasFullReader) throw new NeedsFullReader();
    fail('BAD_DATA', utf16 ? 'the CSV is UTF-16; files above 400 MB are read as UTF-8' : `${path} contains NUL bytes: it is binary, or UTF-16 without a byte-order mark`, 'save the file as UTF-8 text');
  }
  const hasHeader = opts.header ?? true;
  const budget = platformMemoryBudget();
  let delimiter = ',';
  let columns: string[] = [];
  let rows = 0;
  let firstLine = 0;
  // The matrix and the labels (and each row's line number), as planned for `rows` rows.
  const planned = (count: number, d: number) => 8 * count * d + 16 * count;
  const tooLarge = (count: number, d: number, atLeast: boolean): never =>
    fail('TOO_LARGE', `${path} holds ${atLeast ? 'at least ' : ''}${count.toLocaleString('en-US')} x ${d.toLocaleString('en-US')} values: ${formatBytes(planned(count, d))} as float64, more than available memory allows (${formatBytes(budget)})`, 'use fewer samples or features (a subsample)');
  // Pass 1: the header, the delimiter, the row count; quotes and NULs refused. A file whose rows
  // already exceed the budget is refused there, before the rest is read (or decompressed).
  eachLine(source, (bytes, number) => {
    if (bytes.includes(0x22) && hasFullReader) throw new NeedsFullReader();
    if (bytes.includes(0x22)) fail('BAD_DATA', `line ${number} has a quoted field; CSV files above 400 MB are read as plain numeric CSV`, 'remove the quotes, or save the data as .npy/.npz (numpy.save), which also loads faster');
    if (bytes.includes(0)) fail('BAD_DATA', 'the CSV contains NUL characters: it looks like UTF-16 (or binary) read as UTF-8', 'save it as UTF-8');
    if (firstLine === 0) {
      const text = bytes.toString('utf8');
      firstLine = number;
      delimiter = [',', '\t', ';'].find((c) => text.includes(c)) ?? ',';
      const cells = text.split(delimiter).map((c) => c.trim());
      if (hasHeader && cells.every(isNumericCell))
        fail('BAD_DATA', `line ${number} holds only numbers (${cells.slice(0, 4).join(',')}${cells.length > 4 ? ',...' : ''}), but the first line must be the header`, 'if the file has no header line, pass --no-header (option header: false); otherwise add a header such as f0,f1,...,label');
      columns = hasHeader ? cells : cells.map((_, i) => `#${i + 1}`);
      if (!hasHeader) rows++;
      return;
    }
    rows++;
    if (planned(rows, Math.max(1, columns.length - 1)) > budget) tooLarge(rows, Math.max(1, columns.length - 1), true);
  });
  if (firstLine === 0) fail('BAD_DATA', 'the CSV is empty', 'a CSV needs a header line and one line per sample');
  const width = columns.length;
  if (width < 2) fail('BAD_DATA', `the CSV has ${width} column; it needs feature columns and a label in the last column`, 'put the features first and the integer label last');
  if (rows === 0) fail('BAD_DATA', 'the CSV has a header but no data rows', 'add one line per sample below the header');
  const d = width - 1;
  // The matrix and the labels, planned before they exist.
  if (planned(rows, d) > budget) tooLarge(rows, d, false);
  // Pass 2: the numbers, straight into the matrix.
  const x = new Float64Array(rows * d);
  const labels = new Float64Array(rows);
  const lineOf = new Float64Array(rows);
  let r = 0;
  eachLine(source, (bytes, number) => {
    if (number === firstLine && hasHeader) return;
    if (r >= rows) fail('IO', `${path} changed while it was read (${rows} rows, then more)`, 'read it again once it is complete');
    const cells = bytes.toString('utf8').split(delimiter);
    if (cells.length !== width)
      fail('SHAPE_MISMATCH', `line ${number} has ${cells.length} values but ${hasHeader ? 'the header' : `line ${firstLine}`} has ${width}`, 'every line needs the same columns');
    const offset = r * d;
    for (let c = 0; c < d; c++) x[offset + c] = parseNumber((cells[c] as string).trim(), number, `${c + 1} (${columns[c] as string})`);
    labels[r] = parseLabel((cells[d] as string).trim(), number);
    lineOf[r] = number;
    r++;
  });
  if (r !== rows) fail('IO', `${path} changed while it was read (${rows} rows, then ${r})`, 'read it again once it is complete');
  const options: DatasetOptions = { ...(opts.classes !== undefined ? { classes: opts.classes } : {}), ...(opts.name !== undefined ? { name: opts.name } : {}) };
  return assemble({ data: x, rows, cols: d }, { kind: 'labels', values: labels }, options, (i) => `line ${lineOf[i] as number}: the label`);
}
