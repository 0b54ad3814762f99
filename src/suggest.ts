/**
 * "Did you mean ...?" for mistyped names (commands, options, data sets). Edit distance with
 * adjacent transpositions (optimal string alignment), case-insensitive; a name also matches when
 * what was typed is a prefix of it (--max-iter for --max-iterations). Pure.
 */

function editDistance(a: string, b: string): number {
  // Three rolling rows of the dynamic programme: two back for the transposition step.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] as number) + 1);
      current.push(d);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] as number;
}

/** The candidates close to `typed`, closest first (at most three). */
export function closestNames(typed: string, candidates: readonly string[]): string[] {
  const word = typed.trim().toLowerCase();
  if (word === '') return [];
  // One edit per three characters, at least one: 'irsi' -> 'iris', 'analyse' -> 'analyze'.
  const allowed = Math.max(1, Math.floor(word.length / 3));
  return candidates
    .map((name) => {
      const lower = name.toLowerCase();
      const prefix = word.length >= 3 && lower.startsWith(word);
      return { name, distance: prefix ? 0.5 : editDistance(word, lower) };
    })
    .filter((c) => c.distance <= allowed)
    .sort((x, y) => x.distance - y.distance)
    .slice(0, 3)
    .map((c) => c.name);
}

/** "; did you mean 'x'?" (or 'x' or 'y'), or '' when nothing is close. */
export function didYouMean(typed: string, candidates: readonly string[]): string {
  const close = closestNames(typed, candidates);
  if (close.length === 0) return '';
  return `; did you mean ${close.map((c) => `'${c}'`).join(' or ')}?`;
}
