#include "analysis/point_diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/activation.hpp"
#include "linalg/blas.hpp"
#include "support/errors.hpp"
#include "support/json_writer.hpp"
#include "train/train_eval.hpp"

namespace hessbound {

namespace {

// Rows per block of the forward pass: the block's widest pre-activation array within ~1 MB.
int block_rows(const NetSpec& net, int samples) {
  int widest = 1;
  for (int l = 1; l < net.layers(); ++l) widest = std::max(widest, net.sizes[l]);
  const int rows = static_cast<int>((1u << 20) / (sizeof(double) * widest));
  return std::max(1, std::min(samples, std::max(16, rows)));
}

// A sample's class: the first largest target (its label for one-hot targets; src/analysis/split.ts's classOf).
int class_of(const double* t, int c) {
  int best = 0;
  for (int k = 1; k < c; ++k)
    if (t[k] > t[best]) best = k;
  return best;
}

// A sample's input as bytes, with -0 read as +0 (the TypeScript reference compares printed numbers).
std::string input_key(const double* x, int d) {
  std::string key(static_cast<std::size_t>(d) * sizeof(double), '\0');
  for (int i = 0; i < d; ++i) {
    const double v = x[i] + 0.0;
    std::memcpy(&key[static_cast<std::size_t>(i) * sizeof(double)], &v, sizeof v);
  }
  return key;
}

struct Cell {
  std::set<int> labels;
  std::set<std::string> inputs;
  long long samples = 0;
};

}  // namespace

PointDiagnostics point_diagnostics(const Problem& p, const PointDiagnosticsOptions& options, const Progress& progress) {
  const NetSpec& net = p.net;
  const int L = net.layers(), N = p.samples, d = net.inputs(), c = net.classes();
  if (!(options.weight_decay >= 0) || !std::isfinite(options.weight_decay))
    fail("BAD_OPTION", "diagnose: weightDecay must be a finite number >= 0");
  if (!(options.slope_limit >= 0) || !std::isfinite(options.slope_limit))
    fail("BAD_OPTION", "diagnose: slopeLimit must be a finite number >= 0");
  PointDiagnostics r;
  const std::size_t P = net.parameter_count();

  // Loss and gradient by training's evaluation (threads over samples, bit-identical for any count).
  std::vector<double> grad(P);
  {
    TrainEvaluator evaluator(p);
    r.loss = evaluator.evaluate(p.params, grad.data());
  }
  report(progress, 0.3);
  // The minimised objective F = loss + wd/2 |theta|^2 and its gradient g + wd theta.
  double norm2 = 0, grad2 = 0, theta_grad = 0;
  for (std::size_t i = 0; i < P; ++i) {
    const double theta = p.params[i], g = grad[i] + options.weight_decay * theta;
    norm2 += theta * theta;
    grad2 += g * g;
    theta_grad += theta * g;
  }
  r.parameter_norm = std::sqrt(norm2);
  if (!std::isfinite(norm2)) {  // 1e300 weights: rescale so their norm stays finite (as diagnostics.ts)
    double largest = 0, s = 0;
    for (std::size_t i = 0; i < P; ++i) largest = std::max(largest, std::abs(p.params[i]));
    if (std::isfinite(largest) && largest > 0) {
      for (std::size_t i = 0; i < P; ++i) s += (p.params[i] / largest) * (p.params[i] / largest);
      r.parameter_norm = largest * std::sqrt(s);
    }
  }
  r.objective = r.loss + 0.5 * options.weight_decay * norm2;
  r.grad_norm = std::sqrt(grad2);
  r.theta_dot_grad = theta_grad;

  // Saturation and collapsed cells: a forward pass in blocks of rows (memory O(block x width)).
  if (net.activation == Activation::Identity) {
    report(progress, 1);
    return r;
  }
  const int rows = block_rows(net, N);
  std::vector<std::vector<double>> u(L - 1), a(L - 1), slope(L - 1);
  for (int l = 0; l < L - 1; ++l) {
    const std::size_t count = static_cast<std::size_t>(rows) * net.sizes[l + 1];
    u[l].resize(count), a[l].resize(count), slope[l].resize(count);
  }
  std::map<std::string, Cell> cells;
  for (int r0 = 0; r0 < N; r0 += rows) {
    check_cancelled();
    const int m = std::min(rows, N - r0);
    const double* x = p.x + static_cast<std::size_t>(r0) * d;
    for (int l = 0; l < L - 1; ++l) {
      const int in = net.sizes[l], width = net.sizes[l + 1];
      const double* input = l == 0 ? x : a[l - 1].data();
      gemm(false, true, m, width, in, 1.0, input, in, p.weight(l), in, 0.0, u[l].data(), width);
      if (const double* b = p.bias(l))
        for (int s = 0; s < m; ++s)
          for (int j = 0; j < width; ++j) u[l][static_cast<std::size_t>(s) * width + j] += b[j];
      activate(net.activation, u[l].data(), m * width, a[l].data(), slope[l].data(), nullptr);
    }
    for (int s = 0; s < m; ++s) {
      std::string code;
      for (int l = 0; l < L - 1; ++l) {
        const int width = net.sizes[l + 1];
        const double* g = slope[l].data() + static_cast<std::size_t>(s) * width;
        bool all = true;
        for (int j = 0; j < width; ++j) {
          // |sigma'|: GELU/SiLU's negative slopes are curvature, not flatness (as diagnostics.ts).
          if (std::abs(g[j]) < options.slope_limit) ++r.saturated_pairs;
          else all = false;
        }
        r.pairs += width;
        // A sample's code: the sign pattern of the first hidden layer at which all its units
        // saturate; distinct samples with the same code have the same output.
        if (all && code.empty()) {
          const double* us = u[l].data() + static_cast<std::size_t>(s) * width;
          code = std::to_string(l) + ":";
          for (int j = 0; j < width; ++j) code += us[j] > 0 ? '+' : '-';
        }
      }
      if (code.empty()) continue;
      const int n = r0 + s;
      Cell& cell = cells[code];
      cell.labels.insert(class_of(p.targets + static_cast<std::size_t>(n) * c, c));
      cell.inputs.insert(input_key(p.x + static_cast<std::size_t>(n) * d, d));
      ++cell.samples;
    }
    report(progress, 0.3 + 0.7 * (r0 + m) / N);
  }
  for (const auto& [code, cell] : cells)
    if (cell.labels.size() > 1 && cell.inputs.size() > 1) {
      ++r.collapsed_cells;
      r.collapsed_samples += cell.samples;
    }
  return r;
}

std::string diagnose_command(const Problem& p, const CommandOptions& o, const Progress& progress) {
  PointDiagnosticsOptions opt;
  opt.weight_decay = o.number("weightDecay", 0);
  opt.slope_limit = o.number("slopeLimit", 0);
  const PointDiagnostics r = point_diagnostics(p, opt, progress);
  JsonWriter w;
  w.begin();
  w.key("loss").number(r.loss);
  w.key("objective").number(r.objective);
  w.key("parameterNorm").number(r.parameter_norm);
  w.key("gradNorm").number(r.grad_norm);
  w.key("thetaDotGrad").number(r.theta_dot_grad);
  w.key("saturatedPairs").number(static_cast<double>(r.saturated_pairs));
  w.key("pairs").number(static_cast<double>(r.pairs));
  w.key("collapsedCells").number(static_cast<double>(r.collapsed_cells));
  w.key("collapsedSamples").number(static_cast<double>(r.collapsed_samples));
  w.end();
  return w.str();
}

}  // namespace hessbound
