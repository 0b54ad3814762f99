#include "linalg/blas.hpp"

#include <algorithm>
#include <cmath>

#ifdef HESSBOUND_USE_BLAS
#include <cblas.h>

#include <mutex>
#include <string>
#else
#include <Eigen/Core>
#endif

// Eigen 3.4 has no WebAssembly SIMD path: with SIMD128 the products run on gemm_vec2.cpp instead
// (Eigen stays the scalar path of a build without -msimd128).
#if !defined(HESSBOUND_USE_BLAS) && defined(__wasm_simd128__)
#define HESSBOUND_VEC2_BLAS 1
#include <vector>

#include "linalg/gemm_vec2.hpp"
#endif

namespace hessbound {

#ifdef HESSBOUND_USE_BLAS

void gemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a, int lda,
          const double* b, int ldb, double beta, double* c, int ldc) {
  if (m == 0 || n == 0) return;
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
              alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemv(bool trans, int m, int n, double alpha, const double* a, int lda, const double* x, double beta, double* y) {
  if (m == 0 || n == 0) {
    // Nothing to multiply: y = beta * y, like BLAS.
    const int len = trans ? n : m;
    for (int i = 0; i < len; ++i) y[i] = beta == 0 ? 0.0 : beta * y[i];
    return;
  }
  cblas_dgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, m, n, alpha, a, lda, x, 1, beta, y, 1);
}

void syrk_upper_at_a(int n, int k, double alpha, const double* a, int lda, double beta, double* c, int ldc) {
  if (n == 0) return;
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n, k, alpha, a, lda, beta, c, ldc);
}

void axpy(int n, double alpha, const double* x, double* y) { cblas_daxpy(n, alpha, x, 1, y, 1); }
const char* linalg_backend() { return "openblas"; }

// Declared weak so that the addon still links against a CBLAS that is not OpenBLAS.
extern "C" int openblas_get_num_threads(void) __attribute__((weak));
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" char* openblas_get_corename(void) __attribute__((weak));

const char* blas_kernels() {
  if (!openblas_get_corename) return "unknown";
  const char* name = openblas_get_corename();
  return name ? name : "unknown";
}

bool blas_runs_avx512() {
  // OpenBLAS 0.3.21's names for its AVX-512 kernel sets (others, e.g. Haswell or Zen: AVX2 at most).
  static const bool yes = [] {
    const std::string name = blas_kernels();
    return name == "SkylakeX" || name == "Cooperlake" || name == "SapphireRapids";
  }();
  return yes;
}

namespace {
std::mutex serial_mutex;  // guards the two below and every change of OpenBLAS's thread count
int serial_depth = 0;     // live BlasSerialScope objects
int serial_saved = 1;     // OpenBLAS's thread count before the first of them
}  // namespace

int blas_threads() {
  if (!openblas_get_num_threads) return 0;
  std::lock_guard<std::mutex> lock(serial_mutex);
  return std::max(1, serial_depth > 0 ? serial_saved : openblas_get_num_threads());
}

// Lowering the count only sets OpenBLAS's blas_cpu_number (this build has NO_AFFINITY, so no
// thread is pinned), and restoring it never asks for more threads than OpenBLAS started with. A
// threaded call already running elsewhere keeps the thread count it started with.
BlasSerialScope::BlasSerialScope() {
  if (!openblas_get_num_threads || !openblas_set_num_threads) return;
  std::lock_guard<std::mutex> lock(serial_mutex);
  if (serial_depth++ == 0) {
    serial_saved = std::max(1, openblas_get_num_threads());
    if (serial_saved != 1) openblas_set_num_threads(1);
  }
}

BlasSerialScope::~BlasSerialScope() {
  if (!openblas_get_num_threads || !openblas_set_num_threads) return;
  std::lock_guard<std::mutex> lock(serial_mutex);
  if (--serial_depth == 0 && serial_saved != 1) openblas_set_num_threads(serial_saved);
}

// Reductions on one thread: OpenBLAS splits long ddot/dnrm2 over its threads, and the partial
// sums then depend on the thread count (training's line searches compare such sums).
double dot(int n, const double* x, const double* y) {
  BlasSerialScope serial;
  return cblas_ddot(n, x, 1, y, 1);
}
double norm2(int n, const double* x) {
  BlasSerialScope serial;
  return cblas_dnrm2(n, x, 1);
}

#else

namespace {
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
using MutMap = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;
}  // namespace

void gemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a, int lda,
          const double* b, int ldb, double beta, double* c, int ldc) {
#ifdef HESSBOUND_VEC2_BLAS
  return gemm_vec2(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
  if (m == 0 || n == 0) return;
  MutMap C(c, m, n, Eigen::OuterStride<>(ldc));
  if (beta == 0) C.setZero();
  else if (beta != 1) C *= beta;
  if (k == 0) return;
  const ConstMap A(a, trans_a ? k : m, trans_a ? m : k, Eigen::OuterStride<>(lda));
  const ConstMap B(b, trans_b ? n : k, trans_b ? k : n, Eigen::OuterStride<>(ldb));
  if (!trans_a && !trans_b) C.noalias() += alpha * A * B;
  else if (trans_a && !trans_b) C.noalias() += alpha * A.transpose() * B;
  else if (!trans_a && trans_b) C.noalias() += alpha * A * B.transpose();
  else C.noalias() += alpha * A.transpose() * B.transpose();
}

void gemv(bool trans, int m, int n, double alpha, const double* a, int lda, const double* x, double beta, double* y) {
#ifdef HESSBOUND_VEC2_BLAS
  return gemv_vec2(trans, m, n, alpha, a, lda, x, beta, y);
#endif
  const int len = trans ? n : m;
  Eigen::Map<Eigen::VectorXd> Y(y, len);
  if (beta == 0) Y.setZero();
  else if (beta != 1) Y *= beta;
  if (m == 0 || n == 0) return;
  const ConstMap A(a, m, n, Eigen::OuterStride<>(lda));
  if (trans) Y.noalias() += alpha * (A.transpose() * Eigen::Map<const Eigen::VectorXd>(x, m));
  else Y.noalias() += alpha * (A * Eigen::Map<const Eigen::VectorXd>(x, n));
}

void syrk_upper_at_a(int n, int k, double alpha, const double* a, int lda, double beta, double* c, int ldc) {
  if (n == 0) return;
#ifdef HESSBOUND_VEC2_BLAS
  // Blocks of rows of the upper triangle: the diagonal block through a scratch square (its lower
  // part must stay untouched), the rest of the block row straight into C.
  constexpr int kRows = 128;
  for (int i = 0; i < n; ++i) {
    double* row = c + static_cast<long>(i) * ldc;
    if (beta == 0) std::fill(row + i, row + n, 0.0);
    else if (beta != 1)
      for (int j = i; j < n; ++j) row[j] *= beta;
  }
  if (k == 0) return;
  std::vector<double> diag;
  for (int i0 = 0; i0 < n; i0 += kRows) {
    const int nb = std::min(kRows, n - i0);
    diag.assign(static_cast<std::size_t>(nb) * nb, 0.0);
    gemm_vec2(true, false, nb, nb, k, alpha, a + i0, lda, a + i0, lda, 0.0, diag.data(), nb);
    for (int i = 0; i < nb; ++i)
      for (int j = i; j < nb; ++j) c[static_cast<long>(i0 + i) * ldc + i0 + j] += diag[static_cast<std::size_t>(i) * nb + j];
    if (i0 + nb < n)
      gemm_vec2(true, false, nb, n - i0 - nb, k, alpha, a + i0, lda, a + i0 + nb, lda, 1.0,
                c + static_cast<long>(i0) * ldc + i0 + nb, ldc);
  }
  return;
#endif
  MutMap C(c, n, n, Eigen::OuterStride<>(ldc));
  if (beta == 0) C.triangularView<Eigen::Upper>().setZero();
  else if (beta != 1) C.triangularView<Eigen::Upper>() *= beta;
  if (k == 0) return;
  const ConstMap A(a, k, n, Eigen::OuterStride<>(lda));
  C.selfadjointView<Eigen::Upper>().rankUpdate(A.transpose(), alpha);
}

double dot(int n, const double* x, const double* y) {
#ifdef HESSBOUND_VEC2_BLAS
  return dot_vec2(n, x, y);
#endif
  double s = 0;
  for (int i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}
void axpy(int n, double alpha, const double* x, double* y) {
  for (int i = 0; i < n; ++i) y[i] += alpha * x[i];
}
double norm2(int n, const double* x) {
  // Scaled to avoid overflow, like BLAS dnrm2.
  double scale = 0, ssq = 1;
  for (int i = 0; i < n; ++i) {
    if (x[i] == 0) continue;
    const double v = std::fabs(x[i]);
    if (scale < v) {
      ssq = 1 + ssq * (scale / v) * (scale / v);
      scale = v;
    } else {
      ssq += (v / scale) * (v / scale);
    }
  }
  return scale * std::sqrt(ssq);
}
const char* linalg_backend() { return "eigen"; }
const char* blas_kernels() { return "eigen"; }
bool blas_runs_avx512() { return false; }
int blas_threads() { return 1; }
BlasSerialScope::BlasSerialScope() {}
BlasSerialScope::~BlasSerialScope() {}

#endif

void mirror_upper(int n, double* c, int ldc) {
  for (int i = 1; i < n; ++i)
    for (int j = 0; j < i; ++j) c[static_cast<long>(i) * ldc + j] = c[static_cast<long>(j) * ldc + i];
}

}  // namespace hessbound
