/** Little helpers for reading binary formats from a Uint8Array (browser-safe). */
import { fail, type ErrorCode } from '../errors.js';

/** Accepts what callers have: a Uint8Array (or Node Buffer), any other view, or an ArrayBuffer. */
export function asBytes(input: Uint8Array | ArrayBuffer | ArrayBufferView, what: string, code: ErrorCode): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return fail(code, `${what} must be bytes (a Uint8Array or ArrayBuffer), got ${input === null ? 'null' : typeof input}`);
}

export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Product of a shape's dimensions (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((total, dim) => total * dim, 1);
}

export function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 decoding; invalid bytes become `code` errors instead of replacement characters. */
export function decodeUtf8(bytes: Uint8Array, what: string, code: ErrorCode): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return fail(code, `${what} is not valid UTF-8 text`, 'the file is corrupt or not in the format its name says');
  }
}
