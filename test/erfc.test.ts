/**
 * erfc in TypeScript (src/math/erfc.ts) against values from mpmath at 40 digits:
 *   python3 -c "import mpmath as mp; mp.mp.dps = 40; print(float(mp.erfc(mp.mpf(x))))"
 * The points cover both sides of every switch between methods (0.5, 1, 2, 4, 8, 16) and the far tail.
 */
import { describe, expect, it } from 'vitest';
import { erfc } from '../src/math/erfc.js';

const REFERENCE: readonly [number, number][] = [
  [-6, 2.0],
  [-3, 1.9999779095030015],
  [-1.5, 1.9661051464753108],
  [-0.75, 1.7111556336535152],
  [-0.5, 1.5204998778130465],
  [-0.49, 1.511668261188523],
  [-0.25, 1.276326390168237],
  [-0.001, 1.0011283787909693],
  [-1e-300, 1.0],
  [0, 1.0],
  [1e-300, 1.0],
  [1e-08, 0.9999999887162083],
  [0.1, 0.887537083981715],
  [0.25, 0.7236736098317631],
  [0.4999999, 0.47950021006521576],
  [0.5, 0.4795001221869535],
  [0.75, 0.28884436634648486],
  [0.9999999, 0.157299248561039],
  [1, 0.15729920705028513],
  [1.0309273233720369, 0.14485393871205698],
  [1.5, 0.033894853524689274],
  [1.999, 0.004698443348629487],
  [2, 0.004677734981047266],
  [2.5, 0.0004069520174449589],
  [3, 2.209049699858544e-05],
  [3.4979819139184016, 7.540721944414509e-07],
  [3.9, 3.4792248597231765e-08],
  [4, 1.541725790028002e-08],
  [4.65207077218265, 4.735540485176082e-11],
  [5, 1.537459794428035e-12],
  [7, 4.183825607779414e-23],
  [7.99, 1.3186752894076767e-29],
  [8, 1.1224297172982926e-29],
  [8.436127130646373, 8.209340129055993e-33],
  [10, 2.088487583762545e-45],
  [12, 1.3562611692059042e-64],
  [13.242374183804898, 2.952183918270661e-78],
  [15, 7.212994172451207e-100],
  [16, 2.3284857515715308e-113],
  [18.646200970223475, 3.0503864044057587e-153],
  [20, 5.395865611607901e-176],
  [22.42301210811698, 1.098344196081884e-220],
  [25, 8.300172571196523e-274],
  [26, 5.663192408856143e-296],
];

describe('erfc', () => {
  it('matches mpmath to 1e-15 relative from -6 to 26', () => {
    let worst = 0;
    for (const [x, expected] of REFERENCE) {
      const relative = Math.abs(erfc(x) - expected) / expected;
      worst = Math.max(worst, relative);
      expect(relative, `erfc(${x})`).toBeLessThan(1e-15);
    }
    expect(worst).toBeGreaterThan(0); // the check compares real values, not copies of 1
  });

  it('keeps the limits and symmetry: erfc(-x) = 2 - erfc(x), 0 past underflow, NaN stays NaN', () => {
    expect(erfc(Infinity)).toBe(0);
    expect(erfc(-Infinity)).toBe(2);
    expect(erfc(40)).toBe(0);
    expect(Number.isNaN(erfc(NaN))).toBe(true);
    for (const x of [0.3, 0.7, 1.9, 3.3, 5.5]) expect(erfc(-x) + erfc(x)).toBeCloseTo(2, 15);
  });

  it('is continuous across the switches between methods (no jump larger than the slope explains)', () => {
    for (const edge of [0.5, 1, 2, 4, 8, 16]) {
      const [a, b] = [edge * (1 - 1e-12), edge * (1 + 1e-12)];
      const below = erfc(a);
      const above = erfc(b);
      const slope = (2 / Math.sqrt(Math.PI)) * Math.exp(-edge * edge);
      expect(Math.abs(below - above - (b - a) * slope) / above, `at ${edge}`).toBeLessThan(4e-15); // two evaluations, each within ~1e-15
    }
  });
});
