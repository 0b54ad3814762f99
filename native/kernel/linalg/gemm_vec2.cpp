#include "linalg/gemm_vec2.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include "linalg/blas.hpp"

namespace hessbound {

namespace {

typedef double v2 __attribute__((vector_size(16)));

#define HB_V2_INLINE inline __attribute__((always_inline))
HB_V2_INLINE v2 load(const double* p) {
  v2 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
HB_V2_INLINE void store(double* p, v2 v) { std::memcpy(p, &v, sizeof v); }
HB_V2_INLINE v2 splat(double x) { return v2{x, x}; }
// c + a * b. In a module built with relaxed SIMD (-mrelaxed-simd, the "relaxed" WebAssembly module)
// one f64x2.relaxed_madd, which an engine on a CPU with FMA runs fused (one rounding) and one
// without may run as multiply then add: the module's results then differ from the SIMD128 module's
// by rounding, but stay fixed for one engine and CPU. Elsewhere multiply then add, as before.
HB_V2_INLINE v2 madd(v2 a, v2 b, v2 c) {
#if defined(__wasm_relaxed_simd__)
  return __builtin_wasm_relaxed_madd_f64x2(a, b, c);
#else
  return c + a * b;
#endif
}

// GotoBLAS-style blocking: a KC x NR panel of packed B (8 KB) stays in L1 while the MC x KC block
// of packed A (256 KB) streams from L2. The 4 x 4 register tile is 8 accumulators of 2 lanes, plus
// 2 B vectors and the A splats: within the 16 vector registers an x86-64 engine maps SIMD128 to.
constexpr int MR = 4, NR = 4, KC = 256, MC = 128, NC = 2048;

// op(A) rows [i0, i0 + mc), columns [p0, p0 + kc), into panels of MR rows: ap[(ib kc + p) MR + r]
// (rows past mc are zero).
void pack_a(bool ta, const double* a, int lda, int i0, int mc, int p0, int kc, double* ap) {
  for (int ib = 0; ib < mc; ib += MR) {
    const int rows = std::min(MR, mc - ib);
    double* dst = ap + static_cast<std::size_t>(ib) * kc;
    if (!ta) {
      for (int r = 0; r < MR; ++r) {
        if (r >= rows) {
          for (int p = 0; p < kc; ++p) dst[p * MR + r] = 0.0;
          continue;
        }
        const double* src = a + static_cast<std::size_t>(i0 + ib + r) * lda + p0;
        for (int p = 0; p < kc; ++p) dst[p * MR + r] = src[p];
      }
    } else {
      for (int p = 0; p < kc; ++p) {
        const double* src = a + static_cast<std::size_t>(p0 + p) * lda + i0 + ib;
        for (int r = 0; r < MR; ++r) dst[p * MR + r] = r < rows ? src[r] : 0.0;
      }
    }
  }
}

// op(B) rows [p0, p0 + kc), columns [j0, j0 + nc), into panels of NR columns: bp[(jb kc + p) NR + c].
void pack_b(bool tb, const double* b, int ldb, int p0, int kc, int j0, int nc, double* bp) {
  for (int jb = 0; jb < nc; jb += NR) {
    const int cols = std::min(NR, nc - jb);
    double* dst = bp + static_cast<std::size_t>(jb) * kc;
    if (!tb) {
      for (int p = 0; p < kc; ++p) {
        const double* src = b + static_cast<std::size_t>(p0 + p) * ldb + j0 + jb;
        for (int c = 0; c < NR; ++c) dst[p * NR + c] = c < cols ? src[c] : 0.0;
      }
    } else {
      for (int c = 0; c < NR; ++c) {
        if (c >= cols) {
          for (int p = 0; p < kc; ++p) dst[p * NR + c] = 0.0;
          continue;
        }
        const double* src = b + static_cast<std::size_t>(j0 + jb + c) * ldb + p0;
        for (int p = 0; p < kc; ++p) dst[p * NR + c] = src[p];
      }
    }
  }
}

// C[r][c] += alpha * sum_p ap[p][r] bp[p][c] for the rows x cols corner of a 4 x 4 tile.
// Not inlined: V8 runs a WebAssembly function with its baseline compiler (Liftoff, several times
// slower on SIMD) until it has been called often enough to be optimized, and it cannot replace a
// running call; a small hot function called many times gets the optimized code early in the first
// long product instead of at its next call.
__attribute__((noinline)) void micro_tile(int kc, const double* ap, const double* bp, double alpha, double* c, int ldc, int rows, int cols) {
  v2 c00 = splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int p = 0; p < kc; ++p, ap += MR, bp += NR) {
    const v2 b0 = load(bp), b1 = load(bp + 2);
    const v2 a0 = splat(ap[0]), a1 = splat(ap[1]), a2 = splat(ap[2]), a3 = splat(ap[3]);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    c30 = madd(a3, b0, c30);
    c31 = madd(a3, b1, c31);
  }
  const v2 al = splat(alpha);
  if (rows == MR && cols == NR) {
    double* r0 = c;
    double* r1 = c + ldc;
    double* r2 = c + 2 * static_cast<std::size_t>(ldc);
    double* r3 = c + 3 * static_cast<std::size_t>(ldc);
    store(r0, madd(al, c00, load(r0)));
    store(r0 + 2, madd(al, c01, load(r0 + 2)));
    store(r1, madd(al, c10, load(r1)));
    store(r1 + 2, madd(al, c11, load(r1 + 2)));
    store(r2, madd(al, c20, load(r2)));
    store(r2 + 2, madd(al, c21, load(r2 + 2)));
    store(r3, madd(al, c30, load(r3)));
    store(r3 + 2, madd(al, c31, load(r3 + 2)));
    return;
  }
  double t[MR][NR];
  store(t[0], c00);
  store(t[0] + 2, c01);
  store(t[1], c10);
  store(t[1] + 2, c11);
  store(t[2], c20);
  store(t[2] + 2, c21);
  store(t[3], c30);
  store(t[3] + 2, c31);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < cols; ++j) c[static_cast<std::size_t>(r) * ldc + j] += alpha * t[r][j];
}

// Packing buffers, reused across calls (one set per thread).
std::vector<double>& buffer_a() {
  thread_local std::vector<double> v;
  return v;
}
std::vector<double>& buffer_b() {
  thread_local std::vector<double> v;
  return v;
}

}  // namespace

void gemm_vec2(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a, int lda,
               const double* b, int ldb, double beta, double* c, int ldc) {
  if (m == 0 || n == 0) return;
  for (int i = 0; i < m; ++i) {
    double* row = c + static_cast<std::size_t>(i) * ldc;
    if (beta == 0) std::fill(row, row + n, 0.0);
    else if (beta != 1)
      for (int j = 0; j < n; ++j) row[j] *= beta;
  }
  if (k == 0 || alpha == 0) return;
  const int mcap = std::min(m, MC), ncap = std::min(n, NC), kcap = std::min(k, KC);
  std::vector<double>& A = buffer_a();
  std::vector<double>& B = buffer_b();
  const std::size_t need_a = static_cast<std::size_t>((mcap + MR - 1) / MR * MR) * kcap;
  const std::size_t need_b = static_cast<std::size_t>((ncap + NR - 1) / NR * NR) * kcap;
  if (A.size() < need_a) A.resize(need_a);
  if (B.size() < need_b) B.resize(need_b);
  for (int j0 = 0; j0 < n; j0 += NC) {
    const int nc = std::min(NC, n - j0);
    for (int p0 = 0; p0 < k; p0 += KC) {
      const int kc = std::min(KC, k - p0);
      pack_b(trans_b, b, ldb, p0, kc, j0, nc, B.data());
      for (int i0 = 0; i0 < m; i0 += MC) {
        const int mc = std::min(MC, m - i0);
        pack_a(trans_a, a, lda, i0, mc, p0, kc, A.data());
        for (int jb = 0; jb < nc; jb += NR)
          for (int ib = 0; ib < mc; ib += MR)
            micro_tile(kc, A.data() + static_cast<std::size_t>(ib) * kc, B.data() + static_cast<std::size_t>(jb) * kc,
                       alpha, c + static_cast<std::size_t>(i0 + ib) * ldc + j0 + jb, ldc, std::min(MR, mc - ib),
                       std::min(NR, nc - jb));
      }
    }
  }
}

double dot_vec2(int n, const double* x, const double* y) {
  v2 s0 = splat(0), s1 = s0, s2 = s0, s3 = s0;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = madd(load(x + i), load(y + i), s0);
    s1 = madd(load(x + i + 2), load(y + i + 2), s1);
    s2 = madd(load(x + i + 4), load(y + i + 4), s2);
    s3 = madd(load(x + i + 6), load(y + i + 6), s3);
  }
  for (; i + 2 <= n; i += 2) s0 = madd(load(x + i), load(y + i), s0);
  const v2 s = (s0 + s1) + (s2 + s3);
  double r = s[0] + s[1];
  for (; i < n; ++i) r += x[i] * y[i];
  return r;
}

void gemv_vec2(bool trans, int m, int n, double alpha, const double* a, int lda, const double* x, double beta,
               double* y) {
  const int len = trans ? n : m;
  if (beta == 0) std::fill(y, y + len, 0.0);
  else if (beta != 1)
    for (int i = 0; i < len; ++i) y[i] *= beta;
  if (m == 0 || n == 0 || alpha == 0) return;
  if (!trans) {
    for (int i = 0; i < m; ++i) y[i] += alpha * dot_vec2(n, a + static_cast<std::size_t>(i) * lda, x);
    return;
  }
  // y += sum_i (alpha x_i) A_i, in order of i, four rows per pass over y.
  int i = 0;
  for (; i + 4 <= m; i += 4) {
    const double* a0 = a + static_cast<std::size_t>(i) * lda;
    const double* a1 = a0 + lda;
    const double* a2 = a1 + lda;
    const double* a3 = a2 + lda;
    const double s0 = alpha * x[i], s1 = alpha * x[i + 1], s2 = alpha * x[i + 2], s3 = alpha * x[i + 3];
    const v2 t0 = splat(s0), t1 = splat(s1), t2 = splat(s2), t3 = splat(s3);
    int j = 0;
    for (; j + 2 <= n; j += 2) {
      v2 v = load(y + j);
      v = madd(t0, load(a0 + j), v);
      v = madd(t1, load(a1 + j), v);
      v = madd(t2, load(a2 + j), v);
      v = madd(t3, load(a3 + j), v);
      store(y + j, v);
    }
    for (; j < n; ++j) {
      double v = y[j];
      v += s0 * a0[j];
      v += s1 * a1[j];
      v += s2 * a2[j];
      v += s3 * a3[j];
      y[j] = v;
    }
  }
  for (; i < m; ++i) {
    const double* ai = a + static_cast<std::size_t>(i) * lda;
    const double s = alpha * x[i];
    const v2 t = splat(s);
    int j = 0;
    for (; j + 2 <= n; j += 2) store(y + j, madd(t, load(ai + j), load(y + j)));
    for (; j < n; ++j) y[j] += s * ai[j];
  }
}

namespace {

// Not inlined, for V8's tiering (see micro_tile).
// Row i of the trailing block, columns [k, i): a_ij -= v_i w_j + w_i v_j (the pending update), then
// y_i += a_ij u_j and y_j += a_ij u_i (the next product); the diagonal entry is left to the caller.
__attribute__((noinline)) double fused_row(double* row, int k, int i, double vi, double wi, double ui, const double* v, const double* w,
                              const double* u, double* y) {
  const v2 svi = splat(vi), swi = splat(wi), sui = splat(ui);
  v2 acc = splat(0);
  int j = k;
  for (; j + 2 <= i; j += 2) {
    const v2 x = load(row + j) - (svi * load(w + j) + swi * load(v + j));
    store(row + j, x);
    acc = madd(x, load(u + j), acc);
    store(y + j, madd(x, sui, load(y + j)));
  }
  double s = acc[0] + acc[1];
  for (; j < i; ++j) {
    const double x = row[j] - (vi * w[j] + wi * v[j]);
    row[j] = x;
    s += x * u[j];
    y[j] += x * ui;
  }
  return s;
}

}  // namespace

namespace {

// The unblocked reduction (dsytd2-like) of the n x n block at a (row stride lda), each step's
// rank-2 update fused with the next step's product.
void tridiagonalize_unblocked(int n, double* a, int lda, double* d, double* e) {
  auto at = [&](int i, int j) -> double& { return a[static_cast<std::size_t>(i) * lda + j]; };
  if (n <= 0) return;
  // v, w: the pending rank-2 update A -= v w^T + w v^T of the trailing block (zero at first);
  // u: the current Householder vector; y: A u.
  std::vector<double> v(n, 0.0), w(n, 0.0), u(n, 0.0), y(n, 0.0), x(n, 0.0);
  for (int k = 0; k + 2 < n; ++k) {
    // Column k gets the pending update; its part below the diagonal defines the reflection.
    for (int i = k; i < n; ++i) at(i, k) -= v[i] * w[k] + w[i] * v[k];
    d[k] = at(k, k);
    const int m = n - k - 1;  // length of the reflected part, rows k+1..n-1
    for (int i = 0; i < m; ++i) x[i] = at(k + 1 + i, k);
    const double alpha = x[0];
    const double xnorm = norm2(m - 1, x.data() + 1);  // ||x[1:]||, scaled against overflow (blas.cpp)
    double tau = 0;
    std::fill(u.begin(), u.end(), 0.0);
    if (xnorm == 0) {
      e[k] = alpha;
    } else {
      const double beta = -std::copysign(std::hypot(alpha, xnorm), alpha);
      tau = (beta - alpha) / beta;
      const double inv = 1 / (alpha - beta);
      u[k + 1] = 1;
      for (int i = 1; i < m; ++i) u[k + 1 + i] = x[i] * inv;
      e[k] = beta;
    }
    // One pass over rows k+1..n-1: the pending update, and y = A u on the updated block.
    std::fill(y.begin(), y.end(), 0.0);
    for (int i = k + 1; i < n; ++i) {
      double* row = a + static_cast<std::size_t>(i) * lda;
      const double s = fused_row(row, k + 1, i, v[i], w[i], u[i], v.data(), w.data(), u.data(), y.data());
      row[i] -= 2 * v[i] * w[i];
      y[i] += s + row[i] * u[i];
    }
    // The next pending update: w = tau y - (tau^2 / 2) (y . u) u, v = u.
    const double half = 0.5 * tau * tau * dot_vec2(n, y.data(), u.data());
    for (int i = 0; i < n; ++i) {
      w[i] = tau * y[i] - half * u[i];
      v[i] = u[i];
    }
    if (tau == 0) std::fill(w.begin(), w.end(), 0.0);
  }
  // The last 2 x 2 (or 1 x 1) block, with the pending update.
  const int k = std::max(0, n - 2);
  for (int i = k; i < n; ++i)
    for (int j = k; j <= i; ++j) at(i, j) -= v[i] * w[j] + w[i] * v[j];
  d[k] = at(k, k);
  if (n >= 2) {
    e[n - 2] = at(n - 1, n - 2);
    d[n - 1] = at(n - 1, n - 1);
  }
}

// y = A u for the symmetric m x m matrix in the lower triangle of a (row stride lda): each entry is
// read once and used twice (the row's dot product and the column's update of y). Four rows at a
// time, so that each load of u_j and y_j serves four entries. Not inlined, for V8's tiering.
__attribute__((noinline)) void symv_lower(int m, const double* a, int lda, const double* u, double* y) {
  std::fill(y, y + m, 0.0);
  int i = 0;
  for (; i + 4 <= m; i += 4) {
    const double* r0 = a + static_cast<std::size_t>(i) * lda;
    const double* r1 = r0 + lda;
    const double* r2 = r1 + lda;
    const double* r3 = r2 + lda;
    const double u0 = u[i], u1 = u[i + 1], u2 = u[i + 2], u3 = u[i + 3];
    const v2 s0 = splat(u0), s1 = splat(u1), s2 = splat(u2), s3 = splat(u3);
    v2 c0 = splat(0), c1 = c0, c2 = c0, c3 = c0;
    for (int j = 0; j < i; j += 2) {  // i is a multiple of 4: no odd tail
      const v2 uj = load(u + j);
      const v2 x0 = load(r0 + j), x1 = load(r1 + j), x2 = load(r2 + j), x3 = load(r3 + j);
      c0 = madd(x0, uj, c0);
      c1 = madd(x1, uj, c1);
      c2 = madd(x2, uj, c2);
      c3 = madd(x3, uj, c3);
      store(y + j, load(y + j) + ((x0 * s0 + x1 * s1) + (x2 * s2 + x3 * s3)));
    }
    // The 4 x 4 diagonal block, lower entries r_p[i + q] (q <= p).
    double t0 = c0[0] + c0[1], t1 = c1[0] + c1[1], t2 = c2[0] + c2[1], t3 = c3[0] + c3[1];
    t0 += r0[i] * u0 + r1[i] * u1 + r2[i] * u2 + r3[i] * u3;
    t1 += r1[i] * u0 + r1[i + 1] * u1 + r2[i + 1] * u2 + r3[i + 1] * u3;
    t2 += r2[i] * u0 + r2[i + 1] * u1 + r2[i + 2] * u2 + r3[i + 2] * u3;
    t3 += r3[i] * u0 + r3[i + 1] * u1 + r3[i + 2] * u2 + r3[i + 3] * u3;
    y[i] += t0;
    y[i + 1] += t1;
    y[i + 2] += t2;
    y[i + 3] += t3;
  }
  for (; i < m; ++i) {
    const double* r = a + static_cast<std::size_t>(i) * lda;
    const double ui = u[i];
    double t = 0;
    for (int j = 0; j < i; ++j) {
      t += r[j] * u[j];
      y[j] += r[j] * ui;
    }
    y[i] += t + r[i] * ui;
  }
}

// Blocked reduction (LAPACK's dsytrd/dlatrd, lower): panels of nb columns. Inside a panel, column c
// gets the panel's earlier reflections from V and W (A - V W^T - W V^T, never formed), and its
// product with the trailing matrix is the symmetric product with the not-yet-updated matrix minus
// the V, W corrections. After the panel, one rank-2nb update A22 -= V W^T + W V^T of the lower
// triangle by GEMM (half the product's flops in matrix-matrix form). Returns the number of columns
// reduced (a multiple of nb); the caller finishes the trailing block unblocked.
int tridiagonalize_panels(int n, double* a, double* d, double* e, int nb, int nx) {
  auto at = [&](int i, int j) -> double& { return a[static_cast<std::size_t>(i) * n + j]; };
  const int ldl = 2 * nb;
  // L: rows k..n-1 of [V | W] (reflectors, then the W of dlatrd); R: the same rows of [W | V].
  std::vector<double> L, R, x(n), u(n), y(n), s(2 * static_cast<std::size_t>(nb)), t(s.size());
  constexpr int MB = 128;  // rows per GEMM call of the rank-2nb update
  std::vector<double> diag(static_cast<std::size_t>(MB) * MB);
  int k = 0;
  for (; n - k > nx && n - k > nb + 1; k += nb) {
    const int m0 = n - k;
    L.assign(static_cast<std::size_t>(m0) * ldl, 0.0);
    auto lrow = [&](int r) { return L.data() + static_cast<std::size_t>(r - k) * ldl; };  // global row r
    for (int i = 0; i < nb; ++i) {
      const int c = k + i;
      // Column c, rows c..n-1, gets the panel's earlier reflections: a_rc -= [V_r W_r] . [W_c V_c].
      // Whole rows of L (its columns i.. are still zero): one dot of fixed length per row.
      if (i > 0) {
        const double* lc = lrow(c);
        std::copy(lc + nb, lc + ldl, t.data());
        std::copy(lc, lc + nb, t.data() + nb);
        for (int r = c; r < n; ++r) at(r, c) -= dot_vec2(ldl, lrow(r), t.data());
      }
      d[c] = at(c, c);
      const int m = n - c - 1;  // rows c+1..n-1 (at least 2)
      for (int r = 0; r < m; ++r) x[r] = at(c + 1 + r, c);
      const double alpha = x[0];
      const double xnorm = norm2(m - 1, x.data() + 1);
      if (xnorm == 0) {  // no reflection: V and W keep a zero column
        e[c] = alpha;
        continue;
      }
      const double beta = -std::copysign(std::hypot(alpha, xnorm), alpha);
      const double tau = (beta - alpha) / beta;
      const double inv = 1 / (alpha - beta);
      u[0] = 1;
      for (int r = 1; r < m; ++r) u[r] = x[r] * inv;
      e[c] = beta;
      // y = (A - V W^T - W V^T) u on rows/columns c+1..n-1.
      symv_lower(m, &at(c + 1, c + 1), n, u.data(), y.data());
      if (i > 0) {  // y -= V (W^T u) + W (V^T u), over whole rows of L as above
        const double* ls = lrow(c + 1);
        gemv_vec2(true, m, ldl, 1.0, ls, ldl, u.data(), 0.0, s.data());  // [V^T u, W^T u]
        std::copy(s.data() + nb, s.data() + ldl, t.data());
        std::copy(s.data(), s.data() + nb, t.data() + nb);
        gemv_vec2(false, m, ldl, -1.0, ls, ldl, t.data(), 1.0, y.data());
      }
      // w = tau y - (tau^2 / 2) (y . u) u, as in the unblocked routine.
      const double half = 0.5 * tau * tau * dot_vec2(m, y.data(), u.data());
      for (int r = 0; r < m; ++r) {
        double* lr = lrow(c + 1 + r);
        lr[i] = u[r];
        lr[nb + i] = tau * y[r] - half * u[r];
      }
    }
    // A22 -= V W^T + W V^T = L R^T on the lower triangle of rows/columns k+nb..n-1.
    const int mt = n - k - nb;
    R.resize(static_cast<std::size_t>(mt) * ldl);
    const double* lt = lrow(k + nb);
    for (int r = 0; r < mt; ++r) {
      const double* src = lt + static_cast<std::size_t>(r) * ldl;
      double* dst = R.data() + static_cast<std::size_t>(r) * ldl;
      std::copy(src + nb, src + ldl, dst);
      std::copy(src, src + nb, dst + nb);
    }
    double* a22 = &at(k + nb, k + nb);
    for (int r0 = 0; r0 < mt; r0 += MB) {
      const int mb = std::min(MB, mt - r0);
      const double* lr = lt + static_cast<std::size_t>(r0) * ldl;
      double* ar = a22 + static_cast<std::size_t>(r0) * n;
      if (r0 > 0) gemm_vec2(false, true, mb, r0, ldl, -1.0, lr, ldl, R.data(), ldl, 1.0, ar, n);
      // The diagonal block through a buffer: the strictly upper triangle of a is not touched.
      gemm_vec2(false, true, mb, mb, ldl, 1.0, lr, ldl, R.data() + static_cast<std::size_t>(r0) * ldl, ldl, 0.0,
                diag.data(), mb);
      for (int p = 0; p < mb; ++p)
        for (int q = 0; q <= p; ++q) ar[static_cast<std::size_t>(p) * n + r0 + q] -= diag[static_cast<std::size_t>(p) * mb + q];
    }
  }
  return k;
}

}  // namespace

void tridiagonalize_lower_blocked_vec2(int n, double* a, double* d, double* e, int nb, int nx) {
  if (n <= 0) return;
  const int k = nb > 0 ? tridiagonalize_panels(n, a, d, e, nb, nx) : 0;
  tridiagonalize_unblocked(n - k, a + static_cast<std::size_t>(k) * n + k, n, d + k, e + k);
}

void tridiagonalize_lower_vec2(int n, double* a, double* d, double* e) {
  tridiagonalize_lower_blocked_vec2(n, a, d, e, TRIDIAGONAL_PANEL, TRIDIAGONAL_UNBLOCKED_BELOW);
}

}  // namespace hessbound
