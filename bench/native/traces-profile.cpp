// Times and profiles the closed-form dual traces alone, without Node (issue 25): random data of
// MNIST shape (d = 784, 10 classes), a 784-h-10 tanh MLP, and one thread's DGEMM rate on the
// traces' dominant shape for comparison.
//
//   g++ -O2 -std=c++17 -Inative/kernel bench/native/traces-profile.cpp native/binding/gfortran_shim.cpp \
//       build/libhessbound_kernel.a /usr/lib/x86_64-linux-gnu/liblapacke.a \
//       /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a -lpthread -lm -o /tmp/traces-profile
//   HESSBOUND_THREADS=1 OPENBLAS_NUM_THREADS=1 perf record -e cpu-clock -o /tmp/p.data /tmp/traces-profile 2000 128
//   perf report -i /tmp/p.data --no-children --sort symbol
// (HESSBOUND_SIMD=avx2 OPENBLAS_CORETYPE=Haswell: the AVX2 path with OpenBLAS's AVX2 kernels.)
//
// Arguments: samples N, width h, method (1 dual, 2 primal).
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "linalg/blas.hpp"
#include "model/network.hpp"
#include "closed_form/traces.hpp"

using namespace hessbound;

int main(int argc, char** argv) {
  const int N = argc > 1 ? std::atoi(argv[1]) : 2000, h = argc > 2 ? std::atoi(argv[2]) : 128;
  const int method = argc > 3 ? std::atoi(argv[3]) : 1;
  const int d = 784, c = 10;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> gauss(0, 1);
  Problem p;
  p.net.sizes = {d, h, c};
  p.net.has_bias = {true, true};
  p.net.activation = Activation::Tanh;
  std::vector<double> x(static_cast<std::size_t>(N) * d), t(static_cast<std::size_t>(N) * c, 0.0), w(p.net.parameter_count());
  for (double& v : x) v = gauss(rng) * 0.3;
  for (int n = 0; n < N; ++n) t[static_cast<std::size_t>(n) * c + n % c] = 1;
  for (double& v : w) v = gauss(rng) * 0.05;
  p.params = w.data(), p.x = x.data(), p.targets = t.data(), p.samples = N;
  TracesOptions opt;
  opt.method = static_cast<TraceMethod>(method);
  opt.orthogonality = false;
  // Process CPU time as well as the wall clock: on a shared machine the wall clock counts other
  // jobs' time slices; the CPU time over the threads is the work itself.
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  };
  const double c0 = cpu_now();
  const TracesResult r = compute_traces(p, opt);
  const double traces_cpu = cpu_now() - c0;
  const double madds = 0.5 * N * static_cast<double>(N) * (0.5 * c * (c + 1) + 3.0 * c) * h;
  // One thread's DGEMM on a square shape for reference.
  const int n = 1024;
  std::vector<double> a(static_cast<std::size_t>(n) * n, 0.5), b(a.size(), 0.25), cc(a.size());
  double best = 1e30, best_cpu = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = cpu_now();
    gemm(false, true, n, n, n, 1.0, a.data(), n, b.data(), n, 0.0, cc.data(), n);
    best_cpu = std::min(best_cpu, cpu_now() - cpu0);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double dgemm = 2.0 * n * n * n / best / 1e9, dgemm_cpu = 2.0 * n * n * n / best_cpu / 1e9;
  const double rate = 2 * madds / r.seconds_traces / 1e9, rate_cpu = 2 * madds / traces_cpu / 1e9;
  std::printf("N %d h %d %s, %d threads: wall %.3f s, %.1f GFLOP/s (DGEMM 1024 %.1f, ratio %.2f); CPU %.3f s, %.1f GFLOP/s per core "
              "(DGEMM %.1f, ratio %.2f); tr(H^2) %.17g\n",
              N, h, r.method.c_str(), r.threads, r.seconds_traces, rate, dgemm, rate / dgemm, traces_cpu, rate_cpu, dgemm_cpu,
              rate_cpu / dgemm_cpu, r.trace_of_square);
}
