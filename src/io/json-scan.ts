/**
 * A look at JSON text before JSON.parse builds it: how many elements the root object's array under
 * `key` has, found in one pass over the characters with nothing allocated. JSON.parse of a
 * 100,000-layer model allocates 400,000 arrays (and its time grows faster than the text with the
 * garbage collector's work); counted here, such a model is refused after reading its first
 * thousand layers.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The number of elements of `root[key]` when it is an array, counting stops once it passes
 * `stopAfter` (then stopAfter + 1 is returned); null when the text has no such array (malformed
 * text included: JSON.parse then says what is wrong).
 */
export function countRootArrayElements(text: string, key: string, stopAfter: number): number | null {
  let depth = 0;
  // The last string closed at depth 1 and whether a colon followed it (it was a key).
  let lastString = '';
  let keyPending = false;
  let counting = false;
  let count = 0;
  // Inside the counted array: whether the next value starts a new element.
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      for (i = start; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
      if (counting && depth === 2 && expectValue) {
        count++;
        expectValue = false;
      }
      if (depth === 1) {
        lastString = text.slice(start, Math.min(i, start + key.length + 1));
        keyPending = false;
      }
      continue;
    }
    if (isSpace(c)) continue;
    if (depth === 1 && c === COLON) {
      keyPending = lastString === key;
      continue;
    }
    if (counting && depth === 2) {
      if (c === COMMA) {
        expectValue = true;
        continue;
      }
      if (expectValue && c !== 0x5d) {
        count++;
        expectValue = false;
        if (count > stopAfter) return count;
      }
    }
    if (c === 0x7b || c === 0x5b) {
      // An array opened as the value of the key: count its elements.
      if (depth === 1 && c === 0x5b && keyPending) {
        counting = true;
        expectValue = true;
      }
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (counting && depth === 1) return count;
    }
    if (depth === 1 && c !== COLON) keyPending = keyPending && (c === 0x5b || c === 0x7b);
  }
  return null;
}
