// OpenBLAS's DGEMM rate on this machine with OPENBLAS_NUM_THREADS threads (bench/scale-traces.ts
// runs it with 1 and with 2), and the core type OpenBLAS picked, i.e. the SIMD path its kernels
// take (SkylakeX / Cooperlake / Sapphirerapids: AVX-512; Haswell / Zen: AVX2 + FMA).
// Prints one JSON line: best-of-reps GFLOP/s by the wall clock and per core by the process CPU time.
//   g++ -O2 bench/native/dgemm-rate.cpp -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -o /tmp/dgemm-rate
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

extern "C" char* openblas_get_corename(void);

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1024, reps = argc > 2 ? std::atoi(argv[2]) : 5;
  std::vector<double> a(static_cast<std::size_t>(n) * n), b(a.size()), c(a.size(), 0.0);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = static_cast<double>((i * 7919) % 1000) / 1000.0 - 0.5;
    b[i] = static_cast<double>((i * 104729) % 1000) / 1000.0 - 0.5;
  }
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  };
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0, a.data(), n, b.data(), n, 0.0, c.data(), n);
  double best = 1e30, best_cpu = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_now();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0, a.data(), n, b.data(), n, 0.0, c.data(), n);
    best_cpu = std::min(best_cpu, cpu_now() - c0);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double flops = 2.0 * n * n * n;
  std::printf("{\"corename\":\"%s\",\"threads\":%d,\"n\":%d,\"gflops\":%.3f,\"cpuGflopsPerCore\":%.3f}\n", openblas_get_corename(),
              openblas_get_num_threads(), n, flops / best / 1e9, flops / best_cpu / 1e9);
  return 0;
}
