/**
 * CSV files above 16 MB (the in-memory reader's arrays of cell strings ran out of V8's heap at
 * 194 MB; V8 strings end at 512 MB; a 60,000 x 3,072 CSV is about 1.9 GB): read in chunks, twice — once to count the rows and check the format, once to parse the
 * numbers straight into the one float64 matrix the kernel needs. Same rules and messages as the
 * in-memory reader (src/io/csv.ts) for numeric CSVs; files with quoted fields or in UTF-16 go to
 * that reader when they are at most 400 MB, and are refused above.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { assemble, type DatasetOptions } from '../data.js';
import { fail, HessboundError } from '../errors.js';
import { isNumericCell, parseLabel, parseNumber, type CsvOptions } from '../io/csv.js';
import { formatBytes, platformMemoryBudget } from '../memory.js';
import type { Dataset } from '../types.js';

const CHUNK = 32 * 1024 * 1024;
/** Longest line taken (a row of 3,072 values is about 30 kB). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Calls `line(text, lineNumber)` for every non-empty line (1-based numbers, as editors count). */
function eachLine(fd: number, size: number, chunkBytes: number, line: (text: string, number: number) => void): void {
  const buffer = Buffer.allocUnsafe(chunkBytes);
  let carry: Buffer = Buffer.alloc(0);
  let number = 0;
  let position = 0;
  const emit = (bytes: Buffer) => {
    number++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--; // CRLF
    const text = bytes.toString('utf8', 0, end);
    if (text.trim() !== '') line(number === 1 ? text.replace(/^\uFEFF/, '') : text, number);
  };
  while (position < size) {
    const read = readSync(fd, buffer, 0, chunkBytes, position);
    if (read === 0) break;
    position += read;
    let chunk = carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, read)]) : buffer.subarray(0, read);
    let start = 0;
    for (let i = chunk.indexOf(0x0a, start); i !== -1; i = chunk.indexOf(0x0a, start)) {
      emit(chunk.subarray(start, i));
      start = i + 1;
    }
    if (chunk.length - start > MAX_LINE_BYTES)
      fail('BAD_DATA', `line ${number + 1} is longer than ${formatBytes(MAX_LINE_BYTES)} (no line break)`, 'a CSV has one sample per line; is this a CSV file?');
    carry = Buffer.from(chunk.subarray(start));
    chunk = Buffer.alloc(0);
  }
  if (carry.length > 0) emit(carry);
}

/** Thrown inside pass 1 when the file needs the RFC 4180 reader (quotes, UTF-16). */
class NeedsFullReader extends Error {}

/**
 * `chunkBytes`: the read size (tests use tiny chunks to cross line boundaries). `fullReader`: what
 * to do with a file this reader does not take (quoted fields, UTF-16): the in-memory reader when the
 * file is small enough for it; without one such a file is refused.
 */
export function readLargeCsv(path: string, opts: CsvOptions = {}, chunkBytes = CHUNK, fullReader?: () => Dataset): Dataset {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return fail('IO', `cannot read ${path}: ${(err as Error).message}`, 'check the path and the file permissions');
  }
  try {
    const size = fstatSync(fd).size;
    // UTF-16 or binary: told apart from the first bytes, as the in-memory reader does.
    const head = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, head, 0, head.length, 0);
    const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
    if (utf16 || head.includes(0)) {
      if (utf16 && fullReader) throw new NeedsFullReader();
      fail('BAD_DATA', utf16 ? 'the CSV is UTF-16; files above 400 MB are read as UTF-8' : `${path} contains NUL bytes: it is binary, or UTF-16 without a byte-order mark`, 'save the file as UTF-8 text');
    }
    const hasHeader = opts.header ?? true;
    let delimiter = ',';
    let columns: string[] = [];
    let rows = 0;
    let firstLine = 0;
    // Pass 1: the header, the delimiter, the row count; quotes and NULs refused.
    eachLine(fd, size, chunkBytes, (text, number) => {
      if (text.includes('"') && fullReader) throw new NeedsFullReader();
      if (text.includes('"')) fail('BAD_DATA', `line ${number} has a quoted field; CSV files above 400 MB are read as plain numeric CSV`, 'remove the quotes, or save the data as .npy/.npz (numpy.save), which also loads faster');
      if (text.includes('\u0000')) fail('BAD_DATA', 'the CSV contains NUL characters: it looks like UTF-16 (or binary) read as UTF-8', 'save it as UTF-8');
      if (firstLine === 0) {
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
    });
    if (firstLine === 0) fail('BAD_DATA', 'the CSV is empty', 'a CSV needs a header line and one line per sample');
    const width = columns.length;
    if (width < 2) fail('BAD_DATA', `the CSV has ${width} column; it needs feature columns and a label in the last column`, 'put the features first and the integer label last');
    if (rows === 0) fail('BAD_DATA', 'the CSV has a header but no data rows', 'add one line per sample below the header');
    const d = width - 1;
    // The matrix and the labels, planned before they exist.
    const need = 8 * rows * d + 16 * rows;
    const budget = platformMemoryBudget();
    if (need > budget)
      fail('TOO_LARGE', `${path} holds ${rows.toLocaleString('en-US')} x ${d.toLocaleString('en-US')} values: ${formatBytes(need)} as float64, more than available memory allows (${formatBytes(budget)})`, 'use fewer samples or features (a subsample)');
    // Pass 2: the numbers, straight into the matrix.
    const x = new Float64Array(rows * d);
    const labels = new Float64Array(rows);
    const lineOf = new Float64Array(rows);
    let r = 0;
    eachLine(fd, size, chunkBytes, (text, number) => {
      if (number === firstLine && hasHeader) return;
      const cells = text.split(delimiter);
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
