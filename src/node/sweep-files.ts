/**
 * Sweep results on disk: a CSV (one row per point, the record of what is done) and JSON lines
 * (the same points with their job spec and training curve). Each point is appended and fsynced
 * as soon as it finishes: JSON line first, then the CSV row. On resume, the CSV decides: a
 * partially written last row is cut off (that point runs again), and JSON lines whose key has no
 * CSV row, or repeat one, are dropped; so an interrupted sweep resumes with no row duplicated
 * or lost.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { HessboundError, fail } from '../errors.js';
import { CSV_HEADER, csvLayoutOf, csvRow, parseCsvRowOf } from '../sweep/csv.js';
import type { SweepRecord, SweepResult } from '../sweep/result.js';
import { acquireSweepLock, checkSweepSpec } from './sweep-guard.js';

export interface SweepFilesOptions {
  csvPath: string;
  /** Default: the CSV path with .jsonl instead of .csv; null: no JSON lines. */
  jsonlPath?: string | null;
  /** Keep the rows already in the files and append. */
  resume?: boolean;
  /** Start the files afresh even if they exist. */
  overwrite?: boolean;
  /**
   * The normalized sweep (sweep-guard.ts sweepSpec): stored beside the CSV, and compared on resume.
   * While the files are open they are locked (CSV path + .lock) against a second sweep.
   */
  spec?: Record<string, unknown>;
}

export interface SweepFiles {
  readonly csvPath: string;
  readonly jsonlPath: string | null;
  /** Rows found in the CSV when it was opened (resume), by key. */
  readonly previous: ReadonlyMap<string, SweepResult>;
  append(record: SweepRecord): void;
  close(): void;
}

export function defaultJsonlPath(csvPath: string): string {
  return csvPath.replace(/\.csv$/i, '') + '.jsonl';
}

function ioError(action: string, path: string, err: unknown): never {
  return fail('IO', `cannot ${action} ${path}: ${(err as Error).message}`);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    return ioError('read', path, err);
  }
}

/** Reads the CSV's complete rows, cutting off a partial last line; returns the rows by key. */
function recoverCsv(path: string): Map<string, SweepResult> {
  const text = readText(path);
  const complete = text.lastIndexOf('\n') + 1;
  if (complete < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, complete)));
  const lines = text.slice(0, complete).split('\n').slice(0, -1);
  const rows = new Map<string, SweepResult>();
  if (lines.length === 0) {
    writeFileSync(path, `${CSV_HEADER}\n`);
    return rows;
  }
  // A CSV from before the HSR or mini-batch columns (its rows are plain full-batch points, same
  // keys) or with a column's old name: read, then rewritten below with today's header.
  const columns = csvLayoutOf(lines[0] as string);
  if (columns === null)
    fail('BAD_DATA', `${path} does not have the columns of a hessbound sweep (written by another version, or another file?)`, 'choose another --out, or --overwrite to start it again');
  const before = lines[0] !== CSV_HEADER;
  const parsed: SweepResult[] = [];
  lines.slice(1).forEach((line, i) => {
    let row: SweepResult;
    try {
      row = parseCsvRowOf(line, columns);
    } catch (err) {
      const reason = err instanceof HessboundError ? err.message : String(err);
      return fail('BAD_DATA', `${path} line ${i + 2} is damaged: ${reason}`, 'fix or delete that line, then resume again');
    }
    parsed.push(row);
    if (!rows.has(row.key)) rows.set(row.key, row);
  });
  if (before) {
    // Numbers round-trip exactly, so the rewritten rows hold the same values, with the new columns.
    const temp = `${path}.tmp`;
    try {
      writeFileSync(temp, [CSV_HEADER, ...parsed.map(csvRow)].map((l) => `${l}\n`).join(''));
      renameSync(temp, path);
    } catch (err) {
      ioError('rewrite', path, err);
    }
  }
  return rows;
}

/** Keeps the JSON lines that have a CSV row (first of each key); rewrites the file if that drops any. */
function reconcileJsonl(path: string, keys: ReadonlySet<string>): void {
  if (!existsSync(path)) return;
  const text = readText(path);
  const kept: string[] = [];
  const seen = new Set<string>();
  let dropped = 0;
  const lines = text.split('\n');
  // The last piece is '' after a final newline, else a partial line.
  lines.forEach((line, i) => {
    if (i === lines.length - 1 && line === '') return;
    let key: unknown;
    try {
      key = i === lines.length - 1 ? undefined : (JSON.parse(line) as { key?: unknown }).key;
    } catch {
      key = undefined;
    }
    if (typeof key === 'string' && keys.has(key) && !seen.has(key)) {
      seen.add(key);
      kept.push(line);
    } else dropped++;
  });
  if (dropped === 0) return;
  const temp = `${path}.tmp`;
  writeFileSync(temp, kept.map((l) => `${l}\n`).join(''));
  renameSync(temp, path);
}

function openAppend(path: string): number {
  try {
    return openSync(path, 'a');
  } catch (err) {
    return ioError('open', path, err);
  }
}

function appendLine(fd: number, line: string, path: string): void {
  try {
    writeSync(fd, `${line}\n`);
    fsyncSync(fd);
  } catch (err) {
    ioError('write', path, err);
  }
}

export function openSweepFiles(options: SweepFilesOptions): SweepFiles {
  const { csvPath } = options;
  const jsonlPath = options.jsonlPath === undefined ? defaultJsonlPath(csvPath) : options.jsonlPath;
  try {
    mkdirSync(dirname(csvPath), { recursive: true });
    if (jsonlPath) mkdirSync(dirname(jsonlPath), { recursive: true });
  } catch (err) {
    ioError('create the folder of', csvPath, err);
  }
  let previous = new Map<string, SweepResult>();
  const release = acquireSweepLock(csvPath);
  try {
    if (existsSync(csvPath) && !options.overwrite) {
      if (!options.resume)
        fail('IO', `${csvPath} already exists`, 'add --resume to continue that sweep, --overwrite to start it again, or choose another --out');
      if (options.spec) checkSweepSpec(csvPath, options.spec, true);
      previous = recoverCsv(csvPath);
      if (jsonlPath) reconcileJsonl(jsonlPath, new Set(previous.keys()));
    } else {
      if (options.spec) checkSweepSpec(csvPath, options.spec, false);
      try {
        writeFileSync(csvPath, `${CSV_HEADER}\n`);
        if (jsonlPath) writeFileSync(jsonlPath, '');
      } catch (err) {
        ioError('write', csvPath, err);
      }
    }
  } catch (err) {
    release();
    throw err;
  }
  const csvFd = openAppend(csvPath);
  const jsonlFd = jsonlPath ? openAppend(jsonlPath) : null;
  return {
    csvPath,
    jsonlPath,
    previous,
    append(record) {
      // JSON line first: a crash between the two writes leaves an orphan line, which resume drops.
      if (jsonlFd !== null && jsonlPath) appendLine(jsonlFd, JSON.stringify(record), jsonlPath);
      appendLine(csvFd, csvRow(record.result), csvPath);
    },
    close() {
      closeSync(csvFd);
      if (jsonlFd !== null) closeSync(jsonlFd);
      release();
    },
  };
}
