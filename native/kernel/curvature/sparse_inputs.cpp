#include "curvature/sparse_inputs.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "linalg/simd_lanes.hpp"
#include "linalg/simd_path.hpp"

#if !defined(__EMSCRIPTEN__) && defined(__x86_64__) && defined(__GNUC__)
#define HESSBOUND_SPARSE_SIMD 1
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#define HB_INLINE inline __attribute__((always_inline))

namespace hessbound {

namespace {

// At most this fraction of nonzeros, layer 0 reads X by its nonzeros. The sparse loops run at
// about 0.4 of OpenBLAS's AVX-512 GEMM rate per flop (perf on the bench Xeon, 10,000 x 784 x 256:
// ~20 against ~53 GFLOP/s), so they break even near 40% nonzero; at 24% a whole product took
// 1.0-1.8x less CPU time (bench/sparse-inputs-results.md, a loaded machine).
constexpr double kSparseMaxDensity = 0.35;

std::atomic<int> g_format{-1};

InputFormat format_from_env() {
  const char* s = std::getenv("HESSBOUND_SPARSE_INPUTS");
  if (!s) return InputFormat::Auto;
  const std::string v(s);
  if (v == "dense") return InputFormat::Dense;
  if (v == "sparse") return InputFormat::Sparse;
  return InputFormat::Auto;  // unset, "auto" or unknown (the TypeScript side rejects unknown words)
}


// Columns per pass: vectors of R(u_0) (forward) and of (Hv)_W(0)^T (params). A pass sweeps the
// block's nonzeros column by column; the block's m x (vecs w) slice of R(u_0) or R(delta_0) stays
// in L1 (m x width is 256 KB, hvp.cpp's block). Forward: one row of V_0^T in registers, the
// nonzeros' rows of R(u_0) updated in L1. Params: one row of the accumulator in registers across a
// column's nonzeros (8 independent sums cover the FMA latency), loads only.
template <class Vec>
struct Tile {
  static constexpr int forward = 4, params = 8;
};

template <class Vec, int T>
HB_INLINE void forward_columns(const SparseFirstLayer& b, int j0) {
  using X = Lanes<Vec>;
  constexpr int w = X::n;
  const SparseInputs& s = *b.x;
  const int d = s.d, H = b.H;
  constexpr int JP = T * w;
  static_assert(JP <= kSparseTileColumns, "the tile holds the columns of a pass");
  for (int n = 0; n < b.m; ++n)
    for (int t = 0; t < T; ++t) X::store(b.tile + n * JP + t * w, X::splat(0.0));
  const std::int64_t* cs = s.col_start.data() + static_cast<std::size_t>(b.block) * (d + 1);
  for (int i = 0; i < d; ++i) {
    const std::int64_t k0 = cs[i], k1 = cs[i + 1];
    if (k0 == k1) continue;
    Vec v[T];
    for (int t = 0; t < T; ++t) v[t] = X::load(b.vt + static_cast<std::size_t>(i) * H + j0 + t * w);
    for (std::int64_t k = k0; k < k1; ++k) {
      const Vec e = X::splat(s.vals[k]);
      double* ru = b.tile + static_cast<std::size_t>(s.row[k]) * JP;
      for (int t = 0; t < T; ++t) X::store(ru + t * w, X::load(ru + t * w) + e * v[t]);
    }
  }
  for (int n = 0; n < b.m; ++n)
    for (int t = 0; t < T; ++t)
      X::store(b.ru + static_cast<std::size_t>(n) * H + j0 + t * w, X::load(b.tile + n * JP + t * w));
}

template <class Vec>
HB_INLINE void forward_body(const SparseFirstLayer& b) {
  constexpr int w = Lanes<Vec>::n, T = Tile<Vec>::forward;
  const SparseInputs& s = *b.x;
  const int d = s.d, H = b.H;
  int j0 = 0;
  for (; j0 + T * w <= H; j0 += T * w) forward_columns<Vec, T>(b, j0);
  for (; j0 + w <= H; j0 += w) forward_columns<Vec, 1>(b, j0);
  if (j0 == H) return;
  for (int n = 0; n < b.m; ++n)
    for (int j = j0; j < H; ++j) b.ru[static_cast<std::size_t>(n) * H + j] = 0.0;
  const std::int64_t* cs = s.col_start.data() + static_cast<std::size_t>(b.block) * (d + 1);
  for (int i = 0; i < d; ++i)
    for (std::int64_t k = cs[i]; k < cs[i + 1]; ++k)
      for (int j = j0; j < H; ++j)
        b.ru[static_cast<std::size_t>(s.row[k]) * H + j] += s.vals[k] * b.vt[static_cast<std::size_t>(i) * H + j];
}

template <class Vec, int T>
HB_INLINE void params_columns(const SparseFirstLayer& b, int j0) {
  using X = Lanes<Vec>;
  constexpr int w = X::n;
  const SparseInputs& s = *b.x;
  const int d = s.d, H = b.H;
  const std::int64_t* cs = s.col_start.data() + static_cast<std::size_t>(b.block) * (d + 1);
  for (int i = 0; i < d; ++i) {
    const std::int64_t k0 = cs[i], k1 = cs[i + 1];
    if (k0 == k1) continue;
    double* a = b.acc + static_cast<std::size_t>(i) * H + j0;
    Vec r[T];
    for (int t = 0; t < T; ++t) r[t] = X::load(a + t * w);
    for (std::int64_t k = k0; k < k1; ++k) {
      const Vec e = X::splat(s.vals[k]);
      const double* rd = b.rd + static_cast<std::size_t>(s.row[k]) * b.Hs + j0;
      for (int t = 0; t < T; ++t) r[t] += e * X::load(rd + t * w);
    }
    for (int t = 0; t < T; ++t) X::store(a + t * w, r[t]);
  }
}

template <class Vec>
HB_INLINE void params_body(const SparseFirstLayer& b) {
  constexpr int w = Lanes<Vec>::n, T = Tile<Vec>::params;
  const SparseInputs& s = *b.x;
  const int d = s.d, H = b.H;
  int j0 = 0;
  for (; j0 + T * w <= H; j0 += T * w) params_columns<Vec, T>(b, j0);
  for (; j0 + w <= H; j0 += w) params_columns<Vec, 1>(b, j0);
  if (j0 == H) return;
  const std::int64_t* cs = s.col_start.data() + static_cast<std::size_t>(b.block) * (d + 1);
  for (int i = 0; i < d; ++i)
    for (std::int64_t k = cs[i]; k < cs[i + 1]; ++k)
      for (int j = j0; j < H; ++j)
        b.acc[static_cast<std::size_t>(i) * H + j] += s.vals[k] * b.rd[static_cast<std::size_t>(s.row[k]) * b.Hs + j];
}

typedef double Vec2 __attribute__((vector_size(16)));
void forward_base(const SparseFirstLayer& b) { forward_body<Vec2>(b); }
void params_base(const SparseFirstLayer& b) { params_body<Vec2>(b); }

#ifdef HESSBOUND_SPARSE_SIMD
typedef double Vec4 __attribute__((vector_size(32)));
typedef double Vec8 __attribute__((vector_size(64)));
__attribute__((target("avx2,fma"))) void forward_avx2(const SparseFirstLayer& b) { forward_body<Vec4>(b); }
__attribute__((target("avx2,fma"))) void params_avx2(const SparseFirstLayer& b) { params_body<Vec4>(b); }
__attribute__((target("avx512f,fma"))) void forward_avx512(const SparseFirstLayer& b) { forward_body<Vec8>(b); }
__attribute__((target("avx512f,fma"))) void params_avx512(const SparseFirstLayer& b) { params_body<Vec8>(b); }
#endif

}  // namespace

void set_input_format(InputFormat format) { g_format.store(static_cast<int>(format)); }

InputFormat input_format() {
  int f = g_format.load();
  if (f < 0) {
    f = static_cast<int>(format_from_env());
    int unset = -1;
    g_format.compare_exchange_strong(unset, f);
    f = g_format.load();
  }
  return static_cast<InputFormat>(f);
}

std::size_t sparse_inputs_bytes(std::size_t blocks, std::size_t d, std::size_t nonzeros) {
  return blocks * ((d + 1) * sizeof(std::int64_t) + 2 * sizeof(int)) + nonzeros * (sizeof(std::int32_t) + sizeof(double));
}

bool sparse_inputs_wanted(const Problem& p) {
  const InputFormat format = input_format();
  const std::size_t N = static_cast<std::size_t>(p.samples), d = static_cast<std::size_t>(p.net.inputs());
  if (format == InputFormat::Dense || N == 0 || d == 0) return false;
  if (format == InputFormat::Sparse) return true;
  std::size_t nonzeros = 0;
  for (std::size_t i = 0; i < N * d; ++i) nonzeros += p.x[i] != 0.0;
  return static_cast<double>(nonzeros) <= kSparseMaxDensity * static_cast<double>(N * d);
}

int SparseInputs::block_at(int n0) const {
  return static_cast<int>(std::lower_bound(first_row.begin(), first_row.end(), n0) - first_row.begin());
}

SparseInputs sparse_inputs(const Problem& p, int chunks, int block_rows) {
  SparseInputs s;
  const int N = p.samples, d = p.net.inputs();
  s.d = d;
  for (int c = 0; c < chunks; ++c) {
    const int begin = static_cast<int>(static_cast<long long>(N) * c / chunks);
    const int end = static_cast<int>(static_cast<long long>(N) * (c + 1) / chunks);
    for (int n0 = begin; n0 < end; n0 += block_rows) {
      s.first_row.push_back(n0);
      s.rows.push_back(std::min(block_rows, end - n0));
    }
  }
  std::size_t nonzeros = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(N) * d; ++i) nonzeros += p.x[i] != 0.0;
  s.col_start.assign(s.first_row.size() * (static_cast<std::size_t>(d) + 1), 0);
  s.row.resize(nonzeros);
  s.vals.resize(nonzeros);
  std::vector<std::int64_t> next(d);
  std::int64_t k = 0;
  for (std::size_t b = 0; b < s.first_row.size(); ++b) {
    std::int64_t* cs = s.col_start.data() + b * (d + 1);
    const double* x = p.x + static_cast<std::size_t>(s.first_row[b]) * d;
    // Counts per column, then offsets, then the nonzeros in row order.
    for (int n = 0; n < s.rows[b]; ++n)
      for (int i = 0; i < d; ++i) cs[i + 1] += x[static_cast<std::size_t>(n) * d + i] != 0.0;
    cs[0] = k;
    for (int i = 0; i < d; ++i) cs[i + 1] += cs[i];
    for (int i = 0; i < d; ++i) next[i] = cs[i];
    for (int n = 0; n < s.rows[b]; ++n)
      for (int i = 0; i < d; ++i) {
        const double v = x[static_cast<std::size_t>(n) * d + i];
        if (v == 0.0) continue;
        s.row[next[i]] = n;
        s.vals[next[i]++] = v;
      }
    k = cs[d];
  }
  return s;
}

void sparse_transpose(int H, int d, const double* V, double* vt) {
  constexpr int B = 32;  // square tiles: both sides' lines stay in L1
  for (int j0 = 0; j0 < H; j0 += B)
    for (int i0 = 0; i0 < d; i0 += B)
      for (int j = j0; j < std::min(H, j0 + B); ++j)
        for (int i = i0; i < std::min(d, i0 + B); ++i)
          vt[static_cast<std::size_t>(i) * H + j] = V[static_cast<std::size_t>(j) * d + i];
}

void sparse_params_store(int H, int d, const double* acc, double* out) { sparse_transpose(d, H, acc, out); }

void sparse_forward(const SparseFirstLayer& b) {
#ifdef HESSBOUND_SPARSE_SIMD
  if (simd_path() == SimdPath::Avx512) return forward_avx512(b);
  if (simd_path() == SimdPath::Avx2) return forward_avx2(b);
#endif
  forward_base(b);
}

void sparse_params(const SparseFirstLayer& b) {
#ifdef HESSBOUND_SPARSE_SIMD
  if (simd_path() == SimdPath::Avx512) return params_avx512(b);
  if (simd_path() == SimdPath::Avx2) return params_avx2(b);
#endif
  params_base(b);
}

}  // namespace hessbound
