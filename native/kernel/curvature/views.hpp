// Kernel commands behind the spectrum views (issue 12): stochastic Lanczos quadrature, layer-wise
// Hessian blocks, top eigenvectors, and lambda_max tracked along training.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "commands.hpp"
#include "model/network.hpp"
#include "support/progress.hpp"

namespace hessbound {

// "slq": options probes (default 10), steps (default 90), seed (default 0). For each Rademacher
// probe, `steps` Lanczos steps with full reorthogonalization; the Gauss quadrature of the
// probe is the eigen-decomposition of the tridiagonal T (nodes = Ritz values, weights = squared
// first components of T's eigenvectors). JSON columns: nodes, weights, counts (per probe), ...
std::string slq_command(const Problem& problem, const CommandOptions& options, const Progress& progress);

// "blocks": the diagonal Hessian block of every layer (its W and b together). Options method
// (0 auto, 1 dense, 2 lanczos), maxDenseBytes, tolerance, maxIterations, seed.
std::string blocks_command(const Problem& problem, const CommandOptions& options, const Progress& progress);

// "eigenvectors": the k largest eigenpairs (descending) with their vectors. Options method
// (0 dense, 1 lanczos), k, tolerance, maxIterations, seed, maxDenseBytes.
std::string eigenvectors_command(const Problem& problem, const CommandOptions& options, const Progress& progress);

// lambda_max (Lanczos warm-started from the previous top vector) and the WS bound every `every`
// training steps; fed by TrainOptions::observer.
struct TrackOptions {
  int every = 0;                 // 0: off
  double tolerance = 1e-10;      // Lanczos relative residual
  int max_iterations = 300;
  std::uint64_t seed = 0;
  bool parameters = false;       // also record the parameters of every tracked point
  std::uint64_t max_dense_bytes = 1ull << 30;  // traces of deeper nets: dense up to this, else Hutch++
};

// Reads track, trackTolerance, trackMaxIterations, trackSeed, trackParameters, maxDenseBytes.
TrackOptions track_options(const CommandOptions& options);

class SharpnessTracker {
 public:
  SharpnessTracker(const Problem& problem, const TrackOptions& options);
  bool enabled() const { return options_.every > 0; }
  // Called after every training step (step 0 = the start point).
  void observe(int step, const std::vector<double>& params, double loss, double grad_norm);
  // Records the last observed point if it was not a multiple of `every`.
  void finish();
  // The train JSON object with ,"track":{...} added before its closing brace.
  std::string append_to(const std::string& train_json) const;

 private:
  void measure(int step, const std::vector<double>& params, double loss, double grad_norm);

  const Problem& problem_;
  TrackOptions options_;
  std::vector<double> top_;  // previous top Ritz vector (warm start)
  int last_step_ = -1, last_recorded_ = -1;
  std::vector<double> last_params_;
  double last_loss_ = 0, last_grad_norm_ = 0;
  // Columns of the record.
  std::vector<double> step_, loss_, grad_norm_, lambda_max_, residual_, iterations_, products_, converged_;
  std::vector<double> upper_, lower_of_max_, trace_, trace_of_square_, params_;
  std::string bound_method_;
  bool bound_estimated_ = false;
  double seconds_ = 0;
};

}  // namespace hessbound
