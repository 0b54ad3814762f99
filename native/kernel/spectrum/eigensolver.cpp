#include "spectrum/eigensolver.hpp"

#include <string>

#include "support/errors.hpp"

#ifdef HESSBOUND_USE_BLAS
#include <lapacke.h>
#else
#include <Eigen/Eigenvalues>
#endif

#if !defined(HESSBOUND_USE_BLAS) && defined(__wasm_simd128__)
#include <algorithm>
#include <cmath>

#include "linalg/gemm_vec2.hpp"
#include "spectrum/tridiagonal_eigenvalues.hpp"
#define HESSBOUND_VEC2_TRIDIAGONAL 1
#endif

namespace hessbound {

namespace {
void check_range(int n, int first, int last) {
  if (n <= 0) fail("BAD_OPTION", "eigensolver: empty matrix");
  if (first < 0 || last >= n || first > last)
    fail("BAD_OPTION", "eigensolver: index range [" + std::to_string(first) + ", " + std::to_string(last) +
                           "] is outside 0.." + std::to_string(n - 1));
}
}  // namespace

#ifdef HESSBOUND_USE_BLAS

// The row-major upper triangle the callers fill is, byte for byte, the column-major lower triangle
// of the same (symmetric) matrix. Handing LAPACKE that column-major view skips the transposed copy
// it makes of a row-major matrix (n^2 doubles in and, for eigenvectors, out again: about 4% of a
// dense analysis at P = 2051).
std::vector<double> symmetric_eigenvalues(int n, double* a) {
  check_range(n, 0, n - 1);
  std::vector<double> w(n);
  const lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'L', n, a, n, w.data());
  if (info != 0) fail("KERNEL", "LAPACK dsyevd failed (info " + std::to_string(info) + ")");
  return w;
}

EigenPairs symmetric_eigen_range(int n, double* a, int first, int last, bool vectors) {
  check_range(n, first, last);
  const int count = last - first + 1;
  EigenPairs out;
  out.values.resize(n);
  if (vectors) out.vectors.resize(static_cast<std::size_t>(n) * count);
  std::vector<lapack_int> support(2 * static_cast<std::size_t>(count));
  lapack_int found = 0;
  double dummy = 0;
  // Column-major eigenvectors (column i, the vector of values[i], is contiguous), transposed below
  // into the row-major n x count layout of EigenPairs.
  std::vector<double> z(vectors ? static_cast<std::size_t>(n) * count : 0);
  const lapack_int info =
      LAPACKE_dsyevr(LAPACK_COL_MAJOR, vectors ? 'V' : 'N', 'I', 'L', n, a, n, 0.0, 0.0, first + 1, last + 1, 0.0,
                     &found, out.values.data(), vectors ? z.data() : &dummy, vectors ? n : 1, support.data());
  if (info != 0) fail("KERNEL", "LAPACK dsyevr failed (info " + std::to_string(info) + ")");
  out.values.resize(found);
  if (vectors)
    for (int i = 0; i < count; ++i)
      for (int r = 0; r < n; ++r) out.vectors[static_cast<std::size_t>(r) * count + i] = z[static_cast<std::size_t>(i) * n + r];
  return out;
}

#else

namespace {
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

#ifdef HESSBOUND_VEC2_TRIDIAGONAL
// All eigenvalues, ascending, of the symmetric matrix in the lower triangle of a (overwritten): the
// SIMD128 tridiagonalization of gemm_vec2.cpp (Eigen's runs scalar in WebAssembly), then the
// root-free QL/QR of tridiagonal_eigenvalues.cpp (Eigen's implicit QR should that not converge).
// Scaled by the largest entry first, as Eigen does. False
// (a left untouched) when an entry is not finite: the caller's Eigen path then fails as before.
bool eigenvalues_vec2(int n, double* a, Eigen::VectorXd& values) {
  double scale = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) {
      const double x = std::fabs(a[static_cast<std::size_t>(i) * n + j]);
      if (!std::isfinite(x)) return false;
      scale = std::max(scale, x);
    }
  if (scale == 0) {
    values = Eigen::VectorXd::Zero(n);
    return true;
  }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j <= i; ++j) a[static_cast<std::size_t>(i) * n + j] /= scale;
  Eigen::VectorXd d(n), e(std::max(0, n - 1));
  std::vector<double> sub(std::max(1, n - 1));
  tridiagonalize_lower_vec2(n, a, d.data(), sub.data());
  for (int i = 0; i + 1 < n; ++i) e[i] = sub[i];
  values = d;
  if (tridiagonal_eigenvalues(n, values.data(), sub.data())) {
    values *= scale;
    return true;
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver;
  solver.computeFromTridiagonal(d, e, Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) fail("KERNEL", "Eigen's tridiagonal eigensolver did not converge");
  values = solver.eigenvalues() * scale;
  return true;
}
#endif
}  // namespace

std::vector<double> symmetric_eigenvalues(int n, double* a) {
  check_range(n, 0, n - 1);
  Eigen::Map<RowMat> m(a, n, n);
  // Eigen reads the lower triangle; mirror the upper one so either storage works.
  m.triangularView<Eigen::StrictlyLower>() = m.transpose().triangularView<Eigen::StrictlyLower>();
#ifdef HESSBOUND_VEC2_TRIDIAGONAL
  Eigen::VectorXd values;
  if (eigenvalues_vec2(n, a, values)) return std::vector<double>(values.data(), values.data() + n);
#endif
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(m, Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) fail("KERNEL", "Eigen's symmetric eigensolver did not converge");
  const Eigen::VectorXd& v = solver.eigenvalues();
  return std::vector<double>(v.data(), v.data() + n);
}

EigenPairs symmetric_eigen_range(int n, double* a, int first, int last, bool vectors) {
  check_range(n, first, last);
  Eigen::Map<RowMat> m(a, n, n);
  m.triangularView<Eigen::StrictlyLower>() = m.transpose().triangularView<Eigen::StrictlyLower>();
#ifdef HESSBOUND_VEC2_TRIDIAGONAL
  Eigen::VectorXd values;
  if (!vectors && eigenvalues_vec2(n, a, values)) {
    EigenPairs out;
    out.values.assign(values.data() + first, values.data() + last + 1);
    return out;
  }
#endif
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(m, vectors ? Eigen::ComputeEigenvectors : Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) fail("KERNEL", "Eigen's symmetric eigensolver did not converge");
  const int count = last - first + 1;
  EigenPairs out;
  out.values.assign(solver.eigenvalues().data() + first, solver.eigenvalues().data() + last + 1);
  if (vectors) {
    out.vectors.resize(static_cast<std::size_t>(n) * count);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < count; ++j) out.vectors[static_cast<std::size_t>(i) * count + j] = solver.eigenvectors()(i, first + j);
  }
  return out;
}

#endif

}  // namespace hessbound
