// Matrix-free Lanczos with full reorthogonalization for the extreme eigenvalues of a symmetric operator.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "support/progress.hpp"

namespace hessbound {

// y = A x for vectors of length n.
using LinearOperator = std::function<void(const double* x, double* y)>;

enum class Extremes { Largest = 0, Smallest = 1, Both = 2 };

struct LanczosOptions {
  int k = 1;                 // how many eigenvalues at each wanted end
  Extremes which = Extremes::Both;
  double tolerance = 1e-10;  // relative residual ||A y - theta y|| / |theta|
  int max_iterations = 300;  // Krylov dimension cap (memory: max_iterations x n doubles)
  std::uint64_t seed = 0;
  bool vectors = false;      // return Ritz vectors
  const double* start = nullptr;  // start vector of length n (warm start); null: random from seed
};

struct LanczosResult {
  std::vector<double> largest;    // descending
  std::vector<double> smallest;   // ascending
  std::vector<double> largest_residuals;   // true relative residuals, from one extra product each
  std::vector<double> smallest_residuals;
  std::vector<double> largest_vectors;     // k x n row-major, if asked
  std::vector<double> smallest_vectors;
  int iterations = 0;
  int products = 0;  // operator applications, including the residual checks
  bool converged = false;
  // Per end: whether every wanted Ritz value of that end met the tolerance (false for an end not
  // asked for). An unconverged largest Ritz value is still a lower bound on lambda_max (Cauchy
  // interlacing), an unconverged smallest one an upper bound on lambda_min.
  bool largest_converged = false;
  bool smallest_converged = false;
};

LanczosResult lanczos(const LinearOperator& op, std::size_t n, const LanczosOptions& options,
                      const Progress& progress = {});

// The rest of Lanczos step j once w = A q_j is computed (q_j is row j of the n-wide row-major
// `basis`, rows 0..j orthonormal): w -= alpha q_j + beta_prev q_{j-1}, then full reorthogonalization
// against rows 0..j. Returns alpha = q_j . A q_j and sets beta = ||w||. coeff holds j + 1 values.
// Shared by lanczos() and stochastic Lanczos quadrature (extra/slq.cpp).
double lanczos_orthogonalize(const double* basis, std::size_t n, int j, double beta_prev, double* w,
                             double* coeff, double& beta);

}  // namespace hessbound
