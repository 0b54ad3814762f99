// The parts of the all-eigenvalues solve at size n, timed alone (bench/wasm-tridiagonal.ts compiles
// this twice). In WebAssembly (em++ -msimd128): the kernel's own code, gemm_vec2.cpp (included, for
// its internal symmetric mat-vec) and tridiagonal_eigenvalues.cpp. Natively: what LAPACKE_dsyevd('N')
// runs, OpenBLAS's dsymv and dsyr2k, LAPACK's dsytrd and dsterf. Parts:
//   symv:   y = A u on the trailing lower triangle of every size m = n - 1 .. 1 (the mat-vecs of a
//           reduction: n^3 / 6 entries, 4 flops each);
//   syr2k:  the rank-64 updates A22 -= V W^T + W V^T of the lower triangle after each panel of 32;
//   tridiagonalization (whole), and the tridiagonal eigenvalues (root-free QL/QR).
// Prints one JSON object of seconds (best of 3 repetitions, after a warm-up at a small size).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#ifdef __wasm_simd128__
#include "linalg/gemm_vec2.cpp"
#include "spectrum/tridiagonal_eigenvalues.hpp"
#else
#include <cblas.h>
#include <lapacke.h>
#endif

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

constexpr int NB = 32;

struct Parts {
  double symv, syr2k, tridiagonal, eigenvalues;
};

Parts run(int n, const std::vector<double>& a0) {
  std::mt19937 g(2);
  std::uniform_real_distribution<double> U(-1, 1);
  std::vector<double> a = a0, u(n), y(n), d(n), e(n), tau(n);
  for (auto& x : u) x = U(g);
  Parts best{1e30, 1e30, 1e30, 1e30};
  for (int rep = 0; rep < 3; ++rep) {
    double t0 = now();
    for (int m = n - 1; m >= 1; --m) {
      const double* t = a.data() + static_cast<std::size_t>(n - m) * n + (n - m);
#ifdef __wasm_simd128__
      hessbound::symv_lower(m, t, n, u.data(), y.data());
#else
      cblas_dsymv(CblasRowMajor, CblasLower, m, 1.0, t, n, u.data(), 1, 0.0, y.data(), 1);
#endif
    }
    best.symv = std::min(best.symv, now() - t0);
    std::vector<double> L(static_cast<std::size_t>(n) * 2 * NB), R(L.size()), diag(128 * 128);
    for (auto& x : L) x = 1e-3 * U(g);
    R = L;
    a = a0;
    t0 = now();
    for (int k = 0; n - k > NB + 1; k += NB) {
      const int mt = n - k - NB, ldl = 2 * NB;
      double* a22 = a.data() + static_cast<std::size_t>(k + NB) * n + k + NB;
#ifdef __wasm_simd128__
      for (int r0 = 0; r0 < mt; r0 += 128) {  // as tridiagonalize_panels does
        const int mb = std::min(128, mt - r0);
        double* ar = a22 + static_cast<std::size_t>(r0) * n;
        const double* lr = L.data() + static_cast<std::size_t>(r0) * ldl;
        if (r0 > 0) hessbound::gemm_vec2(false, true, mb, r0, ldl, -1.0, lr, ldl, R.data(), ldl, 1.0, ar, n);
        hessbound::gemm_vec2(false, true, mb, mb, ldl, 1.0, lr, ldl, R.data() + static_cast<std::size_t>(r0) * ldl, ldl, 0.0, diag.data(), mb);
        for (int p = 0; p < mb; ++p)
          for (int q = 0; q <= p; ++q) ar[static_cast<std::size_t>(p) * n + r0 + q] -= diag[static_cast<std::size_t>(p) * mb + q];
      }
#else
      cblas_dsyr2k(CblasRowMajor, CblasLower, CblasNoTrans, mt, NB, -1.0, L.data(), ldl, L.data() + NB, ldl, 1.0, a22, n);
#endif
    }
    best.syr2k = std::min(best.syr2k, now() - t0);
    a = a0;
    t0 = now();
#ifdef __wasm_simd128__
    hessbound::tridiagonalize_lower_vec2(n, a.data(), d.data(), e.data());
#else
    LAPACKE_dsytrd(LAPACK_COL_MAJOR, 'U', n, a.data(), n, d.data(), e.data(), tau.data());  // row-major lower = column-major upper
#endif
    best.tridiagonal = std::min(best.tridiagonal, now() - t0);
    std::vector<double> dd = d, ee = e;
    t0 = now();
#ifdef __wasm_simd128__
    hessbound::tridiagonal_eigenvalues(n, dd.data(), ee.data());
#else
    LAPACKE_dsterf(n, dd.data(), ee.data());
#endif
    best.eigenvalues = std::min(best.eigenvalues, now() - t0);
  }
  return best;
}

std::vector<double> random_lower(int n) {
  std::mt19937 g(1);
  std::uniform_real_distribution<double> U(-1, 1);
  std::vector<double> a(static_cast<std::size_t>(n) * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) a[static_cast<std::size_t>(i) * n + j] = U(g);
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) a[static_cast<std::size_t>(i) * n + j] = a[static_cast<std::size_t>(j) * n + i];
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2051;
  for (int w = 0; w < 3; ++w) run(800, random_lower(800));  // V8 tiers the hot functions up
  const Parts p = run(n, random_lower(n));
  std::printf("{\"n\":%d,\"symv\":%.5f,\"syr2k\":%.5f,\"tridiagonal\":%.5f,\"eigenvalues\":%.5f}\n", n, p.symv, p.syr2k, p.tridiagonal, p.eigenvalues);
  return 0;
}
