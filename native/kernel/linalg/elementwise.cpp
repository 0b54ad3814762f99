#include "linalg/elementwise.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "linalg/simd_path.hpp"

// One set of operations for every path: contracting a * b + c into an FMA on the AVX2/AVX-512
// paths only would change their bits against the generic path.
#ifdef HESSBOUND_X86_SIMD
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
// The vector helpers are always inlined into their path's function, so no 32/64-byte vector crosses
// a call (GCC's -Wpsabi note on that ABI does not apply; it comes at the end of the file, so it
// stays off to the end).
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#define HB_ELEMENTWISE_INLINE inline __attribute__((always_inline))

namespace hessbound {

namespace {

typedef double V2 __attribute__((vector_size(16)));
typedef std::int64_t I2 __attribute__((vector_size(16)));
#ifdef HESSBOUND_X86_SIMD
typedef double V4 __attribute__((vector_size(32)));
typedef std::int64_t I4 __attribute__((vector_size(32)));
typedef double V8 __attribute__((vector_size(64)));
typedef std::int64_t I8 __attribute__((vector_size(64)));
#endif

template <class V>
struct Lanes {
  static constexpr int n = sizeof(V) / sizeof(double);
};

template <class V>
HB_ELEMENTWISE_INLINE V load(const double* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
HB_ELEMENTWISE_INLINE void store(double* p, V v) {
  std::memcpy(p, &v, sizeof v);
}
template <class V>
HB_ELEMENTWISE_INLINE V broadcast(double x) {
  V v;
  for (int i = 0; i < Lanes<V>::n; ++i) v[i] = x;
  return v;
}

// tanh(x) / x = 1 + z Q(z), z = x^2, below kTanhSeriesEnd: Q interpolated at Chebyshev nodes of
// [0, 0.55^2] (degree 10; its error is below float64 rounding there: 1.1e-16 relative to tanh at
// worst, measured in 40-digit arithmetic), half the terms the Taylor series needed for the same.
constexpr double kTanhSeries[] = {
    1.0, -0.3333333333333333, 0.13333333333332714, -0.053968253967434016, 0.021869488493666944,
    -0.008863234397814355, 0.003592110378689024, -0.001455661830100716, 0.0005889360520074057,
    -0.0002346347410887237, 8.511313685577672e-05, -2.060276537636634e-05};
constexpr int kTanhTerms = sizeof(kTanhSeries) / sizeof(kTanhSeries[0]);
constexpr double kTanhSeriesEnd = 0.55;
constexpr double kTanhSaturated = 20.0;  // tanh = 1 in float64 beyond 19.1

// e^y for 0 <= y <= 40: y = k ln 2 + r, |r| <= ln 2 / 2, e^r by its Taylor series to degree 13
// (remainder < 4e-18 relative), 2^k added to the exponent bits.
constexpr double kLog2e = 1.4426950408889634, kLn2Hi = 6.93147180369123816490e-01,
                 kLn2Lo = 1.90821492927058770002e-10, kShift = 0x1.8p52;
constexpr double kExpTaylor[] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                                 1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,
                                 1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,        0.5,
                                 1.0,                1.0};
constexpr int kExpTerms = sizeof(kExpTaylor) / sizeof(kExpTaylor[0]);
constexpr std::int64_t kShiftBits = 0x4338000000000000LL;
constexpr std::int64_t kSignBit = static_cast<std::int64_t>(0x8000000000000000ULL);
constexpr std::int64_t kMagnitudeBits = 0x7fffffffffffffffLL;

// The scalar twin of tanh_vec (the loops' tails): the same operations in the same order.
HB_ELEMENTWISE_INLINE double tanh_one(double x) {
  const double ax = std::fabs(x), z = x * x;
  double q = kTanhSeries[kTanhTerms - 1];
  for (int i = kTanhTerms - 2; i >= 1; --i) q = q * z + kTanhSeries[i];
  const double series = x + x * (z * q);
  const double y = 2 * (kTanhSaturated < ax ? kTanhSaturated : ax);
  const double shifted = y * kLog2e + kShift;  // round to nearest integer in the low bits
  const double k = shifted - kShift;
  const double r = (y - k * kLn2Hi) - k * kLn2Lo;
  double e = kExpTaylor[0];
  for (int i = 1; i < kExpTerms; ++i) e = e * r + kExpTaylor[i];
  std::int64_t bits, kbits;
  std::memcpy(&bits, &e, sizeof bits);
  std::memcpy(&kbits, &shifted, sizeof kbits);
  bits += (kbits - kShiftBits) << 52;  // k, from the shifted value's low mantissa bits
  std::memcpy(&e, &bits, sizeof e);
  const double far = std::copysign(1 - 2 / (e + 1), x);
  return ax < kTanhSeriesEnd ? series : far;
}

// Lane selects by bit masks (comparisons give all-ones or zero lanes).
template <class V, class I>
HB_ELEMENTWISE_INLINE V select(I mask, V yes, V no) {
  return (V)(((I)yes & mask) | ((I)no & ~mask));
}

template <class V, class I>
HB_ELEMENTWISE_INLINE V tanh_vec(V x) {
  const I xbits = (I)x;
  const V ax = (V)(xbits & kMagnitudeBits);
  const V z = x * x;
  V q = broadcast<V>(kTanhSeries[kTanhTerms - 1]);
#pragma GCC unroll 16
  for (int i = kTanhTerms - 2; i >= 1; --i) q = q * z + kTanhSeries[i];
  const V series = x + x * (z * q);
  const V saturated = broadcast<V>(kTanhSaturated);
  const V y = 2 * select<V, I>((I)(saturated < ax), saturated, ax);  // NaN stays NaN, as in tanh_one
  const V shifted = y * kLog2e + kShift;
  const V k = shifted - kShift;
  const V r = (y - k * kLn2Hi) - k * kLn2Lo;
  V e = broadcast<V>(kExpTaylor[0]);
#pragma GCC unroll 16
  for (int i = 1; i < kExpTerms; ++i) e = e * r + kExpTaylor[i];
  e = (V)((I)e + (((I)shifted - kShiftBits) << 52));
  const V far = 1 - 2 / (e + 1);
  const V far_signed = (V)(((I)far & kMagnitudeBits) | (xbits & kSignBit));
  return select<V, I>((I)(ax < kTanhSeriesEnd), series, far_signed);
}

template <class V, class I>
HB_ELEMENTWISE_INLINE void tanh_values_body(const double* u, int n, double* out) {
  constexpr int w = Lanes<V>::n;
  int i = 0;
  for (; i + w <= n; i += w) store(out + i, tanh_vec<V, I>(load<V>(u + i)));
  for (; i < n; ++i) out[i] = tanh_one(u[i]);
}

template <class V, class I>
HB_ELEMENTWISE_INLINE void bias_tanh_body(int rows, int width, const double* b, double* u, double* a) {
  constexpr int w = Lanes<V>::n;
  for (int r = 0; r < rows; ++r) {
    double* ur = u + static_cast<std::size_t>(r) * width;
    double* ar = a + static_cast<std::size_t>(r) * width;
    int j = 0;
    for (; j + w <= width; j += w) {
      V v = load<V>(ur + j);
      if (b) {
        v += load<V>(b + j);
        store(ur + j, v);
      }
      store(ar + j, tanh_vec<V, I>(v));
    }
    for (; j < width; ++j) {
      if (b) ur[j] += b[j];
      ar[j] = tanh_one(ur[j]);
    }
  }
}

template <class V>
HB_ELEMENTWISE_INLINE void tanh_backward_body(std::size_t n, const double* a, const double* back, double* delta) {
  constexpr std::size_t w = Lanes<V>::n;
  std::size_t i = 0;
  for (; i + w <= n; i += w) {
    const V t = load<V>(a + i);
    store(delta + i, (1 - t * t) * load<V>(back + i));
  }
  for (; i < n; ++i) delta[i] = (1 - a[i] * a[i]) * back[i];
}

template <class V>
HB_ELEMENTWISE_INLINE void scale_by_body(std::size_t n, const double* back, double* delta) {
  constexpr std::size_t w = Lanes<V>::n;
  std::size_t i = 0;
  for (; i + w <= n; i += w) store(delta + i, load<V>(delta + i) * load<V>(back + i));
  for (; i < n; ++i) delta[i] *= back[i];
}

template <class V>
HB_ELEMENTWISE_INLINE void sum_columns_body(int rows, int width, const double* d, bool first, double* sums) {
  constexpr int w = Lanes<V>::n;
  if (first) std::fill(sums, sums + width, 0.0);
  for (int r = 0; r < rows; ++r) {
    const double* dr = d + static_cast<std::size_t>(r) * width;
    int j = 0;
    for (; j + w <= width; j += w) store(sums + j, load<V>(sums + j) + load<V>(dr + j));
    for (; j < width; ++j) sums[j] += dr[j];
  }
}

// Each function in one variant per path: the vector type, and the target the compiler may use.
#define HB_ELEMENTWISE_VARIANTS(suffix, attributes, V, I)                                                   \
  attributes void tanh_values_##suffix(const double* u, int n, double* out) {                              \
    tanh_values_body<V, I>(u, n, out);                                                                     \
  }                                                                                                        \
  attributes void bias_tanh_##suffix(int rows, int width, const double* b, double* u, double* a) {         \
    bias_tanh_body<V, I>(rows, width, b, u, a);                                                            \
  }                                                                                                        \
  attributes void tanh_backward_##suffix(std::size_t n, const double* a, const double* back, double* d) {  \
    tanh_backward_body<V>(n, a, back, d);                                                                  \
  }                                                                                                        \
  attributes void scale_by_##suffix(std::size_t n, const double* back, double* delta) {                    \
    scale_by_body<V>(n, back, delta);                                                                      \
  }                                                                                                        \
  attributes void sum_columns_##suffix(int rows, int width, const double* d, bool first, double* sums) {   \
    sum_columns_body<V>(rows, width, d, first, sums);                                                      \
  }

HB_ELEMENTWISE_VARIANTS(generic, , V2, I2)
#ifdef HESSBOUND_X86_SIMD
HB_ELEMENTWISE_VARIANTS(avx2, __attribute__((target("avx2,fma"))), V4, I4)
HB_ELEMENTWISE_VARIANTS(avx512, __attribute__((target("avx512f,fma"))), V8, I8)
#define HB_DISPATCH(name, ...)                                            \
  switch (simd_path()) {                                                  \
    case SimdPath::Avx512: return name##_avx512(__VA_ARGS__);             \
    case SimdPath::Avx2: return name##_avx2(__VA_ARGS__);                 \
    default: return name##_generic(__VA_ARGS__);                          \
  }
#else
#define HB_DISPATCH(name, ...) return name##_generic(__VA_ARGS__);
#endif

}  // namespace

void tanh_values(const double* u, int n, double* out) { HB_DISPATCH(tanh_values, u, n, out) }
void bias_tanh(int rows, int width, const double* b, double* u, double* a) {
  HB_DISPATCH(bias_tanh, rows, width, b, u, a)
}
void tanh_backward(std::size_t n, const double* a, const double* back, double* delta) {
  HB_DISPATCH(tanh_backward, n, a, back, delta)
}
void scale_by(std::size_t n, const double* back, double* delta) { HB_DISPATCH(scale_by, n, back, delta) }
void sum_columns(int rows, int width, const double* d, bool first, double* sums) {
  HB_DISPATCH(sum_columns, rows, width, d, first, sums)
}

}  // namespace hessbound

#ifdef HESSBOUND_X86_SIMD
#pragma GCC pop_options
#endif
