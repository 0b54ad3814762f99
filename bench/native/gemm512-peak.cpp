// One core's floating-point limits next to the products training uses (bench/gemm512-peak.ts):
// - the FMA peak with 512-bit and with 256-bit registers (24 independent chains of fused
//   multiply-adds, float64), i.e. what AVX-512 and what AVX2 code can reach at most;
// - OpenBLAS's DGEMM (1024^3, and training's shapes) as the process finds it (OPENBLAS_CORETYPE
//   as set in the environment);
// - native/kernel/linalg/gemm512.cpp on training's shapes (digits: N = 1797, d = 64, 10 classes), called
//   per block of rows as the evaluation calls it; OpenBLAS on all rows at once.
// Prints one JSON object; GFLOP/s are best of a few repetitions.
#include <cblas.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <vector>

#include "linalg/gemm512.hpp"

using namespace hessbound;

namespace {

double seconds(const std::function<void()>& f, int reps) {
  f();  // warm-up
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

__attribute__((target("avx512f,fma"), noinline)) double peak512(long iters) {
  __m512d acc[24];
  for (int i = 0; i < 24; ++i) acc[i] = _mm512_set1_pd(i * 1e-3);
  const __m512d x = _mm512_set1_pd(0.999999), y = _mm512_set1_pd(1e-9);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i) acc[i] = _mm512_fmadd_pd(acc[i], x, y);
  }
  double s = 0;
  for (int i = 0; i < 24; ++i) s += _mm512_reduce_add_pd(acc[i]);
  return s;
}

__attribute__((target("avx2,fma"), noinline)) double peak256(long iters) {
  __m256d acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_pd(i * 1e-3);
  const __m256d x = _mm256_set1_pd(0.999999), y = _mm256_set1_pd(1e-9);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_pd(acc[i], x, y);
  }
  double s = 0, tmp[4];
  for (int i = 0; i < 12; ++i) {
    _mm256_storeu_pd(tmp, acc[i]);
    s += tmp[0] + tmp[1] + tmp[2] + tmp[3];
  }
  return s;
}

std::vector<double> random(std::size_t n) {
  static std::mt19937_64 rng(3);
  std::normal_distribution<double> g(0, 1);
  std::vector<double> v(n);
  for (double& x : v) x = g(rng);
  return v;
}

}  // namespace

int main() {
  volatile double sink = 0;
  const long iters = 20'000'000;
  const double t512 = seconds([&] { sink = sink + peak512(iters); }, 5);
  const double t256 = seconds([&] { sink = sink + peak256(iters); }, 5);
  std::printf("{\"peak512\": %.2f, \"peak256\": %.2f", 24.0 * 8 * 2 * iters / t512 * 1e-9, 12.0 * 4 * 2 * iters / t256 * 1e-9);
  {
    const int n = 1024;
    auto a = random(n * n), b = random(n * n), c = random(n * n);
    const double t = seconds([&] { cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a.data(), n, b.data(), n, 0.0, c.data(), n); }, 5);
    std::printf(", \"dgemm1024\": %.2f", 2.0 * n * n * n / t * 1e-9);
  }
  // Training's products on one block of rows (digits-sized: all N rows at once) per width.
  const int N = 1797, d = 64, cls = 10;
  std::printf(", \"shapes\": [");
  bool first_row = true;
  for (int H : {64, 256, 1024}) {
    // gemm512.cpp as the evaluation calls it (train_eval.cpp): blocks of rows of 512 KB per array,
    // hidden rows padded off multiples of 512 bytes.
    const int rows = std::max(32, static_cast<int>((512u << 10) / (8 * H))), ld = H % 64 == 0 ? H + 8 : H;
    auto blocks = [&](const std::function<void(int r0, int m)>& f) {
      for (int r0 = 0; r0 < N; r0 += rows) f(r0, std::min(rows, N - r0));
    };
    auto padded = random(static_cast<std::size_t>(N) * ld), padded2 = random(static_cast<std::size_t>(N) * ld);
    auto x = random(static_cast<std::size_t>(N) * d), w1 = random(static_cast<std::size_t>(H) * d);
    auto act = random(static_cast<std::size_t>(N) * H), w2 = random(static_cast<std::size_t>(cls) * H);
    auto d2 = random(static_cast<std::size_t>(N) * cls), d1 = random(static_cast<std::size_t>(N) * H);
    std::vector<double> u(static_cast<std::size_t>(N) * H), z(static_cast<std::size_t>(N) * cls), g1(static_cast<std::size_t>(H) * d),
        g2(static_cast<std::size_t>(cls) * H), back(static_cast<std::size_t>(N) * H), sums(H);
    std::vector<double> p1(gemm512_packed_size(H, d)), p2(gemm512_packed_size(cls, H));
    struct Shape {
      const char* name;
      double flops;
      std::function<void()> blas, ours;
    };
    const Shape shapes[] = {
        {"X W1^T (forward, layer 0)", 2.0 * N * H * d,
         [&] { cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, H, d, 1.0, x.data(), d, w1.data(), d, 0.0, u.data(), H); },
         [&] {
           gemm512_pack(H, d, w1.data(), d, p1.data());
           blocks([&](int r0, int m) { gemm512_nt(m, H, d, x.data() + r0 * d, d, p1.data(), padded.data() + r0 * ld, ld); });
         }},
        {"A W2^T (logits)", 2.0 * N * H * cls,
         [&] { cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, cls, H, 1.0, act.data(), H, w2.data(), H, 0.0, z.data(), cls); },
         [&] {
           gemm512_pack(cls, H, w2.data(), H, p2.data());
           blocks([&](int r0, int m) { gemm512_nt(m, cls, H, padded.data() + r0 * ld, ld, p2.data(), z.data() + r0 * cls, cls); });
         }},
        {"delta2^T A (output gradient)", 2.0 * N * H * cls,
         [&] { cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, cls, H, N, 1.0, d2.data(), cls, act.data(), H, 0.0, g2.data(), H); },
         [&] {
           blocks([&](int r0, int m) { gemm512_tn(cls, H, m, d2.data() + r0 * cls, cls, padded.data() + r0 * ld, ld, r0 > 0, g2.data(), H, nullptr); });
         }},
        {"delta2 W2 (back-propagation)", 2.0 * N * H * cls,
         [&] { cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, H, cls, 1.0, d2.data(), cls, w2.data(), H, 0.0, back.data(), H); },
         [&] { blocks([&](int r0, int m) { gemm512_nn(m, H, cls, d2.data() + r0 * cls, cls, w2.data(), H, padded2.data() + r0 * ld, ld); }); }},
        {"delta1^T X (gradient, layer 0)", 2.0 * N * H * d,
         [&] { cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, d, N, 1.0, d1.data(), H, x.data(), d, 0.0, g1.data(), d); },
         [&] {
           blocks([&](int r0, int m) { gemm512_tn(H, d, m, padded2.data() + r0 * ld, ld, x.data() + r0 * d, d, r0 > 0, g1.data(), d, nullptr); });
         }},
    };
    for (const Shape& s : shapes) {
      const double tb = seconds(s.blas, 7), to = seconds(s.ours, 7);
      std::printf("%s{\"width\": %d, \"product\": \"%s\", \"flops\": %.0f, \"openblas\": %.2f, \"gemm512\": %.2f}",
                  first_row ? "" : ", ", H, s.name, s.flops, s.flops / tb * 1e-9, s.flops / to * 1e-9);
      first_row = false;
    }
  }
  std::printf("], \"sink\": %g}\n", static_cast<double>(sink) * 0);
  return 0;
}
