/**
 * The complementary error function erfc(x) = 1 - erf(x), to about 1e-15 relative (test/erfc.test.ts
 * checks it against mpmath values). JavaScript has no erf; the kernel uses std::erfc, and this is
 * its TypeScript twin for the forward pass (GELU) so the default install needs no math package.
 *
 * |x| < 0.5: 1 - erf(x) from the Taylor series of erf (erfc is near 1: no cancellation).
 * 0.5 <= x < 27.5: erfc(x) = exp(-x^2) g(x), g smooth and slowly varying, from Chebyshev expansions
 * on six intervals (coefficients: scripts/erfc-chebyshev.py, mpmath at 50 digits); exp(-x^2) is
 * formed from an exactly squared high part so its rounding does not grow with x^2.
 * x >= 27.5: 0 (erfc underflows). x <= -0.5: 2 - erfc(-x).
 */

interface ChebyshevPiece {
  readonly from: number;
  readonly to: number;
  /** g(x) = sum_j c_j T_j(t), t = (2x - from - to) / (to - from). */
  readonly coefficients: readonly number[];
}

const PIECES: readonly ChebyshevPiece[] = [
  { from: 0.5, to: 1.0, coefficients: [5.1425403004481406e-1, -9.3534361576316469e-2, 7.3495435679659607e-3, -5.1702876831709545e-4, 3.3274891810398319e-5, -1.9877609419315704e-6, 1.1137198399251981e-7, -5.8986496093891293e-9, 2.9712990142852805e-10, -1.4304881857762571e-11, 6.6086162842655768e-13, -2.9395552899978546e-14, 1.2625028540389157e-15, -5.2483535009959204e-17] },
  { from: 1.0, to: 2.0, coefficients: [3.3142728163945198e-1, -8.5002137706743194e-2, 9.9511273414661154e-3, -1.0810888102208325e-3, 1.102324363119495e-4, -1.0636830518218601e-5, 9.7750126804790564e-7, -8.597922867888316e-8, 7.2677084117248423e-9, -5.9235438405925421e-10, 4.6683928572294157e-11, -3.5661277015677502e-12, 2.6458779519104522e-13, -1.9101658673527566e-14, 1.3439765884798289e-15, -9.2287905490943258e-17, 6.1926730846439106e-18] },
  { from: 2.0, to: 4.0, coefficients: [1.8742956902622409e-1, -5.7946528836690968e-2, 8.5952473873965327e-3, -1.2284613640242594e-3, 1.6974366686180487e-4, -2.2738329337044563e-5, 2.9598443788048781e-6, -3.7513575581379711e-7, 4.6372828761738247e-8, -5.5994553925640879e-9, 6.613160896679916e-10, -7.6482715221998168e-11, 8.6709043258765937e-12, -9.6454562743821085e-13, 1.0536827959360626e-13, -1.1312630906760667e-14, 1.1945180669174576e-15, -1.241310752580407e-16, 1.270246323185436e-17] },
  { from: 4.0, to: 8.0, coefficients: [9.7995575568621981e-2, -3.2617162422838792e-2, 5.3544445130489408e-3, -8.6750856176183862e-4, 1.387834577332989e-4, -2.1933248302183236e-5, 3.4257168244107047e-6, -5.2899555305133481e-7, 8.0790765275379452e-8, -1.2207511691612988e-8, 1.8255151508559987e-9, -2.7024969193563976e-10, 3.9617523035370554e-11, -5.7526190432002361e-12, 8.2757528913825952e-13, -1.1798167744445412e-13, 1.6671816868045592e-14, -2.3356287455465851e-15, 3.2446200044957893e-16, -4.4703901732067544e-17, 6.1098011122762603e-18, -8.2848306812744155e-19] },
  { from: 8.0, to: 16.0, coefficients: [4.9640214802142801e-2, -1.6897808070160117e-2, 2.8652408255077656e-3, -4.8403293647937438e-4, 8.146859582420295e-5, -1.3662340878975885e-5, 2.2829539932731385e-6, -3.8012244443558581e-7, 6.3069722006299501e-8, -1.0428112493713957e-8, 1.7182796156078594e-9, -2.8216353600775822e-10, 4.6178740552481151e-11, -7.5323813710201025e-12, 1.2245769587090083e-12, -1.9843471721769581e-13, 3.2050951925946497e-14, -5.160235538551778e-15, 8.281647822511873e-16, -1.3249383610142046e-16, 2.1130951179180253e-17, -3.3596913788621184e-18, 5.3253596788658733e-19] },
  { from: 16.0, to: 27.5, coefficients: [2.6862818426428668e-2, -7.2135030200587298e-3, 9.6743638737510598e-4, -1.2960204855126868e-4, 1.7342681279138172e-5, -2.318126945336688e-6, 3.0951124907665378e-7, -4.1279606920729884e-8, 5.4994111544629832e-9, -7.3184644282965847e-10, 9.7285583082465156e-11, -1.2918239822937059e-11, 1.7135079236865102e-12, -2.2703790885320964e-13, 3.0049806738911592e-14, -3.9729909763307344e-15, 5.2471997705508449e-16, -6.9226642267305981e-17, 9.123386975781599e-18, -1.2010956298182709e-18] },
];

const TWO_OVER_SQRT_PI = 1.1283791670955126;
const UNDERFLOW = 27.5;

/** erf(x) for |x| < 0.5 by its Taylor series (terms alternate and shrink fast: at most ~14 terms). */
function erfSmall(x: number): number {
  const x2 = x * x;
  let power = x; // (-1)^n x^(2n+1) / n!
  let sum = x;
  for (let n = 1; n < 40; n++) {
    power *= -x2 / n;
    const term = power / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

function clenshaw(piece: ChebyshevPiece, x: number): number {
  const t = (2 * x - piece.from - piece.to) / (piece.to - piece.from);
  const c = piece.coefficients;
  let b1 = 0;
  let b2 = 0;
  for (let j = c.length - 1; j >= 1; j--) {
    const b0 = 2 * t * b1 - b2 + (c[j] as number);
    b2 = b1;
    b1 = b0;
  }
  return t * b1 - b2 + (c[0] as number);
}

/** exp(-x^2) without the error of rounding x^2: x = hi + lo with hi^2 exact. */
function expMinusSquare(x: number): number {
  const hi = Math.fround(x); // 24 significant bits, so hi * hi is exact in float64
  return Math.exp(-hi * hi) * Math.exp(-(x - hi) * (x + hi));
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0.5) return x > -0.5 ? 1 - erfSmall(x) : 2 - erfc(-x);
  if (x >= UNDERFLOW) return 0;
  let i = 0;
  while (x >= (PIECES[i] as ChebyshevPiece).to) i++;
  return expMinusSquare(x) * clenshaw(PIECES[i] as ChebyshevPiece, x);
}
