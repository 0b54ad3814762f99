/** Numbers as people write them in data files and options. Pure. */

/**
 * Number(text), except for hexadecimal, binary and octal literals (0x10 is 16 to Number(), and to
 * no one who typed it in a CSV or an option) and blank text (0 to Number()).
 */
export function decimal(text: string): number {
  if (text.trim() === '' || /^\s*[+-]?0[xob]/i.test(text)) return Number.NaN;
  return Number(text);
}

/** A value quoted in an error message: at most 40 characters (a 5 MB field is not echoed whole). */
export function quoted(text: string): string {
  return text.length <= 40 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 40))}… (${text.length.toLocaleString('en-US')} characters)`;
}
