// GFLOP/s of the kernel's own gemm() (blas.hpp) on the shapes given as arguments "ta,tb,m,n,k"
// (C = op(A) op(B), row-major, as the kernel calls it): best of the repetitions of each, one JSON
// array in argument order. Built with em++ -msimd128 by bench/wasm-floor.ts, so these are the
// SIMD128 microkernels of gemm_vec2.cpp as V8 runs them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "linalg/blas.hpp"

int main(int argc, char** argv) {
  // Warm-up, as in gemm_peak.cpp: V8 tiers a WebAssembly function up only after enough calls.
  {
    std::vector<double> a(32 * 32, 0.5), b(32 * 32, 0.25), c(32 * 32, 0.0);
    for (int r = 0; r < 2000; ++r) hessbound::gemm(false, false, 32, 32, 32, 1.0, a.data(), 32, b.data(), 32, 0.0, c.data(), 32);
  }
  std::printf("[");
  for (int s = 1; s < argc; ++s) {
    int ta = 0, tb = 0, m = 0, n = 0, k = 0;
    if (std::sscanf(argv[s], "%d,%d,%d,%d,%d", &ta, &tb, &m, &n, &k) != 5) return 2;
    // op(A) is m x k, op(B) is k x n; stored row-major as the kernel stores them.
    std::vector<double> a(static_cast<size_t>(m) * k), b(static_cast<size_t>(k) * n), c(static_cast<size_t>(m) * n, 0.0);
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<double>((i * 7919) % 1000) / 1000.0 - 0.5;
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<double>((i * 104729) % 1000) / 1000.0 - 0.5;
    const int lda = ta ? m : k, ldb = tb ? k : n;
    double best = 1e30, total = 0;
    for (int r = 0; r < 50 && (r < 5 || total < 0.5); ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      hessbound::gemm(ta != 0, tb != 0, m, n, k, 1.0, a.data(), lda, b.data(), ldb, 0.0, c.data(), n);
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, sec);
      total += sec;
    }
    std::printf("%s%.3f", s > 1 ? "," : "", 2.0 * m * n * k / best / 1e9);
  }
  std::printf("]\n");
  return 0;
}
