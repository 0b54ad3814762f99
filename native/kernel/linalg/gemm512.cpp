#include "linalg/gemm512.hpp"

#include "linalg/simd_path.hpp"

#if !defined(__EMSCRIPTEN__) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HESSBOUND_GEMM512 1
#endif

#ifdef HESSBOUND_GEMM512
#include <immintrin.h>

#include <algorithm>
#endif

namespace hessbound {

#ifndef HESSBOUND_GEMM512

bool gemm512_available() { return false; }
std::size_t gemm512_packed_size(int, int) { return 0; }
void gemm512_pack(int, int, const double*, int, double*) {}
void gemm512_nt(int, int, int, const double*, int, const double*, double*, int, RowsDone) {}
void gemm512_tn(int, int, int, const double*, int, const double*, int, bool, double*, int, double*) {}
void gemm512_nn(int, int, int, const double*, int, const double*, int, double*, int, Scale, const double*, int) {}

#else

bool gemm512_available() {
#if defined(HESSBOUND_TRAIN_SIMD_LEVEL) && HESSBOUND_TRAIN_SIMD_LEVEL < 2
  return false;
#else
  return simd_path() == SimdPath::Avx512;
#endif
}

namespace {

// Vectors of 8 columns per tile (and per packed panel of gemm512_nt): 4, or fewer for narrow C.
int tile_vectors(int n) { return n >= 32 ? 4 : (n + 7) / 8; }

}  // namespace

std::size_t gemm512_packed_size(int n, int k) {
  const int w = 8 * tile_vectors(n);
  return static_cast<std::size_t>((n + w - 1) / w) * w * k;
}

// Everything below is compiled for AVX-512F (the callers check gemm512_available() first).
#pragma GCC push_options
#pragma GCC target("avx512f,fma")

#define HB512_INLINE inline __attribute__((always_inline))

namespace {

// Lanes of vector t of a tile whose columns end `cols` columns after its start (all, some or none).
HB512_INLINE __mmask8 lanes(int cols, int t) {
  const int n = std::min(8, std::max(0, cols - 8 * t));
  return static_cast<__mmask8>((1u << n) - 1);
}

// Rows of register tiles: T vectors x R rows, 24 accumulators at most (of 32 registers).
template <int T>
constexpr int tile_rows() {
  return T == 4 ? 6 : T == 3 ? 8 : T == 2 ? 12 : 8;
}

// ---- The register tile both C = A B^T and C = A B use --------------------------------------------
//
// R rows of C x 8 T columns (`cols` of them valid) = A's R rows times B's k rows of 8 T columns
// (B row-major with leading dimension ldb: a packed panel of gemm512_nt, or B itself in gemm512_nn),
// scaled as it is stored. Columns past `cols` are neither read nor written.
template <int R, int T>
HB512_INLINE void tile(int k, const double* a, int lda, const double* b, int ldb, double* c, int ldc, Scale scale,
                       const double* t, int ldt, int cols) {
  __m512d acc[R][T];
  __mmask8 mask[T];
#pragma GCC unroll 4
  for (int v = 0; v < T; ++v) mask[v] = lanes(cols, v);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < T; ++v) acc[r][v] = _mm512_setzero_pd();
  for (int i = 0; i < k; ++i) {
    __m512d bv[T];
#pragma GCC unroll 4
    for (int v = 0; v < T; ++v) bv[v] = _mm512_maskz_loadu_pd(mask[v], b + static_cast<std::size_t>(i) * ldb + 8 * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512d e = _mm512_set1_pd(a[static_cast<std::size_t>(r) * lda + i]);
#pragma GCC unroll 4
      for (int v = 0; v < T; ++v) acc[r][v] = _mm512_fmadd_pd(e, bv[v], acc[r][v]);
    }
  }
  const __m512d one = _mm512_set1_pd(1.0);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < T; ++v) {
      double* cv = c + static_cast<std::size_t>(r) * ldc + 8 * v;
      __m512d x = acc[r][v];
      if (scale == Scale::TanhDerivative) {
        const __m512d tv = _mm512_maskz_loadu_pd(mask[v], t + static_cast<std::size_t>(r) * ldt + 8 * v);
        x = _mm512_mul_pd(_mm512_fnmadd_pd(tv, tv, one), x);  // (1 - t^2) * (A B)
      } else if (scale == Scale::ByC) {
        x = _mm512_mul_pd(x, _mm512_maskz_loadu_pd(mask[v], cv));
      }
      _mm512_mask_storeu_pd(cv, mask[v], x);
    }
}

// ---- C = A B^T --------------------------------------------------------------------------------

template <int R, int T>
HB512_INLINE void nt_rows(int n, int k, const double* a, int lda, const double* packed, double* c, int ldc) {
  constexpr int w = 8 * T;
  for (int j0 = 0, p = 0; j0 < n; j0 += w, ++p)
    tile<R, T>(k, a, lda, packed + static_cast<std::size_t>(p) * w * k, w, c + j0, ldc, Scale::None, nullptr, 0, n - j0);
}

template <int T>
void nt_body(int m, int n, int k, const double* a, int lda, const double* packed, double* c, int ldc, RowsDone done) {
  constexpr int R = tile_rows<T>();
  int r0 = 0;
  for (; r0 + R <= m; r0 += R) {
    nt_rows<R, T>(n, k, a + static_cast<std::size_t>(r0) * lda, lda, packed, c + static_cast<std::size_t>(r0) * ldc, ldc);
    if (done.fn) done.fn(done.context, r0, R);
  }
  if (r0 == m) return;
  const int rest = m - r0;
  for (int r = r0; r < m;) {
    const double* ar = a + static_cast<std::size_t>(r) * lda;
    double* cr = c + static_cast<std::size_t>(r) * ldc;
    if (m - r >= 4) nt_rows<4, T>(n, k, ar, lda, packed, cr, ldc), r += 4;
    else if (m - r >= 2) nt_rows<2, T>(n, k, ar, lda, packed, cr, ldc), r += 2;
    else nt_rows<1, T>(n, k, ar, lda, packed, cr, ldc), r += 1;
  }
  if (done.fn) done.fn(done.context, r0, rest);
}

// ---- C (+)= A^T B -----------------------------------------------------------------------------

// C[j0 .. j0 + J)[i0 .. i0 + 8 T), `cols` of the columns valid. With sums (the strip's first tile
// only): sums[0 .. J) (+)= the column sums of A's J columns, one running sum per column in row order,
// from the rows the tile reads anyway (rather than a separate pass over A).
template <int J, int T>
HB512_INLINE void tn_tile(int k, const double* a, int lda, const double* b, int ldb, bool accumulate, double* c,
                          int ldc, int cols, double* sums) {
  __m512d acc[J][T];
  __mmask8 mask[T];
#pragma GCC unroll 4
  for (int t = 0; t < T; ++t) mask[t] = lanes(cols, t);
#pragma GCC unroll 16
  for (int j = 0; j < J; ++j)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t)
      acc[j][t] = accumulate ? _mm512_maskz_loadu_pd(mask[t], c + static_cast<std::size_t>(j) * ldc + 8 * t)
                             : _mm512_setzero_pd();
  constexpr int S = (J + 7) / 8;  // vectors of column sums
  __m512d sum[S];
  __mmask8 sum_mask[S];
#pragma GCC unroll 2
  for (int v = 0; v < S; ++v) {
    sum_mask[v] = lanes(J, v);
    sum[v] = sums && accumulate ? _mm512_maskz_loadu_pd(sum_mask[v], sums + 8 * v) : _mm512_setzero_pd();
  }
  for (int i = 0; i < k; ++i) {
    const double* bi = b + static_cast<std::size_t>(i) * ldb;
    const double* ai = a + static_cast<std::size_t>(i) * lda;
    __m512d v[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) v[t] = _mm512_maskz_loadu_pd(mask[t], bi + 8 * t);
    if (sums)
#pragma GCC unroll 2
      for (int w = 0; w < S; ++w) sum[w] = _mm512_add_pd(sum[w], _mm512_maskz_loadu_pd(sum_mask[w], ai + 8 * w));
#pragma GCC unroll 16
    for (int j = 0; j < J; ++j) {
      const __m512d e = _mm512_set1_pd(ai[j]);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[j][t] = _mm512_fmadd_pd(e, v[t], acc[j][t]);
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < J; ++j)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) _mm512_mask_storeu_pd(c + static_cast<std::size_t>(j) * ldc + 8 * t, mask[t], acc[j][t]);
  if (sums)
#pragma GCC unroll 2
    for (int v = 0; v < S; ++v) _mm512_mask_storeu_pd(sums + 8 * v, sum_mask[v], sum[v]);
}

// Columns j0 .. j0 + J of A against all of B (and their column sums into sums, unless null).
template <int J>
void tn_strip(int n, int k, const double* a, int lda, const double* b, int ldb, bool accumulate, double* c, int ldc,
              double* sums) {
  constexpr int w = J > 6 ? 16 : 32;  // 24 accumulators at most
  for (int i0 = 0; i0 < n; i0 += w) {
    const int cols = n - i0, T = tile_vectors(std::min(cols, w));
    double* ci = c + i0;
    const double* bi = b + i0;
    double* si = i0 == 0 ? sums : nullptr;
#define HB512_TN(TT) tn_tile<J, TT>(k, a, lda, bi, ldb, accumulate, ci, ldc, cols, si)
    if constexpr (J > 6) {
      if (T == 2) HB512_TN(2);
      else HB512_TN(1);
    } else {
      switch (T) {
        case 4: HB512_TN(4); break;
        case 3: HB512_TN(3); break;
        case 2: HB512_TN(2); break;
        default: HB512_TN(1); break;
      }
    }
#undef HB512_TN
  }
}

// Rows of A and B per pass, and columns of B per pass: a kc x nb block of B (512 KB) stays in L2
// while every column strip of A runs over it, and each strip's rows stay in L1. C's entries go on
// summing in row order from one pass to the next (stored and reloaded exactly).
constexpr int kTnRows = 256, kTnCols = 256;

void tn_pass(int m, int n, int k, const double* a, int lda, const double* b, int ldb, bool accumulate, double* c,
             int ldc, double* sums) {
  // Up to 12 columns of A (training's output layer: the classes) in one strip, so that B is read
  // once; else strips of 6.
  for (int j0 = 0; j0 < m;) {
    const int J = m <= 12 ? m : std::min(6, m - j0);
    double* cj = c + static_cast<std::size_t>(j0) * ldc;
    const double* aj = a + j0;
    double* sj = sums ? sums + j0 : nullptr;
    switch (J) {
      case 12: tn_strip<12>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
      case 11: tn_strip<11>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
      case 10: tn_strip<10>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
      case 9: tn_strip<9>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
      case 8: tn_strip<8>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
      case 7: tn_strip<7>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
      case 6: tn_strip<6>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
      case 5: tn_strip<5>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
      case 4: tn_strip<4>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
      case 3: tn_strip<3>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
      case 2: tn_strip<2>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
      default: tn_strip<1>(n, k, aj, lda, b, ldb, accumulate, cj, ldc, sj); break;
    }
    j0 += J;
  }
}

// sums (+)= the column sums of A (k x m), one running sum per column in row order, a row at a time.
void column_sums(int m, int k, const double* a, int lda, bool accumulate, double* sums) {
  if (!accumulate) std::fill(sums, sums + m, 0.0);
  for (int i = 0; i < k; ++i) {
    const double* ai = a + static_cast<std::size_t>(i) * lda;
    for (int j = 0; j < m; j += 8) {
      const __mmask8 mask = lanes(m - j, 0);
      _mm512_mask_storeu_pd(sums + j, mask, _mm512_add_pd(_mm512_maskz_loadu_pd(mask, sums + j), _mm512_maskz_loadu_pd(mask, ai + j)));
    }
  }
}

void tn_body(int m, int n, int k, const double* a, int lda, const double* b, int ldb, bool accumulate, double* c,
             int ldc, double* sums) {
  if (k <= 0 && !accumulate) {  // an empty sum
    for (int j = 0; j < m; ++j) std::fill(c + static_cast<std::size_t>(j) * ldc, c + static_cast<std::size_t>(j) * ldc + n, 0.0);
    if (sums) std::fill(sums, sums + m, 0.0);
  }
  if (sums && n <= 0) column_sums(m, k, a, lda, accumulate, sums);  // no tile to carry them
  for (int k0 = 0; k0 < k; k0 += kTnRows) {
    const int kc = std::min(kTnRows, k - k0);
    const double* ak = a + static_cast<std::size_t>(k0) * lda;
    const double* bk = b + static_cast<std::size_t>(k0) * ldb;
    for (int n0 = 0; n0 < n; n0 += kTnCols)
      tn_pass(m, std::min(kTnCols, n - n0), kc, ak, lda, bk + n0, ldb, accumulate || k0 > 0, c + n0, ldc,
              n0 == 0 ? sums : nullptr);
  }
}

// ---- C = (A B) scaled -------------------------------------------------------------------------

template <int R, int T>
HB512_INLINE void nn_rows(int n, int k, const double* a, int lda, const double* b, int ldb, double* c, int ldc,
                          Scale scale, const double* t, int ldt) {
  for (int j0 = 0; j0 < n; j0 += 8 * T)
    tile<R, T>(k, a, lda, b + j0, ldb, c + j0, ldc, scale, t ? t + j0 : nullptr, ldt, n - j0);
}

template <int T>
void nn_body(int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c, int ldc, Scale scale,
             const double* t, int ldt) {
  constexpr int R = tile_rows<T>();
  for (int r = 0; r < m;) {
    const double* ar = a + static_cast<std::size_t>(r) * lda;
    double* cr = c + static_cast<std::size_t>(r) * ldc;
    const double* tr = t ? t + static_cast<std::size_t>(r) * ldt : nullptr;
    if (m - r >= R) nn_rows<R, T>(n, k, ar, lda, b, ldb, cr, ldc, scale, tr, ldt), r += R;
    else if (m - r >= 4) nn_rows<4, T>(n, k, ar, lda, b, ldb, cr, ldc, scale, tr, ldt), r += 4;
    else if (m - r >= 2) nn_rows<2, T>(n, k, ar, lda, b, ldb, cr, ldc, scale, tr, ldt), r += 2;
    else nn_rows<1, T>(n, k, ar, lda, b, ldb, cr, ldc, scale, tr, ldt), r += 1;
  }
}

}  // namespace

void gemm512_pack(int n, int k, const double* b, int ldb, double* packed) {
  const int w = 8 * tile_vectors(n);
  for (int j0 = 0, p = 0; j0 < n; j0 += w, ++p) {
    double* panel = packed + static_cast<std::size_t>(p) * w * k;
    for (int i = 0; i < k; ++i)
      for (int jj = 0; jj < w; ++jj)
        panel[static_cast<std::size_t>(i) * w + jj] = j0 + jj < n ? b[static_cast<std::size_t>(j0 + jj) * ldb + i] : 0.0;
  }
}

void gemm512_nt(int m, int n, int k, const double* a, int lda, const double* packed, double* c, int ldc,
                RowsDone done) {
  switch (tile_vectors(n)) {
    case 4: return nt_body<4>(m, n, k, a, lda, packed, c, ldc, done);
    case 3: return nt_body<3>(m, n, k, a, lda, packed, c, ldc, done);
    case 2: return nt_body<2>(m, n, k, a, lda, packed, c, ldc, done);
    default: return nt_body<1>(m, n, k, a, lda, packed, c, ldc, done);
  }
}

void gemm512_tn(int m, int n, int k, const double* a, int lda, const double* b, int ldb, bool accumulate, double* c,
                int ldc, double* col_sums) {
  tn_body(m, n, k, a, lda, b, ldb, accumulate, c, ldc, col_sums);
}

void gemm512_nn(int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c, int ldc,
                Scale scale, const double* t, int ldt) {
  switch (tile_vectors(n)) {
    case 4: return nn_body<4>(m, n, k, a, lda, b, ldb, c, ldc, scale, t, ldt);
    case 3: return nn_body<3>(m, n, k, a, lda, b, ldb, c, ldc, scale, t, ldt);
    case 2: return nn_body<2>(m, n, k, a, lda, b, ldb, c, ldc, scale, t, ldt);
    default: return nn_body<1>(m, n, k, a, lda, b, ldb, c, ldc, scale, t, ldt);
  }
}

#pragma GCC pop_options

#endif

}  // namespace hessbound
