#include "spectrum/lanczos.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "linalg/blas.hpp"
#include "spectrum/eigensolver.hpp"
#include "support/errors.hpp"
#include "support/large_array.hpp"
#include "support/rng.hpp"

namespace hessbound {
namespace {

// Reorthogonalize again when a Gram-Schmidt pass leaves less than this fraction of the norm
// (1/sqrt(2), the classical DGKS choice; ARPACK uses 0.717).
constexpr double kDgks = 0.7071067811865476;

struct RitzCheck {
  std::vector<double> values;   // ascending, all m Ritz values
  std::vector<double> vectors;  // m x m row-major eigenvectors of T
};

RitzCheck ritz(const std::vector<double>& alpha, const std::vector<double>& beta, int m) {
  std::vector<double> t(static_cast<std::size_t>(m) * m, 0.0);
  for (int i = 0; i < m; ++i) {
    t[static_cast<std::size_t>(i) * m + i] = alpha[i];
    if (i + 1 < m) t[static_cast<std::size_t>(i) * m + i + 1] = t[static_cast<std::size_t>(i + 1) * m + i] = beta[i];
  }
  EigenPairs pairs = symmetric_eigen_range(m, t.data(), 0, m - 1, true);
  return {std::move(pairs.values), std::move(pairs.vectors)};
}

// How many Ritz values each end gets from m: never the same one twice, so with few iterations the
// "largest" list holds no value from the bottom of the spectrum (and vice versa).
void end_counts(int m, int k, Extremes which, int& top, int& bottom) {
  top = which == Extremes::Smallest ? 0 : std::min(k, which == Extremes::Both ? (m + 1) / 2 : m);
  bottom = which == Extremes::Largest ? 0 : std::min(k, which == Extremes::Both ? m / 2 : m);
}

}  // namespace

double lanczos_orthogonalize(const double* basis, std::size_t n, int j, double beta_prev, double* w,
                             double* coeff, double& beta) {
  const int nn = static_cast<int>(n);
  const double* q = basis + static_cast<std::size_t>(j) * n;
  const double a = dot(nn, q, w);
  axpy(nn, -a, q, w);
  if (j > 0) axpy(nn, -beta_prev, q - n, w);
  // Full reorthogonalization by classical Gram-Schmidt against the whole basis (two GEMVs), with
  // a second pass only when the first removed most of w (the DGKS criterion, as ARPACK does):
  // otherwise one pass already leaves w orthogonal to working precision. Each pass reads the
  // whole basis twice; always two passes, as GEMMs with n = 1 (OpenBLAS packs the basis first),
  // cost 5 ms per step over 60 steps for P = 76 810, a fifth of a Hessian-vector product there;
  // now about 1.5 ms.
  double before = norm2(nn, w), b = before;
  for (int pass = 0; pass < 2; ++pass) {
    gemv(false, j + 1, nn, 1.0, basis, nn, w, 0.0, coeff);
    gemv(true, j + 1, nn, -1.0, basis, nn, coeff, 1.0, w);
    b = norm2(nn, w);
    if (b > kDgks * before) break;
    before = b;
  }
  beta = b;
  return a;
}

LanczosResult lanczos(const LinearOperator& op, std::size_t n, const LanczosOptions& opt, const Progress& progress) {
  if (n == 0) fail("BAD_OPTION", "Lanczos: empty operator");
  if (opt.k < 1) fail("BAD_OPTION", "Lanczos: k must be at least 1");
  if (!(opt.tolerance > 0)) fail("BAD_OPTION", "Lanczos: tolerance must be positive");
  const int nn = static_cast<int>(n);
  const int cap = static_cast<int>(std::min<std::size_t>(n, static_cast<std::size_t>(std::max(opt.max_iterations, 2))));
  if (static_cast<std::size_t>(opt.k) * (opt.which == Extremes::Both ? 2 : 1) > n)
    fail("BAD_OPTION", "Lanczos: asked for more eigenvalues than the operator has (" + std::to_string(n) + ")");

  // The BLAS work here is reorthogonalization: matrix-vector products against the basis (up to
  // 300 x n), bound by memory bandwidth, which one core already saturates on the bench machine. A
  // multithreaded OpenBLAS adds nothing there, and when another process holds a core its threads
  // wait for each other at every call (60 steps on n = 76 810: 50-65 ms on one thread; 50-140 ms
  // on two with the other core busy). So BLAS runs on the calling thread for the whole solve; the
  // Hessian-vector products bring their own threads (hvp.cpp).
  BlasSerialScope serial;

  // Row j = q_j. Left uninitialized on purpose: a zero-filled cap x n block (184 MB for P = 76 810)
  // cost a memset and a page fault per page up front, although Lanczos usually stops after a few
  // dozen rows; untouched rows are never read. On huge pages where available (large_array.hpp).
  std::unique_ptr<double, void (*)(void*) noexcept> basis_storage(
      static_cast<double*>(large_allocate(static_cast<std::size_t>(cap) * n * sizeof(double))), large_free);
  double* const basis = basis_storage.get();
  std::vector<double> alpha, beta, w(n), coeff(cap);
  LanczosResult out;

  SplitMix64 rng(opt.seed ^ 0x5eed5eedull);
  double* q0 = basis;
  for (std::size_t i = 0; i < n; ++i) q0[i] = rng.normal();
  if (opt.start) std::copy(opt.start, opt.start + n, q0);
  const double q0norm = norm2(nn, q0);
  if (!(q0norm > 0) || !std::isfinite(q0norm)) fail("BAD_OPTION", "Lanczos: the start vector must be finite and non-zero");
  for (std::size_t i = 0; i < n; ++i) q0[i] /= q0norm;

  RitzCheck last;
  int m = 0;
  double scale = 0;  // running estimate of ||A|| for breakdown and near-zero eigenvalues
  for (int j = 0; j < cap; ++j) {
    const double* q = basis + static_cast<std::size_t>(j) * n;
    op(q, w.data());
    ++out.products;
    double b = 0;
    const double a = lanczos_orthogonalize(basis, n, j, j > 0 ? beta[j - 1] : 0.0, w.data(), coeff.data(), b);
    alpha.push_back(a);
    beta.push_back(b);
    m = j + 1;
    scale = std::max({scale, std::fabs(a) + b + (j > 0 ? beta[j - 1] : 0.0)});
    const bool invariant = b <= 1e-14 * scale || m == cap;
    // Eigen-solving T costs ~10 m^3 flops: check every step while that stays below this step's
    // reorthogonalization (~4 m n flops), so a large operator never runs a few products past
    // convergence waiting for the next check; beyond that, every few steps.
    const bool check = invariant || m >= 2 * opt.k || m == nn;
    const bool cheap = m < 40 || 10.0 * m * m <= 4.0 * static_cast<double>(n);
    if (check && (invariant || cheap || m % std::max(1, m / 10) == 0)) {
      last = ritz(alpha, beta, m);
      int top = 0, bottom = 0;
      end_counts(m, opt.k, opt.which, top, bottom);
      auto end_ok = [&](int count, bool upper) {
        if (count < std::min(opt.k, nn)) return false;
        for (int c = 0; c < count; ++c) {
          const int i = upper ? m - 1 - c : c;
          const double theta = last.values[i];
          const double est = b * std::fabs(last.vectors[static_cast<std::size_t>(m - 1) * m + i]);
          if (est > opt.tolerance * std::max(std::fabs(theta), 1e-8 * scale)) return false;
        }
        return true;
      };
      const bool exact = b <= 1e-14 * scale;  // an invariant subspace: its Ritz values are eigenvalues
      out.largest_converged = opt.which != Extremes::Smallest && (exact || end_ok(top, true));
      out.smallest_converged = opt.which != Extremes::Largest && (exact || end_ok(bottom, false));
      const bool done = (opt.which == Extremes::Smallest || out.largest_converged) &&
                        (opt.which == Extremes::Largest || out.smallest_converged);
      report(progress, std::min(0.99, static_cast<double>(m) / cap));
      if (done || invariant) {
        out.converged = done;
        break;
      }
    }
    double* next = basis + static_cast<std::size_t>(m) * n;
    for (std::size_t i = 0; i < n; ++i) next[i] = w[i] / b;
  }
  out.iterations = m;

  // Ritz vectors y = Q^T s and their true residuals, one extra product each.
  std::vector<double> y(n), ay(n), s(m);
  auto finish = [&](int i, std::vector<double>& values, std::vector<double>& residuals, std::vector<double>& vecs) {
    const double theta = last.values[i];
    for (int r = 0; r < m; ++r) s[r] = last.vectors[static_cast<std::size_t>(r) * m + i];
    gemv(true, m, nn, 1.0, basis, nn, s.data(), 0.0, y.data());
    op(y.data(), ay.data());
    ++out.products;
    axpy(nn, -theta, y.data(), ay.data());
    values.push_back(theta);
    residuals.push_back(norm2(nn, ay.data()) / std::max(std::fabs(theta), 1e-8 * scale) / norm2(nn, y.data()));
    if (opt.vectors) vecs.insert(vecs.end(), y.begin(), y.end());
  };
  int top = 0, bottom = 0;
  end_counts(m, opt.k, opt.which, top, bottom);
  for (int i = 0; i < top; ++i) finish(m - 1 - i, out.largest, out.largest_residuals, out.largest_vectors);
  for (int i = 0; i < bottom; ++i) finish(i, out.smallest, out.smallest_residuals, out.smallest_vectors);
  report(progress, 1.0);
  return out;
}

}  // namespace hessbound
