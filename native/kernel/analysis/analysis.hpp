// The high-level operations both bindings expose: one call per user-facing request.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "curvature/hessian.hpp"
#include "spectrum/lanczos.hpp"
#include "model/network.hpp"
#include "support/progress.hpp"

namespace hessbound {

enum class SpectrumMethod { Dense = 0, Lanczos = 1 };

struct AnalyzeOptions {
  SpectrumMethod method = SpectrumMethod::Dense;
  HessianAssembly assembly = HessianAssembly::Auto;
  int k = 1;                      // extreme eigenvalues at each end
  Extremes which = Extremes::Both;  // Lanczos: which ends to converge
  double tolerance = 1e-10;       // Lanczos relative residual
  int max_iterations = 300;       // Lanczos Krylov dimension cap
  std::uint64_t seed = 0;         // Lanczos start vector
  std::uint64_t max_dense_bytes = 8ull << 30;
  // Run every BLAS/LAPACK call on one thread: a multithreaded OpenBLAS changes the last bits of the
  // dense eigenvalues with its thread count (sweeps set this so a job key has one answer).
  bool deterministic = false;
};

struct AnalyzeResult {
  std::string method, assembly;
  // Echoes AnalyzeOptions::deterministic, so the caller can tell an addon that honours the option
  // from one built before it existed (which ignores unknown options).
  bool deterministic = false;
  std::size_t parameters = 0;
  int samples = 0;
  double loss = 0, grad_norm = 0;
  bool has_traces = false;
  double trace = 0, trace_of_square = 0;
  double lambda_max = 0, lambda_min = 0;
  std::vector<double> top, bottom;  // k largest (descending), k smallest (ascending)
  std::vector<double> eigenvalues;  // all, ascending (dense only)
  // Lanczos only
  int iterations = 0, products = 0;
  bool sparse_inputs = false;  // Lanczos: layer 0 of its products read X by its nonzeros
  bool converged = true;
  bool top_converged = true, bottom_converged = true;  // per Lanczos end (true for dense)
  std::vector<double> top_residuals, bottom_residuals;
  // wall seconds per phase
  double seconds_forward = 0, seconds_hessian = 0, seconds_eigen = 0, seconds_lanczos = 0;
};

AnalyzeResult analyze(const Problem& problem, const AnalyzeOptions& options, const Progress& progress = {});

struct LossGradient {
  double loss;
  std::vector<double> gradient;
};
LossGradient loss_and_gradient(const Problem& problem);

// H V for k directions stored as k rows of length P; returns k x P.
std::vector<double> hessian_vector_products(const Problem& problem, const double* directions, int k);

// The dense Hessian, P x P row-major.
std::vector<double> hessian_matrix(const Problem& problem, HessianAssembly how, std::uint64_t max_dense_bytes,
                                   const Progress& progress = {});

// tr(H) and ||H||_F^2 of a dense symmetric matrix.
void dense_traces(const double* h, std::size_t n, double& trace, double& trace_of_square);

// JSON text of a result (17 significant digits, non-finite numbers as null), shared by both bindings.
std::string to_json(const AnalyzeResult& result);

}  // namespace hessbound
