#!/usr/bin/env python3
"""
Chebyshev coefficients for src/math/erfc.ts (run: python3 scripts/erfc-chebyshev.py).

On each interval [a, b] of x the smooth factor g(x) = erfc(x) * exp(x^2) is expanded in Chebyshev
polynomials of t = (2x - a - b) / (b - a), from its values at Chebyshev nodes computed by mpmath
with 50 digits; the expansion stops where the next coefficients are below 1e-17 min |g|.
(Past 27.5, erfc(x) < 1e-330 underflows to 0.)
"""
import mpmath as mp

mp.mp.dps = 50
INTERVALS = [(0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 16.0), (16.0, 27.5)]


def g(x):
    return mp.erfc(x) * mp.exp(x * x)


def chebyshev(a, b, n=60):
    # Nodes t_k = cos(pi (k + 1/2) / n); coefficients by the discrete cosine transform.
    lo, hi = mp.mpf(a), mp.mpf(b)
    ts = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n)]
    vals = []
    for t in ts:
        v = (lo + hi) / 2 + (hi - lo) / 2 * t
        vals.append(g(v))
    coeffs = []
    for j in range(n):
        c = 2 * mp.fsum(vals[k] * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / n) for k in range(n)) / n
        coeffs.append(c)
    coeffs[0] /= 2
    scale = min(abs(v) for v in vals)
    keep = next(j for j in range(n) if all(abs(c) < mp.mpf('1e-17') * scale for c in coeffs[j:j + 4]))
    return coeffs[:keep]


for a, b in INTERVALS:
    cs = chebyshev(a, b)
    body = ', '.join(mp.nstr(c, 17, min_fixed=0, max_fixed=0) for c in cs)
    print(f"  {{ from: {a}, to: {b}, coefficients: [{body}] }},")
