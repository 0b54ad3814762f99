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

// e^y = 2^k (1 + p) for y >= 0 (and for y <= 0 in exp_vec): k = floor(y / ln 2) (y log2(e) - 1/2
// rounded to the nearest integer by adding 1.5 2^52), r = y - k ln 2 in [0, ln 2) (ln 2 in two parts,
// k ln2_hi exact), and p = e^r - 1 = r + r^2 Q(r). Q interpolates (e^r - 1 - r) / r^2 at 11
// Chebyshev nodes of [-0.002, ln 2 + 0.002] (computed in 40-digit arithmetic; p within 4e-18
// relative of e^r - 1 with these double coefficients). r >= 0 keeps e^y - 1 = (2^k - 1) + 2^k p
// free of cancellation, so tanh needs no second polynomial near 0 (the former odd series).
constexpr double kExpm1Q[] = {0.5,
                              0.16666666666666616,
                              0.04166666666669971,
                              0.008333333332561976,
                              0.0013888888979418793,
                              0.00019841263703271154,
                              2.4801845078168788e-05,
                              2.7550406259534666e-06,
                              2.7675594668859915e-07,
                              2.3809768604395034e-08,
                              2.8058517696157453e-09};
constexpr double kLog2e = 1.4426950408889634, kLn2Hi = 6.93147180369123816490e-01,
                 kLn2Lo = 1.90821492927058770002e-10, kShift = 0x1.8p52;
constexpr double kTanhSaturated = 20.0;  // tanh = 1 in float64 beyond 19.1
constexpr double kExpUnderflow = -700.0;  // e^y below this is flushed to 0 (2^k stays a normal number)
constexpr std::int64_t kShiftBits = 0x4338000000000000LL, kOneBits = 0x3ff0000000000000LL;
constexpr std::int64_t kSignBit = static_cast<std::int64_t>(0x8000000000000000ULL);
constexpr std::int64_t kMagnitudeBits = 0x7fffffffffffffffLL;

// Scalar bit casts for the loops' tails (the same operations as the vector code, lane by lane;
// unsigned, so that shifting k's bits to the exponent wraps as the vector lanes do).
HB_ELEMENTWISE_INLINE std::uint64_t bits_of(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
HB_ELEMENTWISE_INLINE double double_of(std::uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// The reduction and polynomial of e^y above, on doubles or vectors alike (T: double or V; the
// integer steps through to_bits / from_bits): s = 2^k and p = e^r - 1. Estrin's scheme: the
// evaluation is throughput-bound, and its shorter dependency chains keep the units busy.
template <class T, class ToBits, class FromBits>
HB_ELEMENTWISE_INLINE void exp_parts(T y, T& s, T& p, ToBits to_bits, FromBits from_bits) {
  const T shifted = (y * kLog2e - 0.5) + kShift;  // k in the low mantissa bits
  const T k = shifted - kShift;
  const T r = (y - k * kLn2Hi) - k * kLn2Lo;
  const T r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const T a0 = kExpm1Q[0] + kExpm1Q[1] * r, a1 = kExpm1Q[2] + kExpm1Q[3] * r, a2 = kExpm1Q[4] + kExpm1Q[5] * r;
  const T a3 = kExpm1Q[6] + kExpm1Q[7] * r, a4 = kExpm1Q[8] + kExpm1Q[9] * r;
  const T b0 = a0 + a1 * r2, b1 = a2 + a3 * r2, b2 = a4 + kExpm1Q[10] * r2;
  const T q = (b0 + b1 * r4) + b2 * r8;
  p = r + r2 * q;
  s = from_bits(((to_bits(shifted) - kShiftBits) << 52) + kOneBits);
}

// tanh |x| = (e^y - 1) / (e^y + 1) with y = 2 min(|x|, 20), e^y - 1 = (s - 1) + s p (exact for
// k = 0; otherwise both terms positive), sign copied from x. Within 2.4 ulp of tanh over 2e6
// arguments (test/native/train_eval_check.cpp; glibc's tanh: 2.1 ulp there, the former series:
// 1.5 ulp), with some 40% fewer operations than the former series plus exponential (both
// computed for every element, one picked).
HB_ELEMENTWISE_INLINE double tanh_one(double x) {
  const double ax = double_of(bits_of(x) & kMagnitudeBits);
  const double y = 2 * (kTanhSaturated < ax ? kTanhSaturated : ax);  // NaN stays NaN
  double s, p;
  exp_parts(y, s, p, bits_of, double_of);
  const double em1 = (s - 1) + s * p;
  const double t = em1 / (em1 + 2);
  return double_of((bits_of(t) & kMagnitudeBits) | (bits_of(x) & kSignBit));
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
  const V saturated = broadcast<V>(kTanhSaturated);
  const V y = 2 * select<V, I>((I)(saturated < ax), saturated, ax);
  V s, p;
  exp_parts(y, s, p, [](V v) { return (I)v; }, [](I i) { return (V)i; });
  const V em1 = (s - 1) + s * p;
  const V t = em1 / (em1 + 2);
  return (V)(((I)t & kMagnitudeBits) | (xbits & kSignBit));
}

// e^x for x <= 0 (the softmax's exp(v - max)); below -700 exactly 0; NaN stays NaN.
HB_ELEMENTWISE_INLINE double exp_one(double x) {
  const double y = x < kExpUnderflow ? kExpUnderflow : x;
  double s, p;
  exp_parts(y, s, p, bits_of, double_of);
  const double e = s + s * p;
  return x < kExpUnderflow ? 0.0 : e;
}

template <class V, class I>
HB_ELEMENTWISE_INLINE V exp_vec(V x) {
  const V low = broadcast<V>(kExpUnderflow);
  const I under = (I)(x < low);
  const V y = select<V, I>(under, low, x);
  V s, p;
  exp_parts(y, s, p, [](V v) { return (I)v; }, [](I i) { return (V)i; });
  return (V)((I)(s + s * p) & ~under);
}

template <class V, class I>
HB_ELEMENTWISE_INLINE void tanh_values_body(const double* u, int n, double* out) {
  constexpr int w = Lanes<V>::n;
  int i = 0;
  for (; i + w <= n; i += w) store(out + i, tanh_vec<V, I>(load<V>(u + i)));
  for (; i < n; ++i) out[i] = tanh_one(u[i]);
}

template <class V, class I>
HB_ELEMENTWISE_INLINE void exp_values_body(const double* x, std::size_t n, double* out) {
  constexpr std::size_t w = Lanes<V>::n;
  std::size_t i = 0;
  for (; i + w <= n; i += w) store(out + i, exp_vec<V, I>(load<V>(x + i)));
  for (; i < n; ++i) out[i] = exp_one(x[i]);
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
  attributes void exp_values_##suffix(const double* x, std::size_t n, double* out) {                      \
    exp_values_body<V, I>(x, n, out);                                                                      \
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
void exp_values(const double* x, std::size_t n, double* out) { HB_DISPATCH(exp_values, x, n, out) }
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
