#include "hvp.hpp"

#include <algorithm>
#include <vector>

#include "blas.hpp"

namespace hessbound {

HvpEngine::HvpEngine(const Problem& p, const ForwardCache& cache) : p_(p), cache_(cache) {
  const NetSpec& net = p.net;
  const int L = net.layers();
  std::size_t widest = 0;
  r_pre_.resize(L);
  r_post_.resize(L - 1);
  r_delta_.resize(L);
  for (int l = 0; l < L; ++l) {
    const std::size_t count = static_cast<std::size_t>(p.samples) * net.sizes[l + 1];
    r_pre_[l].resize(count);
    r_delta_[l].resize(count);
    if (l < L - 1) r_post_[l].resize(count);
    widest = std::max(widest, count);
  }
  tmp_.resize(widest);
}

void hvp(const Problem& p, const ForwardCache& cache, const double* v, double* out) {
  HvpEngine(p, cache).apply(v, out);
}

void HvpEngine::apply(const double* v, double* out) {
  const Problem& p = p_;
  const ForwardCache& cache = cache_;
  const NetSpec& net = p.net;
  const int L = net.layers(), N = p.samples, c = net.classes();
  auto& r_pre = r_pre_;
  auto& r_post = r_post_;
  auto& r_delta = r_delta_;
  // Forward R-pass: r_pre[l] = R(u_l), r_post[l] = R(a_l).
  for (int l = 0; l < L; ++l) {
    const int in = net.sizes[l], outw = net.sizes[l + 1];
    const std::size_t count = static_cast<std::size_t>(N) * outw;
    double* ru = r_pre[l].data();
    const double* vw = v + net.weight_offset(l);
    gemm(false, true, N, outw, in, 1.0, cache.input(p, l), in, vw, in, 0.0, ru, outw);
    if (l > 0) gemm(false, true, N, outw, in, 1.0, r_post[l - 1].data(), in, p.weight(l), in, 1.0, ru, outw);
    if (net.has_bias[l]) {
      const double* vb = v + net.bias_offset(l);
      for (int n = 0; n < N; ++n)
        for (int j = 0; j < outw; ++j) ru[static_cast<std::size_t>(n) * outw + j] += vb[j];
    }
    if (l < L - 1) {
      for (std::size_t i = 0; i < count; ++i) r_post[l][i] = cache.d1[l][i] * ru[i];
    }
  }
  // Backward R-pass, top: R(delta_L) = scale * (diag(p) - p p^T) R(v).
  for (int n = 0; n < N; ++n) {
    const double* pr = cache.probs.data() + static_cast<std::size_t>(n) * c;
    const double* rv = r_pre[L - 1].data() + static_cast<std::size_t>(n) * c;
    double* rd = r_delta[L - 1].data() + static_cast<std::size_t>(n) * c;
    double prv = 0;
    for (int k = 0; k < c; ++k) prv += pr[k] * rv[k];
    for (int k = 0; k < c; ++k) rd[k] = p.scale() * pr[k] * (rv[k] - prv);
  }
  for (int l = L - 2; l >= 0; --l) {
    const int width = net.sizes[l + 1], next = net.sizes[l + 2];
    const std::size_t count = static_cast<std::size_t>(N) * width;
    // tmp = delta_{l+1} V_{l+1} + R(delta_{l+1}) W_{l+1}
    double* tmp = tmp_.data();
    gemm(false, false, N, width, next, 1.0, cache.delta[l + 1].data(), next, v + net.weight_offset(l + 1), width, 0.0,
         tmp, width);
    gemm(false, false, N, width, next, 1.0, r_delta[l + 1].data(), next, p.weight(l + 1), width, 1.0, tmp,
         width);
    for (std::size_t i = 0; i < count; ++i)
      r_delta[l][i] = cache.d2[l][i] * r_pre[l][i] * cache.back[l][i] + cache.d1[l][i] * tmp[i];
  }
  // Parameter blocks: (Hv)_W = R(delta)^T a_in + delta^T R(a_in); (Hv)_b = column sums of R(delta).
  for (int l = 0; l < L; ++l) {
    const int in = net.sizes[l], outw = net.sizes[l + 1];
    double* ow = out + net.weight_offset(l);
    gemm(true, false, outw, in, N, 1.0, r_delta[l].data(), outw, cache.input(p, l), in, 0.0, ow, in);
    if (l > 0) gemm(true, false, outw, in, N, 1.0, cache.delta[l].data(), outw, r_post[l - 1].data(), in, 1.0, ow, in);
    if (net.has_bias[l]) {
      double* ob = out + net.bias_offset(l);
      for (int j = 0; j < outw; ++j) ob[j] = 0;
      for (int n = 0; n < N; ++n)
        for (int j = 0; j < outw; ++j) ob[j] += r_delta[l][static_cast<std::size_t>(n) * outw + j];
    }
  }
}

}  // namespace hessbound
