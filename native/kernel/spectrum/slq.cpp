// Stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017; Ghorbani, Krishnan & Xiao 2019) for the
// spectral density of the Hessian: the density of a random Rademacher probe z/|z| under H is
// approximated by the Gauss quadrature of the Lanczos tridiagonal T started at it.
//
// A separate Lanczos loop from lanczos.cpp's on purpose: SLQ runs a fixed number of steps from a
// given vector and needs T itself, not extreme eigenvalues to a tolerance.
#include <algorithm>
#include <cmath>
#include <memory>

#include "analysis/analysis.hpp"
#include "linalg/blas.hpp"
#include "spectrum/eigensolver.hpp"
#include "support/errors.hpp"
#include "curvature/hvp.hpp"
#include "support/json_writer.hpp"
#include "spectrum/lanczos.hpp"
#include "support/rng.hpp"
#include "curvature/views.hpp"

namespace hessbound {
namespace {


struct Quadrature {
  std::vector<double> nodes, weights;  // ascending nodes; weights sum to 1
  double top_residual = 0, bottom_residual = 0;  // |beta_m s_{m,i}|: Ritz residuals of the extreme nodes
  int steps = 0;
  bool invariant = false;  // T is exact: the Krylov space is invariant
};

// m Lanczos steps from the unit vector q0 (written into row 0 of basis, m x n scratch).
Quadrature lanczos_quadrature(HvpEngine& engine, std::size_t n, int m, double* basis) {
  std::vector<double> alpha, beta, w(n), coeff(m);
  double scale = 0;
  int steps = 0;
  bool invariant = false;
  double last_beta = 0;
  for (int j = 0; j < m; ++j) {
    const double* q = basis + static_cast<std::size_t>(j) * n;
    engine.apply(q, w.data());
    double b = 0;
    const double a = lanczos_orthogonalize(basis, n, j, j > 0 ? beta[j - 1] : 0.0, w.data(), coeff.data(), b);
    alpha.push_back(a);
    steps = j + 1;
    scale = std::max({scale, std::fabs(a) + b + (j > 0 ? beta[j - 1] : 0.0)});
    last_beta = b;
    if (b <= 1e-12 * scale) {
      invariant = true;
      break;
    }
    if (j + 1 == m) break;
    beta.push_back(b);
    double* next = basis + static_cast<std::size_t>(j + 1) * n;
    for (std::size_t i = 0; i < n; ++i) next[i] = w[i] / b;
  }
  std::vector<double> t(static_cast<std::size_t>(steps) * steps, 0.0);
  for (int i = 0; i < steps; ++i) {
    t[static_cast<std::size_t>(i) * steps + i] = alpha[i];
    if (i + 1 < steps) t[static_cast<std::size_t>(i) * steps + i + 1] = t[static_cast<std::size_t>(i + 1) * steps + i] = beta[i];
  }
  EigenPairs pairs = symmetric_eigen_range(steps, t.data(), 0, steps - 1, true);
  Quadrature out;
  out.steps = steps;
  out.invariant = invariant;
  out.nodes = pairs.values;
  out.weights.resize(steps);
  for (int i = 0; i < steps; ++i) {
    const double first = pairs.vectors[static_cast<std::size_t>(i)];  // row 0, column i
    out.weights[i] = first * first;
  }
  const double* last_row = pairs.vectors.data() + static_cast<std::size_t>(steps - 1) * steps;
  out.bottom_residual = invariant ? 0.0 : last_beta * std::fabs(last_row[0]);
  out.top_residual = invariant ? 0.0 : last_beta * std::fabs(last_row[steps - 1]);
  return out;
}

}  // namespace

std::string slq_command(const Problem& p, const CommandOptions& o, const Progress& progress) {
  validate(p);
  const int probes = o.integer("probes", 10);
  const int steps = o.integer("steps", 90);
  const auto seed = static_cast<std::uint64_t>(o.number("seed", 0));
  if (probes < 1) fail("BAD_OPTION", "slq: probes must be at least 1");
  if (steps < 1) fail("BAD_OPTION", "slq: steps must be at least 1");
  const std::size_t n = p.net.parameter_count();
  const int m = static_cast<int>(std::min<std::size_t>(n, static_cast<std::size_t>(steps)));
  const ForwardCache cache = forward_backward(p);
  HvpEngine engine(p, cache);
  BlasSerialScope serial;  // reorthogonalization is bandwidth-bound (see lanczos.cpp)
  std::unique_ptr<double[]> basis(new double[static_cast<std::size_t>(m) * n]);
  SplitMix64 rng(seed ^ 0x51c0ffee51c0ffeeull);
  std::vector<double> nodes, weights, counts, top_res, bottom_res, forms;
  int products = 0;
  const double inv_sqrt_n = 1.0 / std::sqrt(static_cast<double>(n));
  for (int k = 0; k < probes; ++k) {
    for (std::size_t i = 0; i < n; ++i) basis[i] = rng.rademacher() * inv_sqrt_n;
    const Quadrature q = lanczos_quadrature(engine, n, m, basis.get());
    products += q.steps;
    double form = 0;  // z^T H z / P = sum of weights x nodes (Gauss quadrature is exact for degree 1)
    for (int i = 0; i < q.steps; ++i) form += q.weights[i] * q.nodes[i];
    nodes.insert(nodes.end(), q.nodes.begin(), q.nodes.end());
    weights.insert(weights.end(), q.weights.begin(), q.weights.end());
    counts.push_back(q.steps);
    top_res.push_back(q.top_residual);
    bottom_res.push_back(q.bottom_residual);
    forms.push_back(form);
    report(progress, static_cast<double>(k + 1) / probes);
  }
  JsonWriter w;
  w.begin();
  w.key("parameters").number(static_cast<double>(n));
  w.key("probes").number(probes);
  w.key("steps").number(m);
  w.key("products").number(products);
  w.key("counts").array(counts);
  w.key("nodes").array(nodes);
  w.key("weights").array(weights);
  w.key("quadraticForms").array(forms);
  w.key("topResiduals").array(top_res);
  w.key("bottomResiduals").array(bottom_res);
  w.key("loss").number(cache.loss);
  w.end();
  return w.str();
}

}  // namespace hessbound
