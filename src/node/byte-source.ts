/**
 * A file's bytes in chunks, without holding the file: plain files read in place, gzip files
 * decompressed as they stream. A gzip bomb then costs time, never memory, and callers count what
 * they keep (e.g. a byte cap) before keeping it.
 */
import { readSync } from 'node:fs';
import { Gunzip } from 'fflate';
import { fail } from '../errors.js';

/** Feeds a file's bytes (decompressed, for .gz), in order, to `chunk`; may be called more than once. */
export type ByteSource = (chunk: (bytes: Buffer) => void) => void;

/**
 * Compressed bytes given to the inflater at a time: deflate expands at most about 1,032 to 1, so no
 * piece of output is larger than about 4 MB, however the file was made.
 */
const GZIP_INPUT_PIECE = 4 * 1024;

/** A plain file read from `fd` in chunks of `chunkBytes` (the chunk buffer is reused: copy to keep). */
export function fileSource(fd: number, size: number, chunkBytes: number): ByteSource {
  return (chunk) => {
    const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, size)));
    for (let position = 0; position < size; ) {
      const read = readSync(fd, buffer, 0, buffer.length, position);
      if (read === 0) break;
      position += read;
      chunk(buffer.subarray(0, read));
    }
  };
}

/** A gzip file (one member or several) of `size` compressed bytes, decompressed as it streams. */
export function gunzipSource(fd: number, size: number, path: string, chunkBytes = 1024 * 1024): ByteSource {
  return (chunk) => {
    const input = Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, size)));
    // Errors of the consumer pass through; the inflater's own become IO errors.
    let consumerError: unknown;
    const inflater = new Gunzip((data) => {
      try {
        chunk(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      } catch (err) {
        consumerError = err;
        throw err;
      }
    });
    try {
      for (let position = 0; position < size; ) {
        const read = readSync(fd, input, 0, input.length, position);
        if (read === 0) break;
        position += read;
        for (let at = 0; at < read; at += GZIP_INPUT_PIECE) {
          const end = Math.min(read, at + GZIP_INPUT_PIECE);
          inflater.push(input.subarray(at, end), position >= size && end === read);
        }
      }
    } catch (err) {
      if (err === consumerError) throw err;
      fail('IO', `cannot decompress ${path}: ${(err as Error).message}`, 'is it really a gzip file?');
    }
  };
}

/**
 * A whole gzip file as bytes, refused with TOO_LARGE when it decompresses to more than `maxBytes`:
 * counted in a first pass that keeps nothing, then decompressed into one buffer of the exact size.
 */
export function gunzipWhole(fd: number, size: number, path: string, maxBytes: number, tooLarge: (bytes: number) => never): Buffer {
  const source = gunzipSource(fd, size, path);
  let total = 0;
  source((bytes) => {
    total += bytes.length;
    if (total > maxBytes) tooLarge(total);
  });
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  source((bytes) => {
    if (at + bytes.length > total) fail('IO', `${path} changed while it was read`, 'read it again once it is complete');
    bytes.copy(out, at);
    at += bytes.length;
  });
  return at === total ? out : out.subarray(0, at);
}

/** How many bytes a gzip file decompresses to, counted up to `limit` (limit + 1: more than that). */
export function gunzippedSizeUpTo(fd: number, size: number, path: string, limit: number): number {
  let total = 0;
  const enough = new Error('enough');
  try {
    gunzipSource(fd, size, path)((bytes) => {
      total += bytes.length;
      if (total > limit) throw enough;
    });
  } catch (err) {
    if (err !== enough) throw err;
    return limit + 1;
  }
  return total;
}
