/**
 * Text widths without a DOM: advance widths of DejaVu Sans, the first and widest font of the plots'
 * font list (Helvetica and Arial are narrower, so layouts made with these widths fit them too).
 * Measured once with canvas measureText at 1000 px in Chromium; characters not in the table count
 * as wide ones. Layout uses these to wrap, shorten and place texts so that none leaves the canvas
 * or covers another.
 */

const CHARS = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~λ×−±–—←→²·≤≥…√ρβσ";
// prettier-ignore
const NORMAL = [318,401,460,838,636,950,780,275,390,390,500,838,318,361,318,337,636,636,636,636,636,636,636,636,636,636,337,337,838,838,838,531,1000,684,686,698,770,632,575,775,752,295,295,656,557,863,748,787,603,787,695,635,611,732,684,989,685,611,685,390,337,390,838,500,500,613,635,550,635,615,352,635,634,278,278,579,278,974,634,612,635,635,411,521,392,634,592,818,592,592,525,636,337,636,838,592,838,838,838,500,1000,838,838,401,318,838,838,1000,637,635,638,634];
// prettier-ignore
const BOLD = [348,456,521,838,696,1002,872,306,457,457,523,838,380,415,380,365,696,696,696,696,696,696,696,696,696,696,400,400,838,838,838,580,1000,774,762,734,830,683,683,821,837,372,372,775,637,995,837,850,733,850,770,720,682,812,774,1103,771,724,725,457,365,457,838,500,500,675,716,593,716,678,435,716,712,343,343,665,343,1042,712,687,716,716,493,595,478,712,652,924,645,652,582,712,365,712,838,633,838,838,838,500,1000,838,838,438,380,838,838,1000,667,716,716,779];

const normal = new Map<string, number>();
const bold = new Map<string, number>();
[...CHARS].forEach((ch, i) => {
  normal.set(ch, (NORMAL[i] as number) / 1000);
  bold.set(ch, (BOLD[i] as number) / 1000);
});

export const ELLIPSIS = '\u2026';

/** Width in pixels of `text` at `size` px. */
export function textWidth(text: string, size: number, isBold = false): number {
  const table = isBold ? bold : normal;
  let em = 0;
  for (const ch of text) em += table.get(ch) ?? 1;
  return em * size;
}

/** Height of a line box (DejaVu Sans ascent + descent is 1.164 em). */
export function lineHeight(size: number): number {
  return Math.ceil(1.17 * size);
}

/** The longest prefix of `text` that fits with an ellipsis after it. */
function fitPrefix(text: string, width: number, size: number, isBold: boolean): string {
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (textWidth(chars.slice(0, mid).join('') + ELLIPSIS, size, isBold) <= width) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join('').trimEnd() + ELLIPSIS;
}

/** `text` if it fits in `width`, else cut at the end with an ellipsis. */
export function shorten(text: string, width: number, size: number, isBold = false): string {
  return textWidth(text, size, isBold) <= width ? text : fitPrefix(text, width, size, isBold);
}

/**
 * `text` broken into lines at spaces (words longer than a line are shortened), at most `maxLines`;
 * the last line ends with an ellipsis when text was left out.
 */
export function wrap(text: string, width: number, size: number, maxLines = Infinity, isBold = false): string[] {
  const lines: string[] = [];
  let current = '';
  const words = text.split(/ +/).filter((w) => w !== '');
  for (let i = 0; i < words.length; i++) {
    const word = shorten(words[i] as string, width, size, isBold);
    const candidate = current ? `${current} ${word}` : word;
    if (textWidth(candidate, size, isBold) <= width || !current) {
      current = candidate;
      continue;
    }
    lines.push(current);
    current = word;
    if (lines.length === maxLines) {
      lines[maxLines - 1] = fitPrefix(`${lines[maxLines - 1] as string} ${words.slice(i).join(' ')}`, width, size, isBold);
      return lines;
    }
  }
  if (current) lines.push(current);
  return lines;
}
