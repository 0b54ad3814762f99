// Host check of native/kernel/linalg/gemm512.cpp (test/gemm512.test.ts): every product on edge shapes
// (widths not multiples of the tiles, one row, k = 1, 2 classes) against
// - a plain loop with the same order of operations (one fused multiply-add per k, in order):
//   must match bit for bit (the products' fixed summation order), and
// - a long double loop: the relative error, per entry over sum_k |a_ik b_kj|, must stay ~1e-16.
// Prints one JSON object.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "linalg/gemm512.hpp"

using namespace hessbound;

namespace {
std::mt19937_64 rng(7);
std::vector<double> random(std::size_t n) {
  std::normal_distribution<double> g(0, 1);
  std::vector<double> v(n);
  for (double& x : v) x = g(rng);
  return v;
}
double worst_rel = 0;
long mismatches = 0, checked = 0;
void compare(double got, double same_order, long double exact, long double magnitude) {
  ++checked;
  if (got != same_order) ++mismatches;
  const long double err = std::fabs(static_cast<long double>(got) - exact) / (magnitude > 0 ? magnitude : 1);
  if (err > worst_rel) worst_rel = static_cast<double>(err);
}
}  // namespace

int main() {
  if (!gemm512_available()) {
    std::printf("{\"available\": false}\n");
    return 0;
  }
  const int ms[] = {1, 2, 5, 7, 13, 37};
  const int ns[] = {1, 2, 7, 8, 10, 17, 31, 32, 33, 64, 70, 290};
  const int ks[] = {0, 1, 3, 10, 64, 65, 300};  // 0: empty sums (C and the column sums zeroed, or kept when accumulating)
  for (int m : ms)
    for (int n : ns)
      for (int k : ks) {
        // C = A B^T, A m x k (row stride k + 3), B n x k (row stride k + 1), C row stride n + 2.
        {
          const int lda = k + 3, ldb = k + 1, ldc = n + 2;
          auto a = random(static_cast<std::size_t>(m) * lda), b = random(static_cast<std::size_t>(n) * ldb);
          std::vector<double> packed(gemm512_packed_size(n, k)), c(static_cast<std::size_t>(m) * ldc, 7.0);
          gemm512_pack(n, k, b.data(), ldb, packed.data());
          int groups_rows = 0;
          auto count = [](void* ctx, int, int rows) { *static_cast<int*>(ctx) += rows; };
          gemm512_nt(m, n, k, a.data(), lda, packed.data(), c.data(), ldc, RowsDone{count, &groups_rows});
          if (groups_rows != m) ++mismatches;
          for (int i = 0; i < m; ++i) {
            for (int j = 0; j < n; ++j) {
              double s = 0;
              long double e = 0, mag = 0;
              for (int q = 0; q < k; ++q) {
                const double x = a[i * lda + q], y = b[j * ldb + q];
                s = std::fma(x, y, s), e += static_cast<long double>(x) * y, mag += std::fabs(static_cast<long double>(x) * y);
              }
              compare(c[i * ldc + j], s, e, mag);
            }
            for (int j = n; j < ldc; ++j) if (c[i * ldc + j] != 7.0) ++mismatches;  // padding untouched
          }
        }
        // C (+)= A^T B, A k x m, B k x n, with column sums, both modes.
        for (int accumulate = 0; accumulate < 2; ++accumulate) {
          const int lda = m + 1, ldb = n + 3, ldc = n + 1;
          auto a = random(static_cast<std::size_t>(k) * lda), b = random(static_cast<std::size_t>(k) * ldb);
          auto c0 = random(static_cast<std::size_t>(m) * ldc), s0 = random(m);
          auto c = c0, sums = s0;
          gemm512_tn(m, n, k, a.data(), lda, b.data(), ldb, accumulate, c.data(), ldc, sums.data());
          for (int i = 0; i < m; ++i) {
            for (int j = 0; j < n; ++j) {
              double s = accumulate ? c0[i * ldc + j] : 0;
              long double e = s, mag = std::fabs(e);
              for (int q = 0; q < k; ++q) {
                const double x = a[q * lda + i], y = b[q * ldb + j];
                s = std::fma(x, y, s), e += static_cast<long double>(x) * y, mag += std::fabs(static_cast<long double>(x) * y);
              }
              compare(c[i * ldc + j], s, e, mag);
            }
            if (c[i * ldc + n] != c0[i * ldc + n]) ++mismatches;
            double s = accumulate ? s0[i] : 0;
            long double e = s, mag = std::fabs(e);
            for (int q = 0; q < k; ++q) s += a[q * lda + i], e += a[q * lda + i], mag += std::fabs(a[q * lda + i]);
            compare(sums[i], s, e, mag);
          }
        }
        // C = (A B) scaled, A m x k, B k x n: plain, by 1 - t^2, by C's old entries.
        for (int mode = 0; mode < 3; ++mode) {
          const Scale scale = mode == 0 ? Scale::None : mode == 1 ? Scale::TanhDerivative : Scale::ByC;
          const int lda = k + 2, ldb = n + 1, ldc = n + 3, ldt = n + 5;
          auto a = random(static_cast<std::size_t>(m) * lda), b = random(static_cast<std::size_t>(k) * ldb);
          auto t = random(static_cast<std::size_t>(m) * ldt), c0 = random(static_cast<std::size_t>(m) * ldc);
          auto c = c0;
          gemm512_nn(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, scale, t.data(), ldt);
          for (int i = 0; i < m; ++i) {
            for (int j = 0; j < n; ++j) {
              double s = 0;
              long double e = 0, mag = 0;
              for (int q = 0; q < k; ++q) {
                const double x = a[i * lda + q], y = b[q * ldb + j];
                s = std::fma(x, y, s), e += static_cast<long double>(x) * y, mag += std::fabs(static_cast<long double>(x) * y);
              }
              long double factor = 1;
              if (scale == Scale::TanhDerivative) {
                const double tv = t[i * ldt + j];
                s = std::fma(-tv, tv, 1.0) * s, factor = 1 - static_cast<long double>(tv) * tv;
              } else if (scale == Scale::ByC) {
                s = s * c0[i * ldc + j], factor = c0[i * ldc + j];
              }
              compare(c[i * ldc + j], s, e * factor, mag * std::fabs(factor));
            }
            if (c[i * ldc + n] != c0[i * ldc + n]) ++mismatches;
          }
        }
      }
  std::printf("{\"available\": true, \"checked\": %ld, \"mismatches\": %ld, \"worstRelative\": %.3e}\n", checked,
              mismatches, worst_rel);
  return 0;
}
