/**
 * Axes from the data: linear axes with ticks at 1, 2, 2.5 or 5 times a power of ten, log axes whose
 * range is the data's (padded a little, not widened to whole decades) with ticks that suit the span:
 * decades when it covers several, 1-2-5 steps within one or two, plain linear steps within less
 * than a decade. Labels are numbers with at most 4 significant digits; exponent labels ("1e-5")
 * are drawn as powers of ten.
 */

export interface Tick {
  value: number;
  /** null for a minor tick (grid line only). */
  text: string | null;
}

/** Maps data values to [0, 1] along an axis. */
export interface Axis {
  readonly min: number;
  readonly max: number;
  readonly log: boolean;
  position(v: number): number;
  ticks: Tick[];
}

/** A number for a label: `digits` significant digits, exponent form when very large or small. */
export function label(v: number, digits = 4): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(digits)));
  return Number(v.toPrecision(Math.max(1, digits - 2))).toExponential().replace('e+', 'e');
}

/** A step of 1, 2, 2.5 or 5 times a power of ten, near (max - min) / count. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw * 0.999) as number) * power;
}

/** Tick values `step` apart inside [min, max]. */
function stepsInside(min: number, max: number, step: number): number[] {
  const out: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + 1e-9 * step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A tick's label: the fewest significant digits that still say its value exactly (1250, not 1300). */
function tickText(value: number): string {
  for (let digits = 1; digits <= 15; digits++) {
    const text = label(value, digits);
    if (Math.abs(Number(text) - value) <= 1e-9 * Math.abs(value)) return text;
  }
  return String(value);
}

/**
 * About `count` ticks; the range widened to whole ticks, or with `exact` kept as given (a constant
 * range is widened by 5% or by 1 around 0).
 */
export function linearAxis(minIn: number, maxIn: number, count = 5, exact = false): Axis {
  let min = minIn;
  let max = maxIn;
  if (!(max - min > 1e-12 * Math.max(Math.abs(min), Math.abs(max), 1e-300))) {
    const pad = Math.abs(min) > 0 ? 0.05 * Math.abs(min) : 1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min, count);
  const [a, b] = exact ? [min, max] : [Math.floor(min / step + 1e-9) * step, Math.ceil(max / step - 1e-9) * step];
  const ticks = stepsInside(a, b, step).map((value) => ({ value, text: tickText(value) }));
  return { min: a, max: b, log: false, position: (v) => (v - a) / (b - a), ticks };
}

/**
 * A log axis over [min, max] (both > 0) padded by `pad` of its span in log units on each side (0:
 * exactly the data's range).
 */
export function logAxis(minIn: number, maxIn: number, pad = 0.04): Axis {
  if (!(minIn > 0 && maxIn > 0 && Number.isFinite(minIn) && Number.isFinite(maxIn))) throw new Error(`log axis over [${minIn}, ${maxIn}]`);
  let lo = Math.log10(Math.min(minIn, maxIn));
  let hi = Math.log10(Math.max(minIn, maxIn));
  if (hi - lo < 1e-9) {
    lo -= 0.05;
    hi += 0.05;
  } else {
    const p = pad * (hi - lo);
    lo -= p;
    hi += p;
  }
  const [min, max] = [10 ** lo, 10 ** hi];
  const span = hi - lo;
  let ticks: Tick[];
  if (span < 1) {
    // Less than a decade: evenly spaced values, as on a linear axis (placed logarithmically).
    ticks = stepsInside(min, max, niceStep(max - min, 5)).map((value) => ({ value, text: tickText(value) }));
  } else {
    const every = Math.ceil(span / 8);
    const labelled = span < 2.5 ? [1, 2, 5] : [1];
    ticks = [];
    for (let k = Math.floor(lo); k <= Math.ceil(hi); k++)
      for (let m = 1; m <= 9; m++) {
        const value = Number((m * 10 ** k).toPrecision(12));
        if (value < min * (1 - 1e-12) || value > max * (1 + 1e-12)) continue;
        if (span > 4 && m > 1) continue;
        const text = labelled.includes(m) && (m > 1 || ((k % every) + every) % every === 0) ? tickText(value) : null;
        ticks.push({ value, text });
      }
  }
  return { min, max, log: true, position: (v) => (Math.log10(v) - lo) / (hi - lo), ticks };
}
