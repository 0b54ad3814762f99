// lambda_max and the Wolkowicz-Styan bound along training, and the top eigenvectors command.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "analysis/analysis.hpp"
#include "linalg/blas.hpp"
#include "spectrum/eigensolver.hpp"
#include "support/errors.hpp"
#include "curvature/hessian.hpp"
#include "curvature/hvp.hpp"
#include "support/json_writer.hpp"
#include "spectrum/lanczos.hpp"
#include "support/rng.hpp"
#include "closed_form/traces.hpp"
#include "curvature/views.hpp"

namespace hessbound {

// Weight of the random part mixed into a warm start: the previous top vector alone could be
// (nearly) orthogonal to the new top eigenvector after the spectrum reorders, and Lanczos would
// then converge to the old one; 1e-3 keeps every direction present at little cost in steps.
constexpr double kWarmStartNoise = 1e-3;

TrackOptions track_options(const CommandOptions& o) {
  TrackOptions t;
  t.every = o.integer("track", 0);
  if (t.every < 0) fail("BAD_OPTION", "track must be a non-negative number of steps");
  t.tolerance = o.number("trackTolerance", t.tolerance);
  if (!(t.tolerance > 0 && t.tolerance < 1)) fail("BAD_OPTION", "trackTolerance must be in (0, 1)");
  t.max_iterations = o.integer("trackMaxIterations", t.max_iterations);
  if (t.max_iterations < 2) fail("BAD_OPTION", "trackMaxIterations must be at least 2");
  t.seed = static_cast<std::uint64_t>(o.number("trackSeed", 0));
  const int params = o.integer("trackParameters", 0);
  if (params != 0 && params != 1) fail("BAD_OPTION", "trackParameters must be 0 or 1");
  t.parameters = params == 1;
  const double max_dense = o.number("maxDenseBytes", static_cast<double>(t.max_dense_bytes));
  t.max_dense_bytes = static_cast<std::uint64_t>(std::max(0.0, std::min(max_dense, static_cast<double>(1ull << 30))));
  return t;
}

SharpnessTracker::SharpnessTracker(const Problem& problem, const TrackOptions& options)
    : problem_(problem), options_(options) {}

void SharpnessTracker::observe(int step, const std::vector<double>& params, double loss, double grad_norm) {
  if (!enabled()) return;
  // Every multiple of `every` reached since the last measurement: with consecutive steps, exactly
  // the multiples; with mini-batch training, whose observed steps are the full-batch checks (every
  // epoch's worth of updates), the first check at or past each multiple.
  const bool crossed = last_recorded_ >= 0 && step / options_.every > last_recorded_ / options_.every;
  if (step % options_.every == 0 || crossed) {
    measure(step, params, loss, grad_norm);
  } else {
    last_params_ = params;  // kept for finish(): the end point is recorded whatever its step
    last_loss_ = loss;
    last_grad_norm_ = grad_norm;
  }
  last_step_ = step;
}

void SharpnessTracker::finish() {
  if (enabled() && last_step_ > last_recorded_) measure(last_step_, last_params_, last_loss_, last_grad_norm_);
}

void SharpnessTracker::measure(int step, const std::vector<double>& params, double loss, double grad_norm) {
  const auto started = std::chrono::steady_clock::now();
  Problem at = problem_;
  at.params = params.data();
  const std::size_t P = params.size();
  LanczosOptions lo;
  lo.k = 1;
  lo.which = Extremes::Largest;
  lo.tolerance = options_.tolerance;
  lo.max_iterations = options_.max_iterations;
  lo.seed = options_.seed + static_cast<std::uint64_t>(step);
  lo.vectors = true;
  std::vector<double> start;
  if (top_.size() == P) {
    SplitMix64 rng(options_.seed ^ (0x7ac4ull + static_cast<std::uint64_t>(step)));
    start = top_;
    const double norm = norm2(static_cast<int>(P), start.data());
    for (double& v : start) v /= norm;
    std::vector<double> noise(P);
    for (double& v : noise) v = rng.normal();
    const double nn = norm2(static_cast<int>(P), noise.data());
    axpy(static_cast<int>(P), kWarmStartNoise / nn, noise.data(), start.data());
    lo.start = start.data();
  }
  LanczosResult r;
  {
    const ForwardCache cache = forward_backward(at);
    HvpEngine engine(at, cache);
    const LinearOperator op = [&](const double* v, double* out) { engine.apply(v, out); };
    r = lanczos(op, P, lo);
  }
  top_ = r.largest_vectors;
  TracesOptions to;
  to.orthogonality = false;
  to.max_dense_bytes = options_.max_dense_bytes;
  const TracesResult tr = compute_traces(at, to);
  step_.push_back(step);
  loss_.push_back(loss);
  grad_norm_.push_back(grad_norm);
  lambda_max_.push_back(r.largest.front());
  residual_.push_back(r.largest_residuals.front());
  iterations_.push_back(r.iterations);
  products_.push_back(r.products);
  converged_.push_back(r.converged ? 1 : 0);
  upper_.push_back(tr.bound.upper);
  lower_of_max_.push_back(tr.bound.lower_of_max);
  trace_.push_back(tr.trace);
  trace_of_square_.push_back(tr.trace_of_square);
  bound_method_ = tr.method;
  bound_estimated_ = bound_estimated_ || tr.estimated;
  if (options_.parameters) params_.insert(params_.end(), params.begin(), params.end());
  last_recorded_ = step;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

std::string SharpnessTracker::append_to(const std::string& train_json) const {
  if (!enabled()) return train_json;
  JsonWriter w;
  w.begin();
  w.key("every").number(options_.every);
  w.key("step").array(step_);
  w.key("loss").array(loss_);
  w.key("gradNorm").array(grad_norm_);
  w.key("lambdaMax").array(lambda_max_);
  w.key("lambdaMaxResidual").array(residual_);
  w.key("lanczosIterations").array(iterations_);
  w.key("lanczosProducts").array(products_);
  w.key("lanczosConverged").array(converged_);
  w.key("bound").array(upper_);
  w.key("lowerOfMax").array(lower_of_max_);
  w.key("trace").array(trace_);
  w.key("traceOfSquare").array(trace_of_square_);
  w.key("boundMethod").string(bound_method_);
  w.key("boundEstimated").boolean(bound_estimated_);
  if (options_.parameters) w.key("parameters").array(params_);
  w.key("seconds").number(seconds_);
  w.end();
  const std::size_t close = train_json.rfind('}');
  return train_json.substr(0, close) + ",\"track\":" + w.str() + train_json.substr(close);
}

std::string eigenvectors_command(const Problem& p, const CommandOptions& o, const Progress& progress) {
  validate(p);
  const int method = o.integer("method", 0);
  const int k = o.integer("k", 1);
  const std::size_t P = p.net.parameter_count();
  if (method != 0 && method != 1) fail("BAD_OPTION", "eigenvectors: method must be 0 (dense) or 1 (lanczos)");
  if (k < 1 || static_cast<std::size_t>(k) > P)
    fail("BAD_OPTION", "eigenvectors: k must be from 1 to the parameter count " + std::to_string(P));
  const ForwardCache cache = forward_backward(p);
  std::vector<double> values, vectors, residuals;  // descending; vectors k x P row-major
  bool converged = true;
  int products = 0;
  if (method == 0) {
    const double max_dense = o.number("maxDenseBytes", 8.0 * (1ull << 30));
    check_dense_fits(P, static_cast<std::uint64_t>(std::max(0.0, max_dense)));
    std::vector<double> h(P * P);
    dense_hessian(p, cache, h.data(), HessianAssembly::Auto, progress);
    const int n = static_cast<int>(P);
    const EigenPairs pairs = symmetric_eigen_range(n, h.data(), n - k, n - 1, true);
    for (int i = k - 1; i >= 0; --i) {
      values.push_back(pairs.values[i]);
      for (std::size_t r = 0; r < P; ++r) vectors.push_back(pairs.vectors[r * k + i]);
      residuals.push_back(0);
    }
  } else {
    LanczosOptions lo;
    lo.k = k;
    lo.which = Extremes::Largest;
    lo.tolerance = o.number("tolerance", 1e-10);
    lo.max_iterations = o.integer("maxIterations", 300);
    lo.seed = static_cast<std::uint64_t>(o.number("seed", 0));
    lo.vectors = true;
    HvpEngine engine(p, cache);
    const LinearOperator op = [&](const double* v, double* out) { engine.apply(v, out); };
    const LanczosResult r = lanczos(op, P, lo, progress);
    values = r.largest;
    vectors = r.largest_vectors;
    residuals = r.largest_residuals;
    converged = r.converged;
    products = r.products;
    // Ritz vectors come as Q^T s: unit up to rounding; normalise exactly.
    for (std::size_t i = 0; i < values.size(); ++i) {
      double* v = vectors.data() + i * P;
      const double nv = norm2(static_cast<int>(P), v);
      for (std::size_t j = 0; j < P; ++j) v[j] /= nv;
    }
  }
  report(progress, 1.0);
  JsonWriter w;
  w.begin();
  w.key("method").string(method == 0 ? "dense" : "lanczos");
  w.key("parameters").number(static_cast<double>(P));
  w.key("values").array(values);
  w.key("residuals").array(residuals);
  w.key("converged").boolean(converged);
  w.key("products").number(products);
  w.key("loss").number(cache.loss);
  w.key("vectors").array(vectors);
  w.end();
  return w.str();
}

}  // namespace hessbound
