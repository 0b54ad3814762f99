// Checks native/kernel/linalg/gemm_vec2.cpp (the WebAssembly build's SIMD128 products, compiled here for
// the host with the same vector types) against plain loops, Eigen's eigensolver and LAPACK's
// dsyevd. Prints the largest relative error of each routine as JSON; test/gemm-vec2.test.ts
// compiles and runs it.
#include <lapacke.h>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "linalg/gemm_vec2.hpp"
#include "spectrum/tridiagonal_eigenvalues.hpp"

using namespace hessbound;

namespace {

// Largest eigenvalue error of the tridiagonalization (panel nb, crossover nx) followed by
// tridiagonal_eigenvalues, against LAPACK's dsyevd on the same matrix, relative to the spectral norm.
double tridiagonal_error(const Eigen::MatrixXd& M, int nb, int nx) {
  const int n = static_cast<int>(M.rows());
  std::vector<double> a(static_cast<std::size_t>(n) * n), d(n), e(std::max(1, n - 1)), ref(n);
  // Only the lower triangle is the input: the upper one holds a marker that must stay untouched.
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) a[i * n + j] = j <= i ? M(i, j) : 12345.0;
  Eigen::MatrixXd col = M;  // column-major copy for LAPACK
  if (LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'L', n, col.data(), n, ref.data()) != 0) return 1e300;
  tridiagonalize_lower_blocked_vec2(n, a.data(), d.data(), e.data(), nb, nx);
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j)
      if (a[i * n + j] != 12345.0) return 1e300;
  // The WebAssembly build's path: then the root-free QL/QR of tridiagonal_eigenvalues.cpp.
  if (!tridiagonal_eigenvalues(n, d.data(), e.data())) return 1e300;
  double norm = 0, err = 0;
  for (int i = 0; i < n; ++i) norm = std::max(norm, std::fabs(ref[i]));
  for (int i = 0; i < n; ++i) err = std::max(err, std::fabs(d[i] - ref[i]));
  return norm > 0 ? err / norm : err;
}

// Largest eigenvalue error of tridiagonal_eigenvalues against LAPACK's dsterf on the same
// tridiagonal matrix, relative to its largest eigenvalue (absolute when that is 0).
double sterf_error(std::vector<double> d, std::vector<double> e) {
  const int n = static_cast<int>(d.size());
  e.resize(std::max(1, n - 1));
  std::vector<double> rd = d, re = e;
  if (LAPACKE_dsterf(n, rd.data(), re.data()) != 0) return 1e300;
  if (!tridiagonal_eigenvalues(n, d.data(), e.data())) return 1e300;
  double norm = 0, err = 0;
  for (int i = 0; i < n; ++i) norm = std::max(norm, std::fabs(rd[i]));
  for (int i = 0; i < n; ++i) err = std::max(err, std::fabs(d[i] - rd[i]));
  return norm > 0 ? err / norm : err;
}

// Q diag(lambda) Q^T with a random orthogonal Q.
Eigen::MatrixXd with_spectrum(const Eigen::VectorXd& lambda, std::mt19937& g) {
  std::normal_distribution<double> N(0, 1);
  const int n = static_cast<int>(lambda.size());
  Eigen::MatrixXd G(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) G(i, j) = N(g);
  const Eigen::MatrixXd Q = Eigen::HouseholderQR<Eigen::MatrixXd>(G).householderQ();
  Eigen::MatrixXd M = Q * lambda.asDiagonal() * Q.transpose();
  return (M + M.transpose()) / 2;
}

}  // namespace

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
  // The blocked tridiagonalization against LAPACK: sizes around the panel width nb (1, 2, 3, nb - 1,
  // nb, nb + 1, 2 nb + 3, a few hundred) with panels down to the last block (nx = 0), with the
  // defaults, and unblocked (nb = 0); random, graded, nearly degenerate, zero and diagonal matrices,
  // and one with zero columns inside the panels.
  double lapack_err = 0;
  int lapack_cases = 0;
  auto check = [&](const Eigen::MatrixXd& M) {
    const int n = static_cast<int>(M.rows());
    for (int nb : {0, 8, TRIDIAGONAL_PANEL}) {
      lapack_err = std::max(lapack_err, tridiagonal_error(M, nb, 0));
      ++lapack_cases;
    }
    if (n > TRIDIAGONAL_UNBLOCKED_BELOW) {
      lapack_err = std::max(lapack_err, tridiagonal_error(M, TRIDIAGONAL_PANEL, TRIDIAGONAL_UNBLOCKED_BELOW));
      ++lapack_cases;
    }
  };
  const int P = TRIDIAGONAL_PANEL;
  for (int n : {1, 2, 3, 7, 8, 9, 19, P - 1, P, P + 1, 2 * P + 3, 129, 300, 517, 800}) {
    Eigen::MatrixXd M(n, n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j <= i; ++j) M(i, j) = M(j, i) = U(g);
    check(M);
    if (n == 2 * P + 3 || n == 300) {
      Eigen::VectorXd graded(n), cluster(n);
      for (int i = 0; i < n; ++i) {
        graded[i] = (i % 2 ? -1.0 : 1.0) * std::pow(10.0, -12.0 * i / (n - 1));
        cluster[i] = i < 3 ? -2.0 + i : 1 + 1e-11 * U(g);
      }
      check(with_spectrum(graded, g));
      check(with_spectrum(cluster, g));
      // Graded entries: D M D with D from 1 down to 1e-6.
      Eigen::VectorXd s(n);
      for (int i = 0; i < n; ++i) s[i] = std::pow(10.0, -6.0 * i / (n - 1));
      check(s.asDiagonal() * M * s.asDiagonal());
      check(Eigen::MatrixXd::Zero(n, n));
      Eigen::MatrixXd D = Eigen::MatrixXd::Zero(n, n);
      for (int i = 0; i < n; ++i) D(i, i) = U(g);
      check(D);
      // Columns 3, nb + 5 and the middle zero off the diagonal (no reflection in a panel).
      Eigen::MatrixXd Z = M;
      for (int c : {3, 8 + 5, P + 5, n / 2})
        for (int i = 0; i < n; ++i)
          if (i != c) Z(i, c) = Z(c, i) = 0;
      check(Z);
    }
  }
  // The tridiagonal eigenvalues alone against dsterf: random, Wilkinson's W+ (close pairs), graded,
  // split (zero off-diagonals), tiny and huge scales, a constant diagonal, sizes 1 to 1000.
  double sterf_err = 0;
  int sterf_cases = 0;
  auto sterf = [&](const std::vector<double>& d, const std::vector<double>& e) {
    sterf_err = std::max(sterf_err, sterf_error(d, e));
    ++sterf_cases;
  };
  for (int n : {1, 2, 3, 4, 21, 100, 1000}) {
    std::vector<double> d(n), e(std::max(0, n - 1));
    for (auto& x : d) x = U(g);
    for (auto& x : e) x = U(g);
    sterf(d, e);
    for (double f : {1e-300, 1e-160, 1e150, 1e300}) {
      std::vector<double> ds = d, es = e;
      for (auto& x : ds) x *= f;
      for (auto& x : es) x *= f;
      sterf(ds, es);
    }
    std::vector<double> w(n), ones(std::max(0, n - 1), 1.0), graded(n), ge(std::max(0, n - 1)), split = e, flat(n, 2.0);
    for (int i = 0; i < n; ++i) w[i] = std::fabs(i - (n - 1) / 2.0);
    sterf(w, ones);
    for (int i = 0; i < n; ++i) graded[i] = std::pow(10.0, -20.0 * i / std::max(1, n - 1));
    for (int i = 0; i + 1 < n; ++i) ge[i] = 0.5 * std::sqrt(graded[i] * graded[i + 1]);
    sterf(graded, ge);
    std::reverse(graded.begin(), graded.end());
    std::reverse(ge.begin(), ge.end());
    sterf(graded, ge);
    for (int i = 0; i + 1 < n; i += 3) split[i] = 0;
    sterf(d, split);
    sterf(flat, e);
  }
  std::printf("{\"gemm\":%.3e,\"gemv\":%.3e,\"dot\":%.3e,\"eigenvalues\":%.3e,\"tridiagonalVsLapack\":%.3e,"
              "\"tridiagonalCases\":%d,\"sterfVsLapack\":%.3e,\"sterfCases\":%d,\"paddingKept\":%s}\n",
              gemm_err, gemv_err, dot_err, eig_err, lapack_err, lapack_cases, sterf_err, sterf_cases, padding_kept ? "true" : "false");
  return 0;
}
