#include "eigensolver.hpp"

#include <string>

#include "errors.hpp"

#ifdef HESSBOUND_USE_BLAS
#include <lapacke.h>
#else
#include <Eigen/Eigenvalues>
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
}

std::vector<double> symmetric_eigenvalues(int n, double* a) {
  check_range(n, 0, n - 1);
  Eigen::Map<RowMat> m(a, n, n);
  // Eigen reads the lower triangle; mirror the upper one so either storage works.
  m.triangularView<Eigen::StrictlyLower>() = m.transpose().triangularView<Eigen::StrictlyLower>();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(m, Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) fail("KERNEL", "Eigen's symmetric eigensolver did not converge");
  const Eigen::VectorXd& v = solver.eigenvalues();
  return std::vector<double>(v.data(), v.data() + n);
}

EigenPairs symmetric_eigen_range(int n, double* a, int first, int last, bool vectors) {
  check_range(n, first, last);
  Eigen::Map<RowMat> m(a, n, n);
  m.triangularView<Eigen::StrictlyLower>() = m.transpose().triangularView<Eigen::StrictlyLower>();
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
