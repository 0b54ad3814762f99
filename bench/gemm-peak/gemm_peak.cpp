// GEMM throughput of the kernel's own gemm() (blas.hpp): OpenBLAS natively (HESSBOUND_USE_BLAS),
// the SIMD128 microkernels of gemm_vec2.cpp when compiled to WebAssembly with -msimd128. Prints one
// JSON line: GFLOP/s per square size (best of the repetitions). Built and run by bench/wasm-gemm-peak.ts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "linalg/blas.hpp"

int main() {
  // Warm-up: V8 runs a WebAssembly function with its baseline compiler (Liftoff) until it has been
  // called often enough, and a running call keeps its code; the kernel calls gemm() thousands of
  // times in a run, so the optimized code is what it runs. (Natively this only warms the caches.)
  {
    std::vector<double> a(32 * 32, 0.5), b(32 * 32, 0.25), c(32 * 32, 0.0);
    for (int r = 0; r < 2000; ++r) hessbound::gemm(false, false, 32, 32, 32, 1.0, a.data(), 32, b.data(), 32, 0.0, c.data(), 32);
  }
  std::printf("{");
  const int sizes[] = {256, 512, 1024};
  for (int s = 0; s < 3; ++s) {
    const int n = sizes[s];
    std::vector<double> a(static_cast<size_t>(n) * n), b(a.size()), c(a.size(), 0.0);
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<double>((i * 7919) % 1000) / 1000.0 - 0.5;
      b[i] = static_cast<double>((i * 104729) % 1000) / 1000.0 - 0.5;
    }
    double best = 1e30;
    const int reps = n <= 512 ? 8 : 3;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      hessbound::gemm(false, false, n, n, n, 1.0, a.data(), n, b.data(), n, 0.0, c.data(), n);
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, sec);
    }
    std::printf("%s\"%d\":%.3f", s ? "," : "", n, 2.0 * n * n * n / best / 1e9);
  }
  std::printf("}\n");
  return 0;
}
