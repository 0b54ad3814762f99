/** Small statistics and formatting helpers for the benches: medians and ranges, never single times. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function summarize(values: readonly number[]): Summary {
  return {
    median: median(values),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
    n: values.length,
  };
}

/** |a - b| / |b| (b is the reference). */
export function relDiff(a: number | null | undefined, b: number | null | undefined): number {
  if (a === null || a === undefined || b === null || b === undefined) return Number.NaN;
  if (b === 0) return Math.abs(a);
  return Math.abs(a - b) / Math.abs(b);
}

/** Seconds as a short human string: 0.91 ms, 45.2 ms, 1.23 s. */
export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return 'n/a';
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} us`;
  if (s < 1) return `${(s * 1e3).toFixed(s < 0.01 ? 2 : 1)} ms`;
  return `${s.toFixed(2)} s`;
}

export function fmtSummary(x: Summary): string {
  return `${fmtSeconds(x.median)} (${fmtSeconds(x.min)}-${fmtSeconds(x.max)}, n=${x.n})`;
}

export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return 'n/a';
  return r >= 100 ? `${r.toFixed(0)}x` : r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

export function fmtSci(x: number): string {
  return Number.isFinite(x) ? x.toExponential(1) : 'n/a';
}

/** "met" / "MISSED" against a target, for the printed verdict lines. */
export function verdict(value: number, target: number): string {
  if (!Number.isFinite(value)) return 'not measured';
  return value >= target ? `target >= ${target}x met` : `MISSED target >= ${target}x`;
}
