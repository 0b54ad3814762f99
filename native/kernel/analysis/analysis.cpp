#include "analysis/analysis.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "linalg/blas.hpp"
#include "spectrum/eigensolver.hpp"
#include "support/errors.hpp"
#include "curvature/hvp.hpp"
#include "support/json_writer.hpp"

namespace hessbound {
namespace {

class Stopwatch {
 public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - start_).count();
    start_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

const char* assembly_name(HessianAssembly how) {
  switch (how) {
    case HessianAssembly::Kronecker: return "kronecker";
    case HessianAssembly::Hvp: return "hvp";
    default: return "auto";
  }
}

// Progress of a phase mapped into [from, to] of the whole call.
Progress sub_progress(const Progress& progress, double from, double to) {
  if (!progress) return {};
  return [progress, from, to](double f) { progress(from + (to - from) * f); };
}

void analyze_dense(const Problem& p, const ForwardCache& cache, const AnalyzeOptions& opt, AnalyzeResult& r,
                   const Progress& progress) {
  const std::size_t P = r.parameters;
  check_dense_fits(P, opt.max_dense_bytes);
  Stopwatch clock;
  LargeArray h(P * P);
  r.assembly = assembly_name(dense_hessian(p, cache, h.data(), opt.assembly, sub_progress(progress, 0.0, 0.4)));
  dense_traces(h.data(), P, r.trace, r.trace_of_square);
  r.has_traces = true;
  r.seconds_hessian = clock.lap();
  r.eigenvalues = symmetric_eigenvalues(static_cast<int>(P), h.data());
  r.seconds_eigen = clock.lap();
  const int k = std::min<int>(opt.k, static_cast<int>(P));
  for (int i = 0; i < k; ++i) r.top.push_back(r.eigenvalues[P - 1 - i]);
  for (int i = 0; i < k; ++i) r.bottom.push_back(r.eigenvalues[i]);
  r.lambda_max = r.eigenvalues.back();
  r.lambda_min = r.eigenvalues.front();
}

void analyze_lanczos(const Problem& p, const ForwardCache& cache, const AnalyzeOptions& opt, AnalyzeResult& r,
                     const Progress& progress) {
  Stopwatch clock;
  LanczosOptions lo;
  lo.k = opt.k;
  lo.which = opt.which;
  lo.tolerance = opt.tolerance;
  lo.max_iterations = opt.max_iterations;
  lo.seed = opt.seed;
  HvpEngine engine(p, cache);
  const LinearOperator op = [&](const double* v, double* out) { engine.apply(v, out); };
  LanczosResult lr = lanczos(op, r.parameters, lo, sub_progress(progress, 0.0, 1.0));
  r.top = lr.largest;
  r.bottom = lr.smallest;
  r.top_residuals = lr.largest_residuals;
  r.bottom_residuals = lr.smallest_residuals;
  // An end that was not asked for is reported as NaN (null in JSON), never as a guess.
  r.lambda_max = lr.largest.empty() ? std::nan("") : lr.largest.front();
  r.lambda_min = lr.smallest.empty() ? std::nan("") : lr.smallest.front();
  r.iterations = lr.iterations;
  r.products = lr.products;
  r.sparse_inputs = engine.sparse_inputs();
  r.converged = lr.converged;
  r.top_converged = lr.largest_converged;
  r.bottom_converged = lr.smallest_converged;
  r.seconds_lanczos = clock.lap();
}

}  // namespace

void dense_traces(const double* h, std::size_t n, double& trace, double& trace_of_square) {
  trace = 0;
  for (std::size_t i = 0; i < n; ++i) trace += h[i * n + i];
  // ||H||_F^2 by blocks of rows, so the sum stays accurate for large P.
  trace_of_square = 0;
  for (std::size_t i = 0; i < n; ++i) trace_of_square += dot(static_cast<int>(n), h + i * n, h + i * n);
}

AnalyzeResult analyze(const Problem& p, const AnalyzeOptions& opt, const Progress& progress) {
  validate(p);
  std::unique_ptr<BlasSerialScope> serial;
  if (opt.deterministic) serial = std::make_unique<BlasSerialScope>();
  if (opt.k < 1) fail("BAD_OPTION", "k must be at least 1");
  AnalyzeResult r;
  r.deterministic = opt.deterministic;
  r.parameters = p.net.parameter_count();
  r.samples = p.samples;
  r.method = opt.method == SpectrumMethod::Dense ? "dense" : "lanczos";
  Stopwatch clock;
  const ForwardCache cache = forward_backward_checked(p);
  const std::vector<double> grad = gradient(p, cache);
  r.loss = cache.loss;
  r.grad_norm = norm2(static_cast<int>(grad.size()), grad.data());
  r.seconds_forward = clock.lap();
  if (opt.method == SpectrumMethod::Dense) analyze_dense(p, cache, opt, r, progress);
  else analyze_lanczos(p, cache, opt, r, progress);
  report(progress, 1.0);
  return r;
}

LossGradient loss_and_gradient(const Problem& p) {
  validate(p);
  const ForwardCache cache = forward_backward_checked(p);
  return {cache.loss, gradient(p, cache)};
}

std::vector<double> hessian_vector_products(const Problem& p, const double* directions, int k) {
  validate(p);
  if (k < 0) fail("BAD_OPTION", "number of directions must be non-negative");
  const std::size_t P = p.net.parameter_count();
  for (std::size_t i = 0; i < P * k; ++i)
    if (!std::isfinite(directions[i])) fail("NON_FINITE", "direction entry " + std::to_string(i) + " is not finite");
  const ForwardCache cache = forward_backward_checked(p);
  std::vector<double> out(P * k);
  HvpEngine engine(p, cache);
  for (int i = 0; i < k; ++i) engine.apply(directions + P * i, out.data() + P * i);
  return out;
}

std::vector<double> hessian_matrix(const Problem& p, HessianAssembly how, std::uint64_t max_dense_bytes,
                                   const Progress& progress) {
  validate(p);
  const std::size_t P = p.net.parameter_count();
  check_dense_fits(P, max_dense_bytes);
  const ForwardCache cache = forward_backward_checked(p);
  std::vector<double> h(P * P);
  dense_hessian(p, cache, h.data(), how, progress);
  return h;
}

std::string to_json(const AnalyzeResult& r) {
  JsonWriter w;
  w.begin();
  w.key("method").string(r.method);
  w.key("assembly").string(r.assembly.empty() ? "none" : r.assembly);
  w.key("deterministic").boolean(r.deterministic);
  w.key("parameters").number(static_cast<double>(r.parameters));
  w.key("samples").number(r.samples);
  w.key("loss").number(r.loss);
  w.key("gradNorm").number(r.grad_norm);
  if (r.has_traces) {
    w.key("trace").number(r.trace);
    w.key("traceOfSquare").number(r.trace_of_square);
  } else {
    w.key("trace").null();
    w.key("traceOfSquare").null();
  }
  w.key("lambdaMax").number(r.lambda_max);
  w.key("lambdaMin").number(r.lambda_min);
  w.key("topEigenvalues").array(r.top);
  w.key("bottomEigenvalues").array(r.bottom);
  if (!r.eigenvalues.empty()) w.key("eigenvalues").array(r.eigenvalues);
  if (r.method == "lanczos") {
    w.key("lanczos").begin();
    w.key("iterations").number(r.iterations);
    w.key("products").number(r.products);
    w.key("inputs").string(r.sparse_inputs ? "sparse" : "dense");
    w.key("converged").boolean(r.converged);
    w.key("topConverged").boolean(r.top_converged);
    w.key("bottomConverged").boolean(r.bottom_converged);
    w.key("topResiduals").array(r.top_residuals);
    w.key("bottomResiduals").array(r.bottom_residuals);
    w.end();
  }
  w.key("seconds").begin();
  w.key("forward").number(r.seconds_forward);
  if (r.method == "dense") {
    w.key("hessian").number(r.seconds_hessian);
    w.key("eigen").number(r.seconds_eigen);
  } else {
    w.key("lanczos").number(r.seconds_lanczos);
  }
  w.end();
  w.end();
  return w.str();
}

}  // namespace hessbound
