// Lanes<Vec>: load, store, splat, multiply-add and sum for GCC/Clang vector types, so that a SIMD
// loop is written once and compiled per path (curvature/hvp.cpp, curvature/sparse_inputs.cpp).
#pragma once

#include <cstring>

// Its helpers take and return AVX vectors in the AVX2 and AVX-512 variants; they are always inlined,
// so no such value crosses a call (GCC's -Wpsabi note on that ABI does not apply).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace hessbound {
// Internal to each file that includes it, as when each file had its own copy: the loops
// instantiate it inside target("avx2,fma") / target("avx512f,fma") functions, and everything is
// always inlined there.
namespace {

template <class Vec>
struct Lanes {
  static constexpr int n = sizeof(Vec) / sizeof(double);
  static inline __attribute__((always_inline)) Vec load(const double* p) {
    Vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static inline __attribute__((always_inline)) void store(double* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }
  static inline __attribute__((always_inline)) Vec splat(double x) { return Vec{} + x; }
  // c + a * b: natively GCC contracts it to one FMA in the AVX2 and AVX-512 variants (as it did
  // `c += a * b`); the relaxed-SIMD WebAssembly module asks for f64x2.relaxed_madd explicitly, since
  // Clang never contracts into it (linalg/gemm_vec2.cpp says why its results differ by rounding).
  static inline __attribute__((always_inline)) Vec madd(const Vec& a, const Vec& b, const Vec& c) {
#if defined(__wasm_relaxed_simd__)
    if constexpr (n == 2) return __builtin_wasm_relaxed_madd_f64x2(a, b, c);
#endif
    return c + a * b;
  }
  static inline __attribute__((always_inline)) double sum(const Vec& v) {
    double s = v[0];
    for (int i = 1; i < n; ++i) s += v[i];
    return s;
  }
};

}  // namespace
}  // namespace hessbound
