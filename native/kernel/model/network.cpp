#include "model/network.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "linalg/blas.hpp"
#include "support/errors.hpp"
#include "model/softmax.hpp"

namespace hessbound {

std::size_t NetSpec::weight_offset(int l) const {
  std::size_t off = 0;
  for (int i = 0; i < l; ++i)
    off += static_cast<std::size_t>(sizes[i + 1]) * sizes[i] + (has_bias[i] ? sizes[i + 1] : 0);
  return off;
}

std::size_t NetSpec::bias_offset(int l) const {
  return weight_offset(l) + static_cast<std::size_t>(sizes[l + 1]) * sizes[l];
}

std::size_t NetSpec::parameter_count() const { return weight_offset(layers()); }

void validate(const Problem& p) {
  const NetSpec& net = p.net;
  if (net.sizes.size() < 3) fail("BAD_MODEL", "the network needs at least one hidden layer (two affine layers)");
  if (static_cast<int>(net.has_bias.size()) != net.layers())
    fail("BAD_MODEL", "bias flags: expected one per layer");
  for (int s : net.sizes)
    if (s <= 0) fail("BAD_MODEL", "every layer width must be positive");
  if (net.classes() < 2) fail("BAD_MODEL", "the output layer needs at least 2 classes");
  if (p.samples <= 0) fail("BAD_DATA", "the data set is empty");
  if (!p.params || !p.x || !p.targets) fail("BAD_DATA", "missing buffer");
  const std::size_t P = net.parameter_count();
  for (std::size_t i = 0; i < P; ++i)
    if (!std::isfinite(p.params[i])) fail("NON_FINITE", "parameter " + std::to_string(i) + " is not finite");
  const std::size_t nx = static_cast<std::size_t>(p.samples) * net.inputs();
  for (std::size_t i = 0; i < nx; ++i)
    if (!std::isfinite(p.x[i]))
      fail("NON_FINITE", "input x[" + std::to_string(i / net.inputs()) + "][" + std::to_string(i % net.inputs()) +
                             "] is not finite");
  const int c = net.classes();
  for (int n = 0; n < p.samples; ++n) {
    double sum = 0;
    for (int k = 0; k < c; ++k) {
      const double t = p.targets[static_cast<std::size_t>(n) * c + k];
      if (!std::isfinite(t) || t < 0) fail("BAD_LABELS", "target row " + std::to_string(n) + " is not a distribution");
      sum += t;
    }
    if (std::fabs(sum - 1) > 1e-9)
      fail("BAD_LABELS", "target row " + std::to_string(n) + " sums to " + std::to_string(sum) + ", not 1");
  }
}

namespace {

// u = a W^T + 1 b^T for all samples.
void affine(int n, int in, int out, const double* a, const double* w, const double* b, double* u) {
  gemm(false, true, n, out, in, 1.0, a, in, w, in, 0.0, u, out);
  if (b)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < out; ++j) u[static_cast<std::size_t>(i) * out + j] += b[j];
}

}  // namespace

ForwardCache forward_backward(const Problem& p) {
  // One BLAS thread, so the cache (and the training built on it) is bit-identical for any
  // OPENBLAS_NUM_THREADS: a multithreaded OpenBLAS partitions a GEMM by its thread count, which
  // changes the last bits, and training amplifies them (digits, width 4: lambda_max 324 vs 2399).
  BlasSerialScope serial;
  const NetSpec& net = p.net;
  const int L = net.layers(), N = p.samples, c = net.classes();
  ForwardCache cache;
  cache.pre.resize(L);
  cache.post.resize(L - 1);
  cache.d1.resize(L - 1);
  cache.d2.resize(L - 1);
  cache.delta.resize(L);
  cache.back.resize(L - 1);
  for (int l = 0; l < L; ++l) {
    const int in = net.sizes[l], out = net.sizes[l + 1];
    const std::size_t count = static_cast<std::size_t>(N) * out;
    cache.pre[l].resize(count);
    affine(N, in, out, cache.input(p, l), p.weight(l), p.bias(l), cache.pre[l].data());
    if (l < L - 1) {
      cache.post[l].resize(count);
      cache.d1[l].resize(count);
      cache.d2[l].resize(count);
      activate(net.activation, cache.pre[l].data(), static_cast<int>(count), cache.post[l].data(),
               cache.d1[l].data(), cache.d2[l].data());
    }
  }
  // Softmax and cross-entropy (softmax.hpp).
  cache.probs.resize(static_cast<std::size_t>(N) * c);
  cache.delta[L - 1].resize(static_cast<std::size_t>(N) * c);
  double loss = 0;
  const double* logits = cache.pre[L - 1].data();
  for (int n = 0; n < N; ++n) {
    const double* v = logits + static_cast<std::size_t>(n) * c;
    const double* t = p.targets + static_cast<std::size_t>(n) * c;
    double* pr = cache.probs.data() + static_cast<std::size_t>(n) * c;
    loss = add_softmax_cross_entropy(c, v, t, pr, loss);
    softmax_delta_row(c, pr, t, p.scale(), cache.delta[L - 1].data() + static_cast<std::size_t>(n) * c);
  }
  cache.loss = loss * p.scale();
  // Backward: delta_l = sigma'(u_l) * (W_{l+1}^T delta_{l+1}).
  for (int l = L - 2; l >= 0; --l) {
    const int width = net.sizes[l + 1], next = net.sizes[l + 2];
    const std::size_t count = static_cast<std::size_t>(N) * width;
    cache.back[l].resize(count);
    gemm(false, false, N, width, next, 1.0, cache.delta[l + 1].data(), next, p.weight(l + 1), width, 0.0,
         cache.back[l].data(), width);
    cache.delta[l].resize(count);
    for (std::size_t i = 0; i < count; ++i) cache.delta[l][i] = cache.d1[l][i] * cache.back[l][i];
  }
  return cache;
}

ForwardCache forward_backward_checked(const Problem& p) {
  ForwardCache cache = forward_backward(p);
  const NetSpec& net = p.net;
  for (int l = 0; l < net.layers(); ++l) {
    const int width = net.sizes[l + 1];
    const LargeArray& u = cache.pre[l];
    for (std::size_t i = 0; i < u.size(); ++i)
      if (!std::isfinite(u[i]))
        fail("NON_FINITE", std::string(l + 1 == net.layers() ? "the logits" : "the pre-activations of layer " + std::to_string(l + 1)) +
                               " overflow float64 at sample " + std::to_string(i / width) + ", unit " +
                               std::to_string(i % width) + " (" + std::to_string(u[i]) +
                               "): the weights or inputs are too large (finite, but their products are not)");
  }
  if (!std::isfinite(cache.loss)) fail("NON_FINITE", "the loss is not finite at these weights (overflow in the softmax)");
  return cache;
}

std::vector<double> gradient(const Problem& p, const ForwardCache& cache) {
  BlasSerialScope serial;  // thread-count independent sums over samples, as in forward_backward
  const NetSpec& net = p.net;
  std::vector<double> grad(net.parameter_count(), 0.0);
  for (int l = 0; l < net.layers(); ++l) {
    const int in = net.sizes[l], out = net.sizes[l + 1];
    const double* d = cache.delta[l].data();
    gemm(true, false, out, in, p.samples, 1.0, d, out, cache.input(p, l), in, 0.0, grad.data() + net.weight_offset(l),
         in);
    if (net.has_bias[l]) {
      double* gb = grad.data() + net.bias_offset(l);
      for (int n = 0; n < p.samples; ++n)
        for (int j = 0; j < out; ++j) gb[j] += d[static_cast<std::size_t>(n) * out + j];
    }
  }
  return grad;
}

}  // namespace hessbound
