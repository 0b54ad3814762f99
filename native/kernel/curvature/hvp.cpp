#include "curvature/hvp.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "linalg/blas.hpp"
#include "model/sample_chunks.hpp"
#include "linalg/simd_lanes.hpp"
#include "linalg/simd_path.hpp"

// Runtime choice of the AVX2 and AVX-512 variants of the hand-written loops (x86-64 with GCC or
// Clang; the native build has no -march, so its baseline is SSE2).
#if !defined(__EMSCRIPTEN__) && defined(__x86_64__) && defined(__GNUC__)
#define HESSBOUND_HVP_SIMD 1
#endif

namespace hessbound {

namespace {

// Samples per block of the R-passes. Every sample's forward and backward R-pass is independent of
// the others; only the parameter blocks sum over samples. Working on a block of rows keeps the
// block's intermediates (R(u), R(a), R(delta)) in the core's L2 cache, so the elementwise passes
// and the output layer run from cache instead of streaming N x width arrays through memory several
// times per product (and the scratch is 4 blocks, not 4 x N x width doubles). Row blocks of a
// GEMM are computed as in the full GEMM; only the sums over samples (parameter blocks, bias sums)
// change their order, i.e. the results differ by rounding only.
constexpr std::size_t kBlockBytes = 256u << 10;  // per scratch array; 4 arrays ~ 1 MB, the L2 of one core
constexpr int kMinBlockRows = 32;                // keep the GEMMs' M (and the K of the sums) reasonable

// The samples are split into chunks and the chunks run on the kernel's threads (sample_chunks.hpp):
// a product is bit-identical for any HESSBOUND_THREADS. The threads call a single-threaded BLAS, and
// so does a product on one thread: in blocks, a multithreaded BLAS would wait for all its threads at
// every call (a few per block, hundreds per product), and when another process holds a core a
// descheduled BLAS thread costs a scheduler time slice per call (measured with 2 OpenBLAS threads
// and one core busy: 50 ms to 1.5 s a product). Blocks are always used, so the thread count never
// changes the arithmetic.

// The output layer, when it has at most this many classes, runs as hand-written loops over the
// rows instead of six thin GEMMs against the c classes (which OpenBLAS runs at a third of its peak:
// it packs the whole N x width operand for c multiply-adds per element), fused with the elementwise
// passes of the last hidden layer so that each row of that layer is read once.
constexpr int kFusedMaxClasses = 32;

int block_rows(const Problem& p) {
  int widest = 1;
  for (int l = 1; l < static_cast<int>(p.net.sizes.size()); ++l) widest = std::max(widest, p.net.sizes[l]);
  const std::size_t rows = kBlockBytes / (sizeof(double) * static_cast<std::size_t>(widest));
  return static_cast<int>(std::min<std::size_t>(std::max<std::size_t>(rows, kMinBlockRows), p.samples));
}

#ifdef HESSBOUND_HVP_SIMD
int simd_level();
#endif

// Where the fused output layer pays: with AVX2 or AVX-512 (digits, width 1024, one thread: 17.9 ms
// and, with the AVX-512 layer-0 loops below, 9.3 ms a product against 19.1 ms with OpenBLAS's thin
// GEMMs) and in WebAssembly (64 against 85 ms). Not with SSE2 only (23 ms), nor untested on other
// CPUs: those keep the GEMMs.
bool fused_output(const NetSpec& net) {
  if (net.layers() < 2 || net.classes() > kFusedMaxClasses) return false;
#if defined(__EMSCRIPTEN__)
  return true;
#elif defined(HESSBOUND_HVP_SIMD)
  return simd_level() >= 1;
#else
  return false;
#endif
}

// ---- The fused output layer ---------------------------------------------------------------------
//
// Last hidden layer h (width H, index L-2) and output layer o (c classes, index L-1), on a block
// of m rows, a few rows at a time: R(u_h) += v_b(h), R(a_h) = sigma' R(u_h); R(u_o) = a_h V_o^T +
// R(a_h) W_o^T + v_b(o) (c dot products over H); R(delta_o) from the softmax curvature; then
// R(delta_h) = sigma'' R(u_h) back_h + sigma' (delta_o V_o + R(delta_o) W_o) (c axpys over H, in
// registers). After the rows: (Hv)_W(o) = R(delta_o)^T a_h + delta_o^T R(a_h), (Hv)_b(o) = the
// column sums of R(delta_o).
//
// Written with GCC/Clang vector types of w lanes: WebAssembly SIMD pairs, AVX2 (4 lanes, FMA) or
// AVX-512 (8 lanes, 32 registers, larger tiles), chosen at run time natively. With FMA a*b+c rounds
// once, so the variants differ from each other by rounding only; each is deterministic, every sum
// runs in a fixed order. Memory layout matters more than arithmetic here: rows of a width-1024
// layer are 8 KB apart, so the c rows of V_o and W_o, or a column of rows, all fall into the same L1
// cache set and evict each other (it cost 4 ms of a 23 ms product). Hence V_o and W_o are repacked
// per product, a vector of columns of all c rows at a time (packed[(q c + k) w + lane] =
// V[k][q w + lane]), the R(a_h) and R(delta_h) rows are padded, and the parameter sums run on 8
// rows at a time.

// The vector helpers take and return AVX vectors in the AVX2 and AVX-512 variants; they are always
// inlined, so no such value crosses a call (GCC's -Wpsabi note on that ABI does not apply).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#define HB_INLINE inline __attribute__((always_inline))

constexpr int kParamRows = 8;  // rows per pass of the parameter sums (their lines share L1 sets)

// Row stride of the R(a_h) and R(delta_h) scratch: consecutive rows start in different cache sets.
int padded_width(int H) { return H % 64 == 0 ? H + 8 : H; }

// How the fused loops get sigma' and sigma'' of the last hidden layer: from the cache, or for tanh
// and the logistic sigmoid from the activation's value a itself, by the formulas of activation.cpp
// (tanh: 1 - a^2 and -2 a (1 - a^2); sigmoid: a (1 - a) and a (1 - a) (1 - 2 a)). The product is
// then two N x width streams lighter (2 x 14.7 MB on digits, width 1024), and memory bandwidth,
// shared by the threads, is what bounds the fused loops.
enum class Derivs { Cached, Tanh, Sigmoid };

struct OutputRows {
  int m, H, Hs, c;  // rows, width, row stride of R(a_h) and R(delta_h), classes
  int ahead;        // rows from the block's first that may be prefetched (the rest of the chunk)
  Derivs derivs;
  double scale;
  const double *Vo, *Wo, *PV, *PW, *vbo, *vbh;         // output layer direction and weights, plain and packed; bias directions
  const double *a, *d1, *d2, *back, *probs, *delta_o;  // cached rows of the block
  double *ru_h, *ra_h, *ru_o, *rd_o, *rd_h;            // scratch rows of the block
};

struct OutputParams {
  int m, H, Hs, c;
  const double *a, *ra_h, *rd_o, *delta_o;
  double *hw, *hb;  // (Hv)_W(o), c x H, and (Hv)_b(o) or null
  bool first;       // write instead of add
};


// Register tiles (accumulators stay in registers: 16 vector registers up to AVX2, 32 with AVX-512):
// the class dot products take dot_rows rows x dot_classes classes, R(delta_h) back_rows rows x
// back_vecs vectors of columns, the parameter sums param_classes classes x param_vecs vectors.
// With recompute_back (room for twice the accumulators), R(delta_h) recomputes back_h =
// delta_o W_o (c more multiply-adds per entry, next to the 2c it does anyway) instead of reading
// the cached N x width array: with sigma' and sigma'' from a, the loops then stream only a from
// memory, 7-10% faster a product.
template <class Vec>
struct Tiles {
  static constexpr int dot_rows = 2, dot_classes = 4, back_rows = 4, back_vecs = 2, param_classes = 4, param_vecs = 2;
  static constexpr bool recompute_back = false;
};

template <class Vec>
HB_INLINE void output_pack_body(int c, int H, const double* V, double* packed) {
  constexpr int w = Lanes<Vec>::n;
  for (int q = 0; q < H / w; ++q)
    for (int k = 0; k < c; ++k)
      for (int l = 0; l < w; ++l) packed[(static_cast<std::size_t>(q) * c + k) * w + l] = V[static_cast<std::size_t>(k) * H + q * w + l];
}

template <class T>
HB_INLINE T load_as(const double* p) {
  if constexpr (sizeof(T) == sizeof(double)) return *p;
  else return Lanes<T>::load(p);
}

// sigma' (and sigma'' if d2) at offset i of the block's rows, as doubles or vectors.
template <class T>
HB_INLINE T output_derivs(const OutputRows& b, std::size_t i, T* d2) {
  switch (b.derivs) {
    case Derivs::Tanh: {
      const T a = load_as<T>(b.a + i);
      const T d1 = 1.0 - a * a;
      if (d2) *d2 = -2.0 * a * d1;
      return d1;
    }
    case Derivs::Sigmoid: {
      const T a = load_as<T>(b.a + i);
      const T d1 = a * (1.0 - a);
      if (d2) *d2 = d1 * (1.0 - 2.0 * a);
      return d1;
    }
    default:
      if (d2) *d2 = load_as<T>(b.d2 + i);
      return load_as<T>(b.d1 + i);
  }
}

// Rows of the cached arrays that the next group of rows reads first, prefetched (into L2) while
// this group runs: the loops wait on memory for a and back_h (about 1.5 of their 4.5 ms on digits,
// width 1024); this takes some 4% off a product.
struct Ahead {
  int count = 0;
  const double* rows[16];
};

// ru_o[r][k0 + k] = sum_j a[r][j] Vo[k0+k][j] + ra[r][j] Wo[k0+k][j] (+ vbo), R rows, K classes.
template <class Vec, int R, int K>
HB_INLINE void output_dots(const OutputRows& b, int n, int k0, const Ahead* ahead) {
  using X = Lanes<Vec>;
  constexpr int w = X::n;
  const int H = b.H, c = b.c, Q = H / w;
  const double* a[R];
  const double* ra[R];
  for (int r = 0; r < R; ++r) {
    a[r] = b.a + static_cast<std::size_t>(n + r) * H;
    ra[r] = b.ra_h + static_cast<std::size_t>(n + r) * b.Hs;
  }
  Vec acc[R][K];
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < K; ++k) acc[r][k] = X::splat(0.0);
  const double* pv = b.PV + static_cast<std::size_t>(k0) * w;
  const double* pw = b.PW + static_cast<std::size_t>(k0) * w;
  for (int q = 0; q < Q; ++q, pv += c * w, pw += c * w) {
    if (ahead && q * w % 8 == 0)
      for (int i = 0; i < ahead->count; ++i) __builtin_prefetch(ahead->rows[i] + q * w, 0, 2);
    Vec x[R], y[R];
    for (int r = 0; r < R; ++r) {
      x[r] = X::load(a[r] + q * w);
      y[r] = X::load(ra[r] + q * w);
    }
    for (int k = 0; k < K; ++k) {
      const Vec p = X::load(pv + k * w), s = X::load(pw + k * w);
      for (int r = 0; r < R; ++r) {
        acc[r][k] = X::madd(x[r], p, acc[r][k]);
        acc[r][k] = X::madd(y[r], s, acc[r][k]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int k = 0; k < K; ++k) {
      double s = X::sum(acc[r][k]);
      for (int j = Q * w; j < H; ++j) {
        s += a[r][j] * b.Vo[static_cast<std::size_t>(k0 + k) * H + j];
        s += ra[r][j] * b.Wo[static_cast<std::size_t>(k0 + k) * H + j];
      }
      if (b.vbo) s += b.vbo[k0 + k];
      b.ru_o[static_cast<std::size_t>(n + r) * c + k0 + k] = s;
    }
}

// The last k < K classes from k0.
template <class Vec, int R, int K>
HB_INLINE void output_dots_rest(const OutputRows& b, int n, int k0, const Ahead* ahead) {
  if constexpr (K > 0) {
    if (b.c - k0 == K) output_dots<Vec, R, K>(b, n, k0, ahead);
    else output_dots_rest<Vec, R, K - 1>(b, n, k0, ahead);
  }
}

template <class Vec, int R>
HB_INLINE void output_dots_all(const OutputRows& b, int n, const Ahead* ahead) {
  constexpr int K = Tiles<Vec>::dot_classes;
  int k0 = 0;
  for (; k0 + K <= b.c; k0 += K, ahead = nullptr) output_dots<Vec, R, K>(b, n, k0, ahead);
  output_dots_rest<Vec, R, K - 1>(b, n, k0, ahead);
}

// R(delta_h) of R rows on T vectors of columns from vector q:
// sigma'' R(u) back + sigma' (delta_o V_o + R(delta_o) W_o).
template <class Vec, int R, int T>
HB_INLINE void output_back_tile(const OutputRows& b, int n, int q) {
  using X = Lanes<Vec>;
  constexpr int w = X::n;
  const int H = b.H, c = b.c;
  constexpr bool recompute = Tiles<Vec>::recompute_back;
  Vec acc[R][T], bk[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = bk[r][t] = X::splat(0.0);
  const double* dv = b.delta_o + static_cast<std::size_t>(n) * c;
  const double* dw = b.rd_o + static_cast<std::size_t>(n) * c;
  const double* pv = b.PV + static_cast<std::size_t>(q) * c * w;
  const double* pw = b.PW + static_cast<std::size_t>(q) * c * w;
  for (int k = 0; k < c; ++k) {
    Vec p[T], s[T];
    for (int t = 0; t < T; ++t) {
      p[t] = X::load(pv + (t * c + k) * w);
      s[t] = X::load(pw + (t * c + k) * w);
    }
    for (int r = 0; r < R; ++r) {
      const Vec e = X::splat(dv[r * c + k]), f = X::splat(dw[r * c + k]);
      for (int t = 0; t < T; ++t) {
        acc[r][t] = X::madd(e, p[t], acc[r][t]);
        acc[r][t] = X::madd(f, s[t], acc[r][t]);
        if (recompute) bk[r][t] = X::madd(e, s[t], bk[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      const std::size_t i = static_cast<std::size_t>(n + r) * H + (q + t) * w;
      Vec d2;
      const Vec d1 = output_derivs<Vec>(b, i, &d2);
      const Vec back = recompute ? bk[r][t] : X::load(b.back + i);
      const Vec rd = d2 * X::load(b.ru_h + i) * back + d1 * acc[r][t];
      X::store(b.rd_h + static_cast<std::size_t>(n + r) * b.Hs + (q + t) * w, rd);
    }
}

template <class Vec, int R>
HB_INLINE void output_rows_group(const OutputRows& b, int n) {
  constexpr int w = Lanes<Vec>::n;
  const int H = b.H, c = b.c, Q = H / w;
  // Bias direction and R(a) = sigma' R(u).
  for (int r = 0; r < R; ++r) {
    double* ru = b.ru_h + static_cast<std::size_t>(n + r) * H;
    double* ra = b.ra_h + static_cast<std::size_t>(n + r) * b.Hs;
    const std::size_t row = static_cast<std::size_t>(n + r) * H;
    int j = 0;
    for (; j + w <= H; j += w) {
      Vec u = Lanes<Vec>::load(ru + j);
      if (b.vbh) {
        u += Lanes<Vec>::load(b.vbh + j);
        Lanes<Vec>::store(ru + j, u);
      }
      Lanes<Vec>::store(ra + j, output_derivs<Vec>(b, row + j, nullptr) * u);
    }
    for (; j < H; ++j) {
      if (b.vbh) ru[j] += b.vbh[j];
      ra[j] = output_derivs<double>(b, row + j, nullptr) * ru[j];
    }
  }
  // R(u_o), a tile of rows and classes at a time.
  constexpr int DR = Tiles<Vec>::dot_rows < R ? Tiles<Vec>::dot_rows : R;
  int r = 0;
  static_assert(4 * R <= sizeof(Ahead::rows) / sizeof(Ahead::rows[0]), "Ahead holds 4 arrays of R rows");
  Ahead ahead;
  for (int next = n + R; next < std::min(n + 2 * R, b.ahead); ++next) {
    const std::size_t row = static_cast<std::size_t>(next) * H;
    ahead.rows[ahead.count++] = b.a + row;
    ahead.rows[ahead.count++] = b.back + row;
    if (b.derivs == Derivs::Cached) {
      ahead.rows[ahead.count++] = b.d1 + row;
      ahead.rows[ahead.count++] = b.d2 + row;
    }
  }
  for (; r + DR <= R; r += DR) output_dots_all<Vec, DR>(b, n + r, r == 0 ? &ahead : nullptr);
  for (; r < R; ++r) output_dots_all<Vec, 1>(b, n + r, r == 0 ? &ahead : nullptr);
  // R(delta_o) = scale * (diag(p) - p p^T) R(u_o), as scale * p_k * sum_{j != k} p_j (R(u)_k - R(u)_j)
  // (p sums to 1): the plain R(u)_k - p.R(u) cancels for the dominant class when p is nearly
  // one-hot, as at trained points.
  for (r = 0; r < R; ++r) {
    const double* pr = b.probs + static_cast<std::size_t>(n + r) * c;
    const double* rv = b.ru_o + static_cast<std::size_t>(n + r) * c;
    double* rd = b.rd_o + static_cast<std::size_t>(n + r) * c;
    for (int k = 0; k < c; ++k) {
      double centered = 0;
      for (int j = 0; j < c; ++j)
        if (j != k) centered += pr[j] * (rv[k] - rv[j]);
      rd[k] = b.scale * pr[k] * centered;
    }
  }
  // R(delta_h).
  constexpr int T = Tiles<Vec>::back_vecs;
  int q = 0;
  for (; q + T <= Q; q += T) output_back_tile<Vec, R, T>(b, n, q);
  for (; q < Q; ++q) output_back_tile<Vec, R, 1>(b, n, q);
  for (int j = Q * w; j < H; ++j)
    for (r = 0; r < R; ++r) {
      double t = 0;
      for (int k = 0; k < c; ++k) {
        t += b.delta_o[static_cast<std::size_t>(n + r) * c + k] * b.Vo[static_cast<std::size_t>(k) * H + j];
        t += b.rd_o[static_cast<std::size_t>(n + r) * c + k] * b.Wo[static_cast<std::size_t>(k) * H + j];
      }
      const std::size_t i = static_cast<std::size_t>(n + r) * H + j;
      double d2;
      const double d1 = output_derivs<double>(b, i, &d2);
      b.rd_h[static_cast<std::size_t>(n + r) * b.Hs + j] = d2 * b.ru_h[i] * b.back[i] + d1 * t;
    }
}

template <class Vec>
HB_INLINE void output_rows_body(const OutputRows& b) {
  constexpr int R = Tiles<Vec>::back_rows;
  int n = 0;
  for (; n + R <= b.m; n += R) output_rows_group<Vec, R>(b, n);
  for (; n < b.m; ++n) output_rows_group<Vec, 1>(b, n);
}

// (Hv)_W(o)[k0+k][j..] for K classes and T vectors of columns from j, over rows [n0, n1). Each
// entry is one running sum over the rows in order, whatever the blocks.
template <class Vec, int K, int T>
HB_INLINE void output_params_tile(const OutputParams& b, int n0, int n1, bool first, int k0, int j) {
  using X = Lanes<Vec>;
  constexpr int w = X::n;
  const int H = b.H, c = b.c;
  Vec acc[K][T];
  for (int k = 0; k < K; ++k)
    for (int t = 0; t < T; ++t)
      acc[k][t] = first ? X::splat(0.0) : X::load(b.hw + static_cast<std::size_t>(k0 + k) * H + j + t * w);
  for (int n = n0; n < n1; ++n) {
    const double* a = b.a + static_cast<std::size_t>(n) * H + j;
    const double* ra = b.ra_h + static_cast<std::size_t>(n) * b.Hs + j;
    Vec x[T], y[T];
    for (int t = 0; t < T; ++t) {
      x[t] = X::load(a + t * w);
      y[t] = X::load(ra + t * w);
    }
    for (int k = 0; k < K; ++k) {
      const Vec s = X::splat(b.rd_o[static_cast<std::size_t>(n) * c + k0 + k]);
      const Vec d = X::splat(b.delta_o[static_cast<std::size_t>(n) * c + k0 + k]);
      for (int t = 0; t < T; ++t) {
        acc[k][t] = X::madd(s, x[t], acc[k][t]);
        acc[k][t] = X::madd(d, y[t], acc[k][t]);
      }
    }
  }
  for (int k = 0; k < K; ++k)
    for (int t = 0; t < T; ++t) X::store(b.hw + static_cast<std::size_t>(k0 + k) * H + j + t * w, acc[k][t]);
}

template <class Vec, int K>
HB_INLINE void output_params_classes(const OutputParams& b, int n0, int n1, bool first, int k0) {
  constexpr int w = Lanes<Vec>::n, T = Tiles<Vec>::param_vecs;
  const int H = b.H, c = b.c;
  int j = 0;
  for (; j + T * w <= H; j += T * w) output_params_tile<Vec, K, T>(b, n0, n1, first, k0, j);
  for (; j + w <= H; j += w) output_params_tile<Vec, K, 1>(b, n0, n1, first, k0, j);
  for (; j < H; ++j)
    for (int k = k0; k < k0 + K; ++k) {
      double& o = b.hw[static_cast<std::size_t>(k) * H + j];
      double s = first ? 0.0 : o;
      for (int n = n0; n < n1; ++n) {
        s += b.rd_o[static_cast<std::size_t>(n) * c + k] * b.a[static_cast<std::size_t>(n) * H + j];
        s += b.delta_o[static_cast<std::size_t>(n) * c + k] * b.ra_h[static_cast<std::size_t>(n) * b.Hs + j];
      }
      o = s;
    }
}

template <class Vec, int K>
HB_INLINE void output_params_rest(const OutputParams& b, int n0, int n1, bool first, int k0) {
  if constexpr (K > 0) {
    if (b.c - k0 == K) output_params_classes<Vec, K>(b, n0, n1, first, k0);
    else output_params_rest<Vec, K - 1>(b, n0, n1, first, k0);
  }
}

template <class Vec>
HB_INLINE void output_params_body(const OutputParams& b) {
  for (int n0 = 0; n0 < b.m; n0 += kParamRows) {
    const int n1 = std::min(b.m, n0 + kParamRows);
    const bool first = b.first && n0 == 0;
    constexpr int K = Tiles<Vec>::param_classes;
    int k0 = 0;
    for (; k0 + K <= b.c; k0 += K) output_params_classes<Vec, K>(b, n0, n1, first, k0);
    output_params_rest<Vec, K - 1>(b, n0, n1, first, k0);
  }
  if (b.hb)
    for (int k = 0; k < b.c; ++k) {
      double s = b.first ? 0.0 : b.hb[k];
      for (int n = 0; n < b.m; ++n) s += b.rd_o[static_cast<std::size_t>(n) * b.c + k];
      b.hb[k] = s;
    }
}

// ---- Layer 0 of a one-hidden-layer net, with AVX-512 ---------------------------------------------
//
// R(u_0) = X V_0^T and (Hv)_W(0) = R(delta_0)^T X, the two big GEMMs of a product (N x d x H each,
// half of its flops on digits, width 1024). OpenBLAS runs them at 55-59 GFLOP/s on the bench
// machine, the peak of the AVX2 kernels it is held to there (OPENBLAS_CORETYPE=Haswell in that
// machine's environment; OpenBLAS 0.3.21 does not know its CPU); these loops, with 512-bit
// registers, run at about 105 GFLOP/s (2.2 ms each instead of 4.2). V_0 is repacked per product,
// transposed into panels of kFirstVecs vectors of columns (d rows each, zero-padded past H), so that
// a panel stays in L1 while the block's rows stream past. Each entry of (Hv)_W(0) is one running
// sum over the chunk's rows in order.

constexpr int kFirstVecs = 4;  // vectors per panel

struct FirstLayer {
  int m, d, H, Hs;        // rows, inputs, width, row stride of R(delta_0)
  const double* x;        // m x d, the block's inputs
  const double* panels;   // packed V_0^T
  double* ru;             // R(u_0), m x H
  const double* rd;       // R(delta_0), m x Hs
  double* hw;             // (Hv)_W(0), H x d
  double* hb;             // (Hv)_b(0), the column sums of R(delta_0), or null
  bool first;             // write instead of add
};

template <class Vec>
HB_INLINE void first_pack_body(int H, int d, const double* V, double* panels) {
  constexpr int JP = kFirstVecs * Lanes<Vec>::n;
  for (int p = 0; p * JP < H; ++p)
    for (int i = 0; i < d; ++i)
      for (int jj = 0; jj < JP; ++jj) {
        const int j = p * JP + jj;
        panels[(static_cast<std::size_t>(p) * d + i) * JP + jj] = j < H ? V[static_cast<std::size_t>(j) * d + i] : 0.0;
      }
}

// R rows of R(u_0) on panel p.
template <class Vec, int R>
HB_INLINE void first_forward_tile(const FirstLayer& b, int n, int p) {
  using X = Lanes<Vec>;
  constexpr int w = X::n, T = kFirstVecs, JP = T * w;
  const int d = b.d;
  Vec acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = X::splat(0.0);
  const double* panel = b.panels + static_cast<std::size_t>(p) * d * JP;
  const double* x = b.x + static_cast<std::size_t>(n) * d;
  for (int i = 0; i < d; ++i) {
    Vec v[T];
    for (int t = 0; t < T; ++t) v[t] = X::load(panel + i * JP + t * w);
    for (int r = 0; r < R; ++r) {
      const Vec e = X::splat(x[r * d + i]);
      for (int t = 0; t < T; ++t) acc[r][t] += e * v[t];
    }
  }
  const int j0 = p * JP, valid = std::min(JP, b.H - j0);
  for (int r = 0; r < R; ++r) {
    double* ru = b.ru + static_cast<std::size_t>(n + r) * b.H + j0;
    if (valid == JP) {
      for (int t = 0; t < T; ++t) X::store(ru + t * w, acc[r][t]);
    } else {
      double row[JP];
      for (int t = 0; t < T; ++t) X::store(row + t * w, acc[r][t]);
      for (int jj = 0; jj < valid; ++jj) ru[jj] = row[jj];
    }
  }
}

template <class Vec>
HB_INLINE void first_forward_body(const FirstLayer& b) {
  constexpr int JP = kFirstVecs * Lanes<Vec>::n, R = 6;
  for (int p = 0; p * JP < b.H; ++p) {
    int n = 0;
    for (; n + R <= b.m; n += R) first_forward_tile<Vec, R>(b, n, p);
    for (; n + 2 <= b.m; n += 2) first_forward_tile<Vec, 2>(b, n, p);
    for (; n < b.m; ++n) first_forward_tile<Vec, 1>(b, n, p);
  }
}

// (Hv)_W(0)[j0 .. j0+J)[i0 .. i0 + T w), one running sum over the block's rows in order; with
// bias, also (Hv)_b(0)[j0 .. j0+J).
template <class Vec, int J, int T>
HB_INLINE void first_params_tile(const FirstLayer& b, int j0, int i0, bool bias) {
  using X = Lanes<Vec>;
  constexpr int w = X::n;
  const int d = b.d;
  Vec acc[J][T];
  double sum[J];
  for (int jj = 0; jj < J; ++jj) {
    for (int t = 0; t < T; ++t)
      acc[jj][t] = b.first ? X::splat(0.0) : X::load(b.hw + static_cast<std::size_t>(j0 + jj) * d + i0 + t * w);
    sum[jj] = bias && !b.first ? b.hb[j0 + jj] : 0.0;
  }
  for (int n = 0; n < b.m; ++n) {
    const double* x = b.x + static_cast<std::size_t>(n) * d + i0;
    const double* rd = b.rd + static_cast<std::size_t>(n) * b.Hs + j0;
    Vec v[T];
    for (int t = 0; t < T; ++t) v[t] = X::load(x + t * w);
    for (int jj = 0; jj < J; ++jj) {
      const Vec e = X::splat(rd[jj]);
      for (int t = 0; t < T; ++t) acc[jj][t] += e * v[t];
      if (bias) sum[jj] += rd[jj];
    }
  }
  for (int jj = 0; jj < J; ++jj) {
    for (int t = 0; t < T; ++t) X::store(b.hw + static_cast<std::size_t>(j0 + jj) * d + i0 + t * w, acc[jj][t]);
    if (bias) b.hb[j0 + jj] = sum[jj];
  }
}

template <class Vec, int J>
HB_INLINE void first_params_rows(const FirstLayer& b, int j0) {
  constexpr int w = Lanes<Vec>::n;
  const int d = b.d;
  // The bias sums ride along with the first tile.
  bool bias = b.hb != nullptr;
  int i0 = 0;
  for (; i0 + 4 * w <= d; i0 += 4 * w, bias = false) first_params_tile<Vec, J, 4>(b, j0, i0, bias);
  for (; i0 + w <= d; i0 += w, bias = false) first_params_tile<Vec, J, 1>(b, j0, i0, bias);
  for (; i0 < d; ++i0)
    for (int j = j0; j < j0 + J; ++j) {
      double& o = b.hw[static_cast<std::size_t>(j) * d + i0];
      double s = b.first ? 0.0 : o;
      for (int n = 0; n < b.m; ++n) s += b.rd[static_cast<std::size_t>(n) * b.Hs + j] * b.x[static_cast<std::size_t>(n) * d + i0];
      o = s;
    }
  if (bias)  // fewer inputs than one vector
    for (int j = j0; j < j0 + J; ++j) {
      double s = b.first ? 0.0 : b.hb[j];
      for (int n = 0; n < b.m; ++n) s += b.rd[static_cast<std::size_t>(n) * b.Hs + j];
      b.hb[j] = s;
    }
}

template <class Vec>
HB_INLINE void first_params_body(const FirstLayer& b) {
  int j0 = 0;
  for (; j0 + 4 <= b.H; j0 += 4) first_params_rows<Vec, 4>(b, j0);
  for (; j0 < b.H; ++j0) first_params_rows<Vec, 1>(b, j0);
}

typedef double Vec2 __attribute__((vector_size(16)));

void output_pack_base(int c, int H, const double* V, double* packed) { output_pack_body<Vec2>(c, H, V, packed); }
void output_rows_base(const OutputRows& b) { output_rows_body<Vec2>(b); }
void output_params_base(const OutputParams& b) { output_params_body<Vec2>(b); }

#ifdef HESSBOUND_HVP_SIMD
typedef double Vec4 __attribute__((vector_size(32)));
__attribute__((target("avx2,fma"))) void output_pack_avx2(int c, int H, const double* V, double* packed) {
  output_pack_body<Vec4>(c, H, V, packed);
}
__attribute__((target("avx2,fma"))) void output_rows_avx2(const OutputRows& b) { output_rows_body<Vec4>(b); }
__attribute__((target("avx2,fma"))) void output_params_avx2(const OutputParams& b) { output_params_body<Vec4>(b); }
typedef double Vec8 __attribute__((vector_size(64)));
template <>
struct Tiles<Vec8> {
  static constexpr int dot_rows = 4, dot_classes = 5, back_rows = 4, back_vecs = 2, param_classes = 5, param_vecs = 4;
  static constexpr bool recompute_back = true;
};
__attribute__((target("avx512f,fma"))) void output_pack_avx512(int c, int H, const double* V, double* packed) {
  output_pack_body<Vec8>(c, H, V, packed);
}
__attribute__((target("avx512f,fma"))) void output_rows_avx512(const OutputRows& b) { output_rows_body<Vec8>(b); }
__attribute__((target("avx512f,fma"))) void output_params_avx512(const OutputParams& b) { output_params_body<Vec8>(b); }
__attribute__((target("avx512f,fma"))) void first_pack_avx512(int H, int d, const double* V, double* panels) {
  first_pack_body<Vec8>(H, d, V, panels);
}
__attribute__((target("avx512f,fma"))) void first_forward_avx512(const FirstLayer& b) { first_forward_body<Vec8>(b); }
__attribute__((target("avx512f,fma"))) void first_params_avx512(const FirstLayer& b) { first_params_body<Vec8>(b); }

// 2: AVX-512, 1: AVX2 with FMA, 0: SSE2 (simd_path.hpp: the CPU's, or HESSBOUND_SIMD's). Building
// with -DHESSBOUND_HVP_SIMD_LEVEL=n caps it at n as well.
int simd_level() {
  static const int level = [] {
    const int path = static_cast<int>(simd_path());
#ifdef HESSBOUND_HVP_SIMD_LEVEL
    return std::min(path, HESSBOUND_HVP_SIMD_LEVEL);
#else
    return path;
#endif
  }();
  return level;
}
#endif

// The packed copy of a c x H matrix: c * H doubles (the columns past the last whole vector are
// left out; the loops read those from the matrix itself).
void output_pack(int c, int H, const double* V, double* packed) {
#ifdef HESSBOUND_HVP_SIMD
  if (simd_level() == 2) return output_pack_avx512(c, H, V, packed);
  if (simd_level() == 1) return output_pack_avx2(c, H, V, packed);
#endif
  output_pack_base(c, H, V, packed);
}

void output_rows(const OutputRows& b) {
#ifdef HESSBOUND_HVP_SIMD
  if (simd_level() == 2) return output_rows_avx512(b);
  if (simd_level() == 1) return output_rows_avx2(b);
#endif
  output_rows_base(b);
}

// Whether layer 0 runs on first_forward / first_params: a one-hidden-layer net with the fused
// output layer, AVX-512, and at most kFirstMaxInputs inputs (measured faster than OpenBLAS held to
// its AVX2 kernels from d = 64, where a panel fits in L1, to d = 2048: 85 against 135 ms a product,
// N = 600, width 1024). Against OpenBLAS's own AVX-512 kernels (SkylakeX) only while a panel
// (d x 32 doubles) stays in L1: digits (d = 64) 1.1-1.5x faster a product, 10,000 x 784 x 256
// 1.1-1.6x slower (one thread, 4 rounds each, bench/README.md "Every x86-64 CPU").
bool first_layer_simd(const NetSpec& net) {
#ifdef HESSBOUND_HVP_SIMD
  constexpr int kFirstMaxInputs = 4096, kFirstMaxInputsAgainstAvx512 = 128;
  const int max_inputs = blas_runs_avx512() ? kFirstMaxInputsAgainstAvx512 : kFirstMaxInputs;
  return net.layers() == 2 && fused_output(net) && net.inputs() <= max_inputs && simd_level() == 2;
#else
  (void)net;
  return false;
#endif
}

// Size of the packed V_0^T panels (zero when layer 0 uses OpenBLAS).
std::size_t first_packed(const NetSpec& net) {
#ifdef HESSBOUND_HVP_SIMD
  if (!first_layer_simd(net)) return 0;
  constexpr int JP = kFirstVecs * Lanes<Vec8>::n;
  return static_cast<std::size_t>((net.sizes[1] + JP - 1) / JP) * JP * net.inputs();
#else
  (void)net;
  return 0;
#endif
}

#ifdef HESSBOUND_HVP_SIMD
void first_pack(int H, int d, const double* V, double* panels) { first_pack_avx512(H, d, V, panels); }
void first_forward(const FirstLayer& b) { first_forward_avx512(b); }
void first_params(const FirstLayer& b) { first_params_avx512(b); }
#else
void first_pack(int, int, const double*, double*) {}
void first_forward(const FirstLayer&) {}
void first_params(const FirstLayer&) {}
#endif

void output_params(const OutputParams& b) {
#ifdef HESSBOUND_HVP_SIMD
  if (simd_level() == 2) return output_params_avx512(b);
  if (simd_level() == 1) return output_params_avx2(b);
#endif
  output_params_base(b);
}

}  // namespace

// Layout of the scratch members for T threads and C chunks (hvp.hpp keeps one flat set of
// buffers): r_pre_, r_post_ and r_delta_ hold thread t's block buffers of layer l at index t * L + l;
// tmp_ holds T blocks of the widest hidden layer (the generic backward pass), then C - 1 partial
// products of P entries (chunk c > 0 sums its samples' contributions there, chunk 0 into out),
// then with the fused output layer the packed V_o and W_o, and the packed V_0 panels; with sparse
// inputs, V_0^T and T accumulators of (Hv)_W(0)^T (d x H each).
namespace {
struct Layout {
  int threads, chunks, rows;
  std::size_t tmp_block, P, packed, first, sparse;
  std::size_t partial(int c) const { return threads * tmp_block + (c - 1) * P; }
  std::size_t pack() const { return threads * tmp_block + (chunks - 1) * P; }
  std::size_t vt() const { return pack() + 2 * packed + first; }
  // Thread t's accumulator (sparse doubles) and forward tile (rows x kSparseTileColumns).
  std::size_t sparse_thread() const { return sparse ? sparse + static_cast<std::size_t>(rows) * kSparseTileColumns : 0; }
  std::size_t sparse_acc(int t) const { return vt() + sparse + static_cast<std::size_t>(t) * sparse_thread(); }
  std::size_t sparse_tile(int t) const { return sparse_acc(t) + sparse; }
  std::size_t size() const { return vt() + (sparse ? sparse + static_cast<std::size_t>(threads) * sparse_thread() : 0); }
};
Layout layout(const Problem& p, int threads, bool sparse) {
  const NetSpec& net = p.net;
  const int L = net.layers();
  int widest = 0;
  for (int l = 1; l < L; ++l) widest = std::max(widest, net.sizes[l]);
  const int rows = block_rows(p);
  const std::size_t packed = fused_output(net) ? static_cast<std::size_t>(net.classes()) * net.sizes[L - 1] : 0;
  if (sparse) return {threads, sample_chunk_count(p), rows, static_cast<std::size_t>(rows) * widest, net.parameter_count(), packed,
                     0, static_cast<std::size_t>(net.inputs()) * net.sizes[1]};
  return {threads, sample_chunk_count(p), rows, static_cast<std::size_t>(rows) * widest, net.parameter_count(), packed,
          first_packed(net), 0};
}
}  // namespace

HvpEngine::HvpEngine(const Problem& p, const ForwardCache& cache) : p_(p), cache_(cache) {
  const NetSpec& net = p.net;
  const int L = net.layers();
  const bool sparse = sparse_inputs_wanted(p);
  const Layout lay = layout(p, sample_chunk_threads(p, sample_chunk_count(p)), sparse);
  if (sparse) sparse_ = hessbound::sparse_inputs(p, lay.chunks, lay.rows);
  const std::size_t rows = static_cast<std::size_t>(lay.rows);
  r_pre_.resize(static_cast<std::size_t>(lay.threads) * L);
  r_post_.resize(static_cast<std::size_t>(lay.threads) * L);
  r_delta_.resize(static_cast<std::size_t>(lay.threads) * L);
  for (int t = 0; t < lay.threads; ++t)
    for (int l = 0; l < L; ++l) {
      const std::size_t width = net.sizes[l + 1], at = static_cast<std::size_t>(t) * L + l;
      // R(a) and R(delta) of the last hidden layer: padded rows for the fused output layer.
      const std::size_t padded = l == L - 2 && fused_output(net) ? padded_width(width) : width;
      r_pre_[at].resize(rows * width);
      r_delta_[at].resize(rows * padded);
      if (l < L - 1) r_post_[at].resize(rows * padded);
    }
  tmp_.resize(lay.size());
}

void hvp(const Problem& p, const ForwardCache& cache, const double* v, double* out) {
  HvpEngine(p, cache).apply(v, out);
}

namespace {

// One chunk of a product, on one thread's scratch: samples [begin, end) in blocks, their sum written to out.
struct Chunk {
  const Problem& p;
  const ForwardCache& cache;
  const double* v;
  double* out;
  int begin, end, rows;
  std::vector<double>* r_pre;  // this thread's L block buffers of each kind
  std::vector<double>* r_post;
  std::vector<double>* r_delta;
  double* tmp;
  const double *PV, *PW;  // packed V_o and W_o (fused output layer)
  const double* P0;       // packed V_0^T (first_layer_simd)
  const SparseInputs* sparse;  // X by its nonzeros, or null
  const double* VT;          // V_0^T (sparse inputs)
  double* acc0;              // this thread's (Hv)_W(0)^T of the chunk (sparse inputs)
  double* tile0;             // this thread's forward tile (sparse inputs)

  void run() const;
};

void Chunk::run() const {
  const NetSpec& net = p.net;
  const int L = net.layers(), c = net.classes();
  const bool fused = fused_output(net), simd0 = !sparse && first_layer_simd(net);
  // Row stride of R(delta_l) in the block scratch (padded for the last hidden layer when fused).
  auto stride = [&](int l) { return fused && l == L - 2 ? padded_width(net.sizes[l + 1]) : net.sizes[l + 1]; };
  if (begin >= end) {
    std::fill(out, out + net.parameter_count(), 0.0);
    return;
  }
  for (int n0 = begin; n0 < end; n0 += rows) {
    const int m = std::min(rows, end - n0);
    // Row n0 of a cached N x width array.
    auto at = [n0](const LargeArray& a, int width) { return a.data() + static_cast<std::size_t>(n0) * width; };
    // The parameter blocks are sums over samples: the first block writes, the others add.
    const bool first = n0 == begin;
    const double acc = first ? 0.0 : 1.0;
    // Forward R-pass: r_pre[l] = R(u_l), r_post[l] = R(a_l). With the fused output layer, the
    // bias and sigma' of the last hidden layer and the whole output layer come in output_rows.
    for (int l = 0; l < L; ++l) {
      if (fused && l == L - 1) break;
      const int in = net.sizes[l], outw = net.sizes[l + 1];
      double* ru = r_pre[l].data();
      const double* input = l == 0 ? p.x + static_cast<std::size_t>(n0) * in : at(cache.post[l - 1], in);
      if (l == 0 && sparse) {
        sparse_forward(SparseFirstLayer{sparse->block_at(n0), m, outw, stride(0), sparse, VT, ru, nullptr, nullptr, tile0});
      } else if (l == 0 && simd0) {
        FirstLayer b{m, in, outw, stride(0), input, P0, ru, nullptr, nullptr, nullptr, false};
        first_forward(b);
      } else {
        gemm(false, true, m, outw, in, 1.0, input, in, v + net.weight_offset(l), in, 0.0, ru, outw);
      }
      if (l > 0) gemm(false, true, m, outw, in, 1.0, r_post[l - 1].data(), in, p.weight(l), in, 1.0, ru, outw);
      if (fused && l == L - 2) break;
      // The bias direction and R(a) = sigma' R(u) in one pass over the block.
      const double* vb = net.has_bias[l] ? v + net.bias_offset(l) : nullptr;
      double* rp = l < L - 1 ? r_post[l].data() : nullptr;
      const double* d1 = l < L - 1 ? at(cache.d1[l], outw) : nullptr;
      for (std::size_t n = 0; n < static_cast<std::size_t>(m); ++n) {
        const std::size_t row = n * outw;
        if (vb)
          for (int j = 0; j < outw; ++j) ru[row + j] += vb[j];
        if (rp)
          for (int j = 0; j < outw; ++j) rp[row + j] = d1[row + j] * ru[row + j];
      }
    }
    if (fused) {
      const int h = L - 2, H = net.sizes[L - 1];
      OutputRows b;
      b.m = m;
      b.H = H;
      b.Hs = padded_width(H);
      b.c = c;
      b.ahead = end - n0;
      b.scale = p.scale();
      b.Vo = v + net.weight_offset(L - 1);
      b.Wo = p.weight(L - 1);
      b.PV = PV;
      b.PW = PW;
      b.vbo = net.has_bias[L - 1] ? v + net.bias_offset(L - 1) : nullptr;
      b.vbh = net.has_bias[h] ? v + net.bias_offset(h) : nullptr;
      b.a = at(cache.post[h], H);
      b.derivs = net.activation == Activation::Tanh      ? Derivs::Tanh
                 : net.activation == Activation::Sigmoid ? Derivs::Sigmoid
                                                         : Derivs::Cached;
      b.d1 = at(cache.d1[h], H);
      b.d2 = at(cache.d2[h], H);
      b.back = at(cache.back[h], H);
      b.probs = at(cache.probs, c);
      b.delta_o = at(cache.delta[L - 1], c);
      b.ru_h = r_pre[h].data();
      b.ra_h = r_post[h].data();
      b.ru_o = r_pre[L - 1].data();
      b.rd_o = r_delta[L - 1].data();
      b.rd_h = r_delta[h].data();
      output_rows(b);
    } else {
      // Backward R-pass, top: R(delta_L) = scale * (diag(p) - p p^T) R(v), as
      // scale * p_k * sum_{j != k} p_j (R(v)_k - R(v)_j) (p sums to 1): the plain R(v)_k - p.R(v)
      // cancels for the dominant class when p is nearly one-hot, as at trained points.
      for (int n = 0; n < m; ++n) {
        const double* pr = cache.probs.data() + static_cast<std::size_t>(n0 + n) * c;
        const double* rv = r_pre[L - 1].data() + static_cast<std::size_t>(n) * c;
        double* rd = r_delta[L - 1].data() + static_cast<std::size_t>(n) * c;
        for (int k = 0; k < c; ++k) {
          double centered = 0;
          for (int j = 0; j < c; ++j)
            if (j != k) centered += pr[j] * (rv[k] - rv[j]);
          rd[k] = p.scale() * pr[k] * centered;
        }
      }
    }
    for (int l = fused ? L - 3 : L - 2; l >= 0; --l) {
      const int width = net.sizes[l + 1], next = net.sizes[l + 2];
      const std::size_t count = static_cast<std::size_t>(m) * width;
      // tmp = delta_{l+1} V_{l+1} + R(delta_{l+1}) W_{l+1}
      gemm(false, false, m, width, next, 1.0, at(cache.delta[l + 1], next), next, v + net.weight_offset(l + 1), width,
           0.0, tmp, width);
      gemm(false, false, m, width, next, 1.0, r_delta[l + 1].data(), stride(l + 1), p.weight(l + 1), width, 1.0, tmp,
           width);
      const double* d1 = at(cache.d1[l], width);
      const double* d2 = at(cache.d2[l], width);
      const double* back = at(cache.back[l], width);
      const double* ru = r_pre[l].data();
      double* rd = r_delta[l].data();
      for (std::size_t i = 0; i < count; ++i) rd[i] = d2[i] * ru[i] * back[i] + d1[i] * tmp[i];
    }
    // Parameter blocks: (Hv)_W = R(delta)^T a_in + delta^T R(a_in); (Hv)_b = column sums of R(delta).
    for (int l = 0; l < L; ++l) {
      const int in = net.sizes[l], outw = net.sizes[l + 1];
      double* ow = out + net.weight_offset(l);
      double* ob = net.has_bias[l] ? out + net.bias_offset(l) : nullptr;
      if (fused && l == L - 1) {
        OutputParams b;
        b.m = m;
        b.H = in;
        b.Hs = padded_width(in);
        b.c = c;
        b.a = at(cache.post[l - 1], in);
        b.ra_h = r_post[l - 1].data();
        b.rd_o = r_delta[l].data();
        b.delta_o = at(cache.delta[l], c);
        b.hw = ow;
        b.hb = ob;
        b.first = first;
        output_params(b);
        continue;
      }
      const double* input = l == 0 ? p.x + static_cast<std::size_t>(n0) * in : at(cache.post[l - 1], in);
      const int ld = stride(l);
      if (l == 0 && simd0) {
        FirstLayer b{m, in, outw, ld, input, nullptr, nullptr, r_delta[0].data(), ow, ob, first};
        first_params(b);  // the bias sums too
        continue;
      }
      if (l == 0 && sparse) {
        // Summed over the chunk's blocks transposed; stored into ow after the last block.
        if (first) std::fill(acc0, acc0 + static_cast<std::size_t>(in) * outw, 0.0);
        sparse_params(SparseFirstLayer{sparse->block_at(n0), m, outw, ld, sparse, nullptr, nullptr, r_delta[0].data(), acc0, nullptr});
        if (n0 + rows >= end) sparse_params_store(outw, in, acc0, ow);
      } else {
        gemm(true, false, outw, in, m, 1.0, r_delta[l].data(), ld, input, in, acc, ow, in);
      }
      if (l > 0) gemm(true, false, outw, in, m, 1.0, at(cache.delta[l], outw), outw, r_post[l - 1].data(), in, 1.0, ow, in);
      if (ob) {
        if (first) std::fill(ob, ob + outw, 0.0);
        const double* rd = r_delta[l].data();
        for (int n = 0; n < m; ++n)
          for (int j = 0; j < outw; ++j) ob[j] += rd[static_cast<std::size_t>(n) * ld + j];
      }
    }
  }
}

}  // namespace

void HvpEngine::apply(const double* v, double* out) {
  const NetSpec& net = p_.net;
  const int L = net.layers(), N = p_.samples;
  const Layout lay = layout(p_, static_cast<int>(r_pre_.size()) / L, !sparse_.empty());
  double* PV = tmp_.data() + lay.pack();
  double* PW = PV + lay.packed;
  double* P0 = PW + lay.packed;
  if (lay.packed) {
    output_pack(net.classes(), net.sizes[L - 1], v + net.weight_offset(L - 1), PV);
    output_pack(net.classes(), net.sizes[L - 1], p_.weight(L - 1), PW);
  }
  if (lay.first) first_pack(net.sizes[1], net.inputs(), v + net.weight_offset(0), P0);
  double* VT = lay.sparse ? tmp_.data() + lay.vt() : nullptr;
  if (VT) sparse_transpose(net.sizes[1], net.inputs(), v + net.weight_offset(0), VT);
  // Thread t runs chunks from the shared counter on its own scratch.
  std::atomic<int> next{0};
  auto work = [&](int t) {
    const std::size_t at = static_cast<std::size_t>(t) * L;
    for (int c; (c = next.fetch_add(1)) < lay.chunks;) {
      double* partial = c == 0 ? out : tmp_.data() + lay.partial(c);
      const int begin = static_cast<int>(static_cast<long long>(N) * c / lay.chunks);
      const int end = static_cast<int>(static_cast<long long>(N) * (c + 1) / lay.chunks);
      Chunk{p_, cache_, v, partial, begin, end, lay.rows, &r_pre_[at], &r_post_[at], &r_delta_[at],
            tmp_.data() + t * lay.tmp_block, PV, PW, P0, VT ? &sparse_ : nullptr, VT,
            VT ? tmp_.data() + lay.sparse_acc(t) : nullptr, VT ? tmp_.data() + lay.sparse_tile(t) : nullptr}
          .run();
    }
  };
  run_sample_threads(lay.threads, work);
  // The chunks' sums, in chunk order.
  for (int c = 1; c < lay.chunks; ++c) {
    const double* partial = tmp_.data() + lay.partial(c);
    for (std::size_t i = 0; i < lay.P; ++i) out[i] += partial[i];
  }
}

}  // namespace hessbound
