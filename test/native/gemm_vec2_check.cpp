// Checks native/kernel/gemm_vec2.cpp (the WebAssembly build's SIMD128 products, compiled here for
// the host with the same vector types) against plain loops and Eigen's eigensolver. Prints the
// largest relative error of each routine as JSON; test/gemm-vec2.test.ts compiles and runs it.
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "gemm_vec2.hpp"

using namespace hessbound;

int main() {
  std::mt19937 g(1);
  std::uniform_real_distribution<double> U(-1, 1);
  double gemm_err = 0, gemv_err = 0, dot_err = 0, eig_err = 0;
  bool padding_kept = true;
  // Shapes around the 4 x 4 tile and the KC/MC blocking, and the HVP's thin ones.
  const int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {4, 4, 4}, {33, 65, 257}, {130, 9, 300}, {5, 2100, 3}, {129, 131, 513}, {32, 1024, 64}, {1024, 64, 32}};
  for (const auto& s : shapes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        const int m = s[0], n = s[1], k = s[2], lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
        std::vector<double> A((ta ? k : m) * lda), B((tb ? n : k) * ldb), C(m * ldc);
        for (auto& x : A) x = U(g);
        for (auto& x : B) x = U(g);
        for (auto& x : C) x = U(g);
        const std::vector<double> C0 = C;
        gemm_vec2(ta, tb, m, n, k, 0.7, A.data(), lda, B.data(), ldb, -0.3, C.data(), ldc);
        for (int i = 0; i < m; ++i) {
          for (int j = 0; j < n; ++j) {
            double t = 0;
            for (int p = 0; p < k; ++p) t += (ta ? A[p * lda + i] : A[i * lda + p]) * (tb ? B[j * ldb + p] : B[p * ldb + j]);
            const double r = -0.3 * C0[i * ldc + j] + 0.7 * t;
            gemm_err = std::max(gemm_err, std::fabs(r - C[i * ldc + j]) / (1 + std::fabs(r)));
          }
          for (int j = n; j < ldc; ++j) padding_kept = padding_kept && C[i * ldc + j] == C0[i * ldc + j];
        }
      }
  for (int tr = 0; tr < 2; ++tr)
    for (int m : {1, 5, 9, 130})
      for (int n : {1, 3, 8, 77}) {
        const int lda = n + 1;
        std::vector<double> A(m * lda), x(tr ? m : n), y(tr ? n : m);
        for (auto& v : A) v = U(g);
        for (auto& v : x) v = U(g);
        for (auto& v : y) v = U(g);
        const std::vector<double> y0 = y;
        gemv_vec2(tr, m, n, 1.3, A.data(), lda, x.data(), 0.5, y.data());
        for (std::size_t i = 0; i < y.size(); ++i) {
          double t = 0;
          if (!tr)
            for (int j = 0; j < n; ++j) t += A[i * lda + j] * x[j];
          else
            for (int j = 0; j < m; ++j) t += A[j * lda + i] * x[j];
          const double r = 0.5 * y0[i] + 1.3 * t;
          gemv_err = std::max(gemv_err, std::fabs(r - y[i]) / (1 + std::fabs(r)));
        }
      }
  for (int n : {0, 1, 2, 7, 8, 9, 100}) {
    std::vector<double> x(n), y(n);
    for (auto& v : x) v = U(g);
    for (auto& v : y) v = U(g);
    double t = 0;
    for (int i = 0; i < n; ++i) t += x[i] * y[i];
    dot_err = std::max(dot_err, std::fabs(t - dot_vec2(n, x.data(), y.data())));
  }
  // Random, zero, identity, and a matrix whose first column is zero below the diagonal.
  for (int n : {1, 2, 3, 4, 5, 8, 17, 64, 301}) {
    Eigen::MatrixXd M(n, n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j <= i; ++j) M(i, j) = M(j, i) = (j == 0 && i > 0 && n > 10) ? 0.0 : U(g);
    if (n == 64) M.setZero();
    if (n == 17) M = Eigen::MatrixXd::Identity(n, n);
    std::vector<double> a(n * n), d(n), e(std::max(1, n - 1));
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) a[i * n + j] = M(i, j);
    tridiagonalize_lower_vec2(n, a.data(), d.data(), e.data());
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> ref(M, Eigen::EigenvaluesOnly), tri;
    Eigen::VectorXd D = Eigen::Map<Eigen::VectorXd>(d.data(), n), E(std::max(0, n - 1));
    for (int i = 0; i + 1 < n; ++i) E[i] = e[i];
    tri.computeFromTridiagonal(D, E, Eigen::EigenvaluesOnly);
    const double scale = 1 + ref.eigenvalues().cwiseAbs().maxCoeff();
    eig_err = std::max(eig_err, (tri.eigenvalues() - ref.eigenvalues()).cwiseAbs().maxCoeff() / scale);
  }
  std::printf("{\"gemm\":%.3e,\"gemv\":%.3e,\"dot\":%.3e,\"eigenvalues\":%.3e,\"paddingKept\":%s}\n", gemm_err, gemv_err,
              dot_err, eig_err, padding_kept ? "true" : "false");
  return 0;
}
