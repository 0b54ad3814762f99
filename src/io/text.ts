/**
 * Bytes of a data or model file to text: UTF-8 (a leading byte-order mark dropped) or UTF-16 with a
 * byte-order mark; anything else with NUL bytes is named as binary/UTF-16 rather than parsed into
 * confusing errors. Pure (TextDecoder), so it runs in browsers too.
 */
import { fail } from '../errors.js';

/**
 * Largest text read whole. V8 strings end at about 512 MB (2^29 - 24 UTF-16 units), beyond which
 * decoding throws a RangeError; data sets this large want a binary format or a subsample anyway.
 */
export const MAX_TEXT_BYTES = 400 * 1024 * 1024;

export function decodeText(bytes: Uint8Array, what: string): string {
  if (bytes.length > MAX_TEXT_BYTES)
    fail(
      'TOO_LARGE',
      `${what} is ${(bytes.length / 1e6).toFixed(0)} MB of text; hessbound reads text data whole, up to ${MAX_TEXT_BYTES / 1024 / 1024} MB`,
      'subsample the data, or store it in a binary format (e.g. .npy) instead of CSV/JSON text',
    );
  const [b0, b1] = [bytes[0], bytes[1]];
  if (b0 === 0xff && b1 === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (b0 === 0xfe && b1 === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const head = bytes.subarray(0, Math.min(bytes.length, 4096));
  if (head.includes(0))
    fail('BAD_DATA', `${what} contains NUL bytes: it is binary, or UTF-16 without a byte-order mark`, 'save the file as UTF-8 text (or UTF-16 with a byte-order mark)');
  const text = new TextDecoder('utf-8').decode(bytes);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
