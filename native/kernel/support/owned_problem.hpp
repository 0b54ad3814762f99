// A Problem together with the buffers it points to, so a binding can hand it to another thread.
#pragma once
#include <string>
#include <vector>

#include "support/errors.hpp"
#include "model/network.hpp"

namespace hessbound {

struct OwnedProblem {
  std::vector<double> params, x, targets;
  Problem problem;

  // Builds from raw views, checking every buffer length against the layer sizes.
  static OwnedProblem from_views(const int* sizes, int size_count, const unsigned char* has_bias, int bias_count,
                                 int activation, double leaky_slope, int reduction, const double* params, std::size_t params_len,
                                 const double* x, std::size_t x_len, const double* targets, std::size_t targets_len,
                                 int samples) {
    OwnedProblem o;
    NetSpec& net = o.problem.net;
    if (size_count < 3) fail("BAD_MODEL", "the network needs at least one hidden layer (two affine layers)");
    if (bias_count != size_count - 1) fail("BAD_MODEL", "bias flags: expected one per layer");
    for (int i = 0; i < size_count; ++i) {
      if (sizes[i] <= 0) fail("BAD_MODEL", "layer widths must be positive");
      net.sizes.push_back(sizes[i]);
    }
    for (int i = 0; i < bias_count; ++i) net.has_bias.push_back(has_bias[i] != 0);
    net.activation = activation_from_int(activation, leaky_slope);
    if (reduction != 0 && reduction != 1) fail("BAD_OPTION", "reduction must be 0 (mean) or 1 (sum)");
    o.problem.reduction = static_cast<Reduction>(reduction);
    if (samples <= 0) fail("BAD_DATA", "the data set is empty");
    const std::size_t P = net.parameter_count();
    if (params_len != P)
      fail("SHAPE_MISMATCH", "expected " + std::to_string(P) + " parameters, got " + std::to_string(params_len));
    if (x_len != static_cast<std::size_t>(samples) * net.inputs())
      fail("SHAPE_MISMATCH", "x must hold samples x inputs = " + std::to_string(samples) + " x " +
                                 std::to_string(net.inputs()) + " values, got " + std::to_string(x_len));
    if (targets_len != static_cast<std::size_t>(samples) * net.classes())
      fail("SHAPE_MISMATCH", "targets must hold samples x classes = " + std::to_string(samples) + " x " +
                                 std::to_string(net.classes()) + " values, got " + std::to_string(targets_len));
    o.params.assign(params, params + params_len);
    o.x.assign(x, x + x_len);
    o.targets.assign(targets, targets + targets_len);
    o.problem.samples = samples;
    o.rebind();
    return o;
  }

  OwnedProblem() = default;
  OwnedProblem(OwnedProblem&& other) noexcept { *this = std::move(other); }
  OwnedProblem& operator=(OwnedProblem&& other) noexcept {
    params = std::move(other.params);
    x = std::move(other.x);
    targets = std::move(other.targets);
    problem = other.problem;
    rebind();
    return *this;
  }

 private:
  void rebind() {
    problem.params = params.data();
    problem.x = x.data();
    problem.targets = targets.data();
  }
};

}  // namespace hessbound
