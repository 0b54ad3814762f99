/**
 * The one way hessbound reads an input file (data, model): regular files only, size checked before
 * a byte is read. Opened non-blocking, so a FIFO is seen for what it is instead of blocking the
 * process (unkillable by the CLI's signal handlers, which need the event loop); devices
 * (/dev/zero, /dev/random, a symlink to one) and directories are refused; a file larger than the
 * caller's limit is refused with its size and the limit.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { fail, HessboundError } from '../errors.js';
import { formatBytes } from '../memory.js';

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

export interface ReadLimit {
  /** Largest size accepted, in bytes. */
  maxBytes: number;
  /** What to do about a file that is too large. */
  hint: string;
}

function osReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.startsWith(code) ? `${code}: ${message}` : message;
}

export function readInputFile(path: string, limit: ReadLimit): Buffer {
  return withInputFile(path, (fd, size) => {
    if (size > limit.maxBytes) fail('TOO_LARGE', `${path} is ${formatBytes(size)}, more than hessbound can hold here (${formatBytes(limit.maxBytes)})`, limit.hint);
    const bytes = Buffer.allocUnsafe(size);
    let read = 0;
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break; // shrank while being read
      read += n;
    }
    return read === bytes.length ? bytes : bytes.subarray(0, read);
  });
}

/**
 * Opens an input file with the same checks as readInputFile (regular files only, opened
 * non-blocking) and gives `use` its descriptor and size instead of its bytes (streamed inputs).
 */
export function withInputFile<T>(path: string, use: (fd: number, size: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return fail('IO', `cannot read ${path}: ${osReason(err)}`, 'check the path and the file permissions');
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile())
      fail('IO', `${path} is ${kindOf(stats)}; hessbound reads data and models from regular files only`, 'save the data to a file first (a pipe or device has no size to check before reading)');
    return use(fd, stats.size);
  } catch (err) {
    if (err instanceof HessboundError) throw err;
    return fail('IO', `cannot read ${path}: ${osReason(err)}`, 'check the path and the file permissions');
  } finally {
    closeSync(fd);
  }
}
