#include "hvp.hpp"

#include <algorithm>
#include <vector>

#include "blas.hpp"

namespace hessbound {

namespace {

// Samples per block of the R-passes. Every sample's forward and backward R-pass is independent of
// the others; only the parameter blocks sum over samples. Working on a block of rows keeps the
// block's intermediates (R(u), R(a), R(delta), the GEMM result) in the core's L2 cache, so the
// elementwise passes and the thin GEMMs against the c classes run from cache instead of streaming
// N x width arrays through memory several times per product: on digits, width 1024, one thread,
// a product takes 20 ms instead of 23-24 ms (and the scratch shrinks from 4 x N x width doubles
// to 4 blocks). Row blocks of a GEMM are computed as in the full GEMM; only the sums over samples
// (parameter blocks, bias sums) change their order, i.e. the results differ by rounding only.
//
// Only with a single-threaded BLAS, though. Blocks turn the ~10 GEMMs of a product into ~10 per
// block (about 450 for 1797 samples), and every multithreaded BLAS call waits for all its threads:
// when another process holds a core, a descheduled BLAS thread costs a scheduler time slice per
// call. Measured on 2 cores with one core busy and 2 OpenBLAS threads: 50 ms to 1.5 s per product
// in blocks against 30-90 ms unblocked (1 thread, blocked: 20 ms). So a multithreaded BLAS gets
// the whole batch as one block, i.e. the few large GEMMs.
constexpr std::size_t kBlockBytes = 256u << 10;  // per scratch array; 4 arrays ~ 1 MB, well inside L2
constexpr int kMinBlockRows = 32;                // keep the GEMMs' M (and the K of the sums) reasonable

int block_rows(const Problem& p) {
  if (blas_threads() != 1) return p.samples;
  int widest = 1;
  for (int l = 1; l < static_cast<int>(p.net.sizes.size()); ++l) widest = std::max(widest, p.net.sizes[l]);
  const std::size_t rows = kBlockBytes / (sizeof(double) * static_cast<std::size_t>(widest));
  return static_cast<int>(std::min<std::size_t>(std::max<std::size_t>(rows, kMinBlockRows), p.samples));
}

}  // namespace

HvpEngine::HvpEngine(const Problem& p, const ForwardCache& cache) : p_(p), cache_(cache) {
  const NetSpec& net = p.net;
  const int L = net.layers();
  const std::size_t rows = static_cast<std::size_t>(block_rows(p));
  std::size_t widest = 0;
  r_pre_.resize(L);
  r_post_.resize(L - 1);
  r_delta_.resize(L);
  for (int l = 0; l < L; ++l) {
    const std::size_t count = rows * net.sizes[l + 1];
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
  const int rows = static_cast<int>(r_pre_[0].size() / net.sizes[1]);
  auto& r_pre = r_pre_;
  auto& r_post = r_post_;
  auto& r_delta = r_delta_;
  for (int n0 = 0; n0 < N; n0 += rows) {
    const int m = std::min(rows, N - n0);
    // Row n0 of a cached N x width array.
    auto at = [n0](const std::vector<double>& a, int width) { return a.data() + static_cast<std::size_t>(n0) * width; };
    // The parameter blocks are sums over samples: the first block writes, the others add.
    const double acc = n0 == 0 ? 0.0 : 1.0;
    // Forward R-pass: r_pre[l] = R(u_l), r_post[l] = R(a_l).
    for (int l = 0; l < L; ++l) {
      const int in = net.sizes[l], outw = net.sizes[l + 1];
      double* ru = r_pre[l].data();
      const double* input = l == 0 ? p.x + static_cast<std::size_t>(n0) * in : at(cache.post[l - 1], in);
      gemm(false, true, m, outw, in, 1.0, input, in, v + net.weight_offset(l), in, 0.0, ru, outw);
      if (l > 0) gemm(false, true, m, outw, in, 1.0, r_post[l - 1].data(), in, p.weight(l), in, 1.0, ru, outw);
      // The bias direction and R(a) = sigma' R(u) in one pass over the block.
      const double* vb = net.has_bias[l] ? v + net.bias_offset(l) : nullptr;
      double* rp = l < L - 1 ? r_post[l].data() : nullptr;
      const double* d1 = l < L - 1 ? at(cache.d1[l], outw) : nullptr;
      for (std::size_t n = 0; n < static_cast<std::size_t>(m); ++n) {
        const std::size_t row = n * outw;
        if (vb)
          for (int j = 0; j < outw; ++j) ru[row + j] += vb[j];
        if (rp)
          for (int j = 0; j < outw; ++j) rp[row + j] = d1[row + j] * ru[row + j];
      }
    }
    // Backward R-pass, top: R(delta_L) = scale * (diag(p) - p p^T) R(v), as
    // scale * p_k * sum_{j != k} p_j (R(v)_k - R(v)_j) (p sums to 1): the plain R(v)_k - p.R(v)
    // cancels for the dominant class when p is nearly one-hot, as at trained points.
    for (int n = 0; n < m; ++n) {
      const double* pr = cache.probs.data() + static_cast<std::size_t>(n0 + n) * c;
      const double* rv = r_pre[L - 1].data() + static_cast<std::size_t>(n) * c;
      double* rd = r_delta[L - 1].data() + static_cast<std::size_t>(n) * c;
      for (int k = 0; k < c; ++k) {
        double centered = 0;
        for (int j = 0; j < c; ++j)
          if (j != k) centered += pr[j] * (rv[k] - rv[j]);
        rd[k] = p.scale() * pr[k] * centered;
      }
    }
    for (int l = L - 2; l >= 0; --l) {
      const int width = net.sizes[l + 1], next = net.sizes[l + 2];
      const std::size_t count = static_cast<std::size_t>(m) * width;
      // tmp = delta_{l+1} V_{l+1} + R(delta_{l+1}) W_{l+1}
      double* tmp = tmp_.data();
      gemm(false, false, m, width, next, 1.0, at(cache.delta[l + 1], next), next, v + net.weight_offset(l + 1), width,
           0.0, tmp, width);
      gemm(false, false, m, width, next, 1.0, r_delta[l + 1].data(), next, p.weight(l + 1), width, 1.0, tmp, width);
      const double* d1 = at(cache.d1[l], width);
      const double* d2 = at(cache.d2[l], width);
      const double* back = at(cache.back[l], width);
      const double* ru = r_pre[l].data();
      double* rd = r_delta[l].data();
      for (std::size_t i = 0; i < count; ++i) rd[i] = d2[i] * ru[i] * back[i] + d1[i] * tmp[i];
    }
    // Parameter blocks: (Hv)_W = R(delta)^T a_in + delta^T R(a_in); (Hv)_b = column sums of R(delta).
    for (int l = 0; l < L; ++l) {
      const int in = net.sizes[l], outw = net.sizes[l + 1];
      double* ow = out + net.weight_offset(l);
      const double* input = l == 0 ? p.x + static_cast<std::size_t>(n0) * in : at(cache.post[l - 1], in);
      gemm(true, false, outw, in, m, 1.0, r_delta[l].data(), outw, input, in, acc, ow, in);
      if (l > 0) gemm(true, false, outw, in, m, 1.0, at(cache.delta[l], outw), outw, r_post[l - 1].data(), in, 1.0, ow, in);
      if (net.has_bias[l]) {
        double* ob = out + net.bias_offset(l);
        if (n0 == 0) std::fill(ob, ob + outw, 0.0);
        const double* rd = r_delta[l].data();
        for (int n = 0; n < m; ++n)
          for (int j = 0; j < outw; ++j) ob[j] += rd[static_cast<std::size_t>(n) * outw + j];
      }
    }
  }
}

}  // namespace hessbound
