#include "train/train_eval.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "linalg/blas.hpp"
#include "linalg/elementwise.hpp"
#include "linalg/gemm512.hpp"
#include "model/sample_chunks.hpp"

namespace hessbound {

namespace {

// Chunks and threads as in hvp.cpp (sample_chunks.hpp): bit-identical for any thread count.

// Rows per block inside a chunk: each scratch array of a block stays within ~2 MB, so the forward
// and backward passes of a block run from cache while the GEMMs stay large enough to run at rate.
constexpr std::size_t kBlockBytes = 2u << 20;
constexpr int kMinBlockRows = 32;
// With the AVX-512 products (gemm512.hpp) a block's arrays stay within L2 instead: those products
// are fast enough for the passes over memory to show, and their sums over samples do not depend on
// the block size (one running sum per entry across blocks).
constexpr std::size_t kBlockBytes512 = 512u << 10;

// Softmax cross-entropy of a block of logits rows (plus the bias), fused with the output delta,
// overwritten in place. Returns the block's summed (unscaled) loss. `work`: rows x c + 2 c doubles.
//
// The log-sum-exp of softmax.hpp (the Hessian path's), with the block's exponentials in one vector
// pass (exp_values: within 2 ulp of exp, the same bits on every SIMD path; libm's scalar exp, twice
// per class, was a tenth of an evaluation), and the delta scale (p - t) as
// p_k sum_{j != k} t_j - t_k sum_{j != k} p_j (softmax_delta_row's form: no cancellation when p is
// nearly one-hot), the sums over j != k from prefix and suffix sums in O(c) rather than O(c^2).
// The two paths' results differ by rounding only (test/train-eval-simd.test.ts: 1e-12).
double softmax_cross_entropy(int rows, int c, const double* b, const double* targets, double scale, double* z,
                             double* work) {
  for (int n = 0; n < rows; ++n) {  // z = v - max v: 0 at the top, <= 0 elsewhere
    double* v = z + static_cast<std::size_t>(n) * c;
    if (b)
      for (int k = 0; k < c; ++k) v[k] += b[k];
    const double top = *std::max_element(v, v + c);
    for (int k = 0; k < c; ++k) v[k] -= top;
  }
  double* e = work;
  double* after_p = work + static_cast<std::size_t>(rows) * c;  // sum_{j > k} p_j
  double* after_t = after_p + c;                               // sum_{j > k} t_j
  exp_values(z, static_cast<std::size_t>(rows) * c, e);
  double loss = 0;
  for (int n = 0; n < rows; ++n) {
    double* v = z + static_cast<std::size_t>(n) * c;
    double* p = e + static_cast<std::size_t>(n) * c;
    const double* t = targets + static_cast<std::size_t>(n) * c;
    const int top = static_cast<int>(std::max_element(v, v + c) - v);
    double rest = 0;  // sum of exp(v_k - v_top) over k != top
    for (int k = 0; k < c; ++k)
      if (k != top) rest += p[k];
    const double log_z = std::log1p(rest), total = 1.0 + rest;
    for (int k = 0; k < c; ++k) {
      p[k] = k == top ? 1.0 / total : p[k] / total;
      if (t[k] != 0) loss -= t[k] * (v[k] - log_z);
    }
    double sp = 0, st = 0;
    for (int k = c - 1; k >= 0; --k) {
      after_p[k] = sp, after_t[k] = st;
      sp += p[k], st += t[k];
    }
    double bp = 0, bt = 0;  // sums over j < k
    for (int k = 0; k < c; ++k) {
      v[k] = scale * (p[k] * (bt + after_t[k]) - t[k] * (bp + after_p[k]));
      bp += p[k], bt += t[k];
    }
  }
  return loss;
}

// What a hidden layer does to each group of rows of u = a_{l-1} W_l^T as gemm512_nt completes
// them: u += b, then a = sigma(u) (and, other than tanh, u = sigma'(u)).
struct HiddenRows {
  Activation activation;
  int width, ld;  // ld: the row stride of u and a
  const double* b;
  double* u;
  double* a;
};
void hidden_rows(void* context, int row0, int rows) {
  const HiddenRows& h = *static_cast<const HiddenRows*>(context);
  for (int r = row0; r < row0 + rows; ++r) {
    double* u = h.u + static_cast<std::size_t>(r) * h.ld;
    double* a = h.a + static_cast<std::size_t>(r) * h.ld;
    if (h.activation == Activation::Tanh) {
      bias_tanh(1, h.width, h.b, u, a);
      continue;
    }
    if (h.b)
      for (int j = 0; j < h.width; ++j) u[j] += h.b[j];
    activate(h.activation, u, h.width, a, u, nullptr);
  }
}

}  // namespace

TrainEvaluator::TrainEvaluator(const Problem& problem, int min_chunk_rows) : p_(problem) {
  p_.params = nullptr;
  const NetSpec& net = p_.net;
  const int L = net.layers();
  P_ = net.parameter_count();
  chunks_ = sample_chunk_count(p_);
  if (min_chunk_rows > 0) chunks_ = std::max(1, std::min(chunks_, p_.samples / min_chunk_rows));
  threads_ = sample_chunk_threads(p_, chunks_);
  int widest = net.classes();
  for (int l = 1; l < L; ++l) widest = std::max(widest, net.sizes[l]);
  const int longest_chunk = (p_.samples + chunks_ - 1) / chunks_;
  simd_ = gemm512_available();
  const std::size_t by_cache = (simd_ ? kBlockBytes512 : kBlockBytes) / (sizeof(double) * static_cast<std::size_t>(widest));
  rows_ = static_cast<int>(std::min<std::size_t>(std::max<std::size_t>(by_cache, kMinBlockRows), longest_chunk));
  // Row strides of the block arrays: the widths, except that the AVX-512 path pads hidden layers'
  // rows off multiples of 512 bytes (a power-of-two stride puts a column strip's rows all in the
  // same few cache sets, and the A^T B products read column strips).
  ld_.resize(L);
  for (int l = 0; l < L; ++l) {
    int ld = net.sizes[l + 1];
    if (simd_ && l < L - 1) {
      ld = (ld + 7) / 8 * 8;
      if (ld % 64 == 0) ld += 8;
    }
    ld_[l] = ld;
  }
  scratch_.resize(threads_);
  for (Scratch& s : scratch_) {
    s.act.resize(L - 1);
    s.delta.resize(L);
    for (int l = 0; l < L; ++l) {
      const std::size_t count = static_cast<std::size_t>(rows_) * ld_[l];
      s.delta[l].resize(count);
      if (l < L - 1) s.act[l].resize(count);
    }
    s.back.resize(static_cast<std::size_t>(rows_) * widest);
    s.softmax.resize(static_cast<std::size_t>(rows_ + 2) * net.classes());
  }
  if (simd_) {
    packed_at_.resize(L + 1, 0);
    for (int l = 0; l < L; ++l) packed_at_[l + 1] = packed_at_[l] + gemm512_packed_size(net.sizes[l + 1], net.sizes[l]);
    packed_.resize(packed_at_[L]);
  }
  partial_.resize((chunks_ - 1) * P_);
  chunk_loss_.resize(chunks_);
}

// Samples [begin, end) of chunk c in blocks of rows_; their gradient into out, their summed loss returned.
double TrainEvaluator::run_chunk(int chunk, Scratch& s, const double* params, double* out) const {
  const NetSpec& net = p_.net;
  const int L = net.layers(), N = p_.samples, c = net.classes();
  const int begin = static_cast<int>(static_cast<long long>(N) * chunk / chunks_);
  const int end = static_cast<int>(static_cast<long long>(N) * (chunk + 1) / chunks_);
  const bool is_tanh = net.activation == Activation::Tanh;
  if (simd_) return run_chunk512(begin, end, s, params, out);
  double loss = 0;
  for (int r0 = begin; r0 < end; r0 += rows_) {
    const int rows = std::min(rows_, end - r0);
    const bool first = r0 == begin;
    const double* x = p_.x + static_cast<std::size_t>(r0) * net.inputs();
    auto input = [&](int l) { return l == 0 ? x : s.act[l - 1].data(); };
    // Forward: u_l = a_{l-1} W_l^T (+ b_l), then a_l = sigma(u_l) with sigma'(u_l) kept in delta_l
    // (tanh: read back from a_l as 1 - a^2).
    for (int l = 0; l < L; ++l) {
      const int in = net.sizes[l], width = net.sizes[l + 1];
      const double* w = params + net.weight_offset(l);
      const double* b = net.has_bias[l] ? params + net.bias_offset(l) : nullptr;
      double* u = s.delta[l].data();
      gemm(false, true, rows, width, in, 1.0, input(l), in, w, in, 0.0, u, width);
      if (l == L - 1) break;  // the logits: bias added in the softmax pass
      if (is_tanh) {
        bias_tanh(rows, width, b, u, s.act[l].data());
      } else {
        if (b)
          for (int r = 0; r < rows; ++r)
            for (int j = 0; j < width; ++j) u[static_cast<std::size_t>(r) * width + j] += b[j];
        activate(net.activation, u, rows * width, s.act[l].data(), u, nullptr);
      }
    }
    const double* bo = net.has_bias[L - 1] ? params + net.bias_offset(L - 1) : nullptr;
    loss += softmax_cross_entropy(rows, c, bo, p_.targets + static_cast<std::size_t>(r0) * c, p_.scale(),
                                  s.delta[L - 1].data(), s.softmax.data());
    // Backward: the gradient of layer l from delta_l, then delta_{l-1} = sigma' * (delta_l W_l).
    for (int l = L - 1; l >= 0; --l) {
      const int in = net.sizes[l], width = net.sizes[l + 1];
      const double* d = s.delta[l].data();
      gemm(true, false, width, in, rows, 1.0, d, width, input(l), in, first ? 0.0 : 1.0, out + net.weight_offset(l), in);
      if (net.has_bias[l]) sum_columns(rows, width, d, first, out + net.bias_offset(l));
      if (l == 0) break;
      gemm(false, false, rows, in, width, 1.0, d, width, params + net.weight_offset(l), in, 0.0, s.back.data(), in);
      const std::size_t count = static_cast<std::size_t>(rows) * in;
      if (is_tanh) tanh_backward(count, s.act[l - 1].data(), s.back.data(), s.delta[l - 1].data());
      else scale_by(count, s.back.data(), s.delta[l - 1].data());
    }
  }
  return loss;
}

// run_chunk with the AVX-512 products: the same passes, with each hidden layer's elementwise pass
// on groups of rows as the forward product completes them, and the back-propagated product scaled
// by sigma' as it is stored (no separate W^T delta array).
double TrainEvaluator::run_chunk512(int begin, int end, Scratch& s, const double* params, double* out) const {
  const NetSpec& net = p_.net;
  const int L = net.layers(), c = net.classes();
  const bool is_tanh = net.activation == Activation::Tanh;
  double loss = 0;
  for (int r0 = begin; r0 < end; r0 += rows_) {
    const int rows = std::min(rows_, end - r0);
    const bool first = r0 == begin;
    const double* x = p_.x + static_cast<std::size_t>(r0) * net.inputs();
    auto input = [&](int l) { return l == 0 ? x : s.act[l - 1].data(); };
    auto input_ld = [&](int l) { return l == 0 ? net.inputs() : ld_[l - 1]; };
    for (int l = 0; l < L; ++l) {
      const int in = net.sizes[l], width = net.sizes[l + 1];
      const double* packed = packed_.data() + packed_at_[l];
      double* u = s.delta[l].data();
      if (l == L - 1) {  // the logits: bias added in the softmax pass
        gemm512_nt(rows, width, in, input(l), input_ld(l), packed, u, ld_[l]);
        break;
      }
      HiddenRows hidden{net.activation, width, ld_[l], net.has_bias[l] ? params + net.bias_offset(l) : nullptr, u,
                        s.act[l].data()};
      gemm512_nt(rows, width, in, input(l), input_ld(l), packed, u, ld_[l], RowsDone{hidden_rows, &hidden});
    }
    const double* bo = net.has_bias[L - 1] ? params + net.bias_offset(L - 1) : nullptr;
    loss += softmax_cross_entropy(rows, c, bo, p_.targets + static_cast<std::size_t>(r0) * c, p_.scale(),
                                  s.delta[L - 1].data(), s.softmax.data());
    for (int l = L - 1; l >= 0; --l) {
      const int in = net.sizes[l], width = net.sizes[l + 1];
      const double* d = s.delta[l].data();
      gemm512_tn(width, in, rows, d, ld_[l], input(l), input_ld(l), !first, out + net.weight_offset(l), in,
                 net.has_bias[l] ? out + net.bias_offset(l) : nullptr);
      if (l == 0) break;
      const Scale scale = is_tanh ? Scale::TanhDerivative : Scale::ByC;  // ByC: delta_{l-1} holds sigma'
      gemm512_nn(rows, in, width, d, ld_[l], params + net.weight_offset(l), in, s.delta[l - 1].data(), ld_[l - 1],
                 scale, is_tanh ? s.act[l - 1].data() : nullptr, ld_[l - 1]);
    }
  }
  return loss;
}

double TrainEvaluator::evaluate(const double* params, double* grad) {
  if (simd_)
    for (int l = 0; l < p_.net.layers(); ++l)
      gemm512_pack(p_.net.sizes[l + 1], p_.net.sizes[l], params + p_.net.weight_offset(l), p_.net.sizes[l],
                   packed_.data() + packed_at_[l]);
  std::atomic<int> next{0};
  auto work = [&](int t) {
    for (int c; (c = next.fetch_add(1)) < chunks_;)
      chunk_loss_[c] = run_chunk(c, scratch_[t], params, c == 0 ? grad : partial_.data() + (c - 1) * P_);
  };
  run_sample_threads(threads_, work);
  // The chunks' sums, in chunk order.
  double loss = chunk_loss_[0];
  for (int c = 1; c < chunks_; ++c) {
    const double* partial = partial_.data() + (c - 1) * P_;
    for (std::size_t i = 0; i < P_; ++i) grad[i] += partial[i];
    loss += chunk_loss_[c];
  }
  return loss * p_.scale();
}

}  // namespace hessbound
