#include "curvature/hessian.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "linalg/blas.hpp"
#include "support/errors.hpp"
#include "curvature/hvp.hpp"

namespace hessbound {

std::uint64_t dense_bytes(std::uint64_t parameters) { return parameters * parameters * 8ull; }

void check_dense_fits(std::uint64_t parameters, std::uint64_t max_bytes) {
  const std::uint64_t need = dense_bytes(parameters);
  if (need <= max_bytes) return;
  std::ostringstream msg;
  msg.precision(3);
  msg << "a dense Hessian of " << parameters << " parameters needs " << need / 1e9 << " GB, more than the "
      << max_bytes / 1e9 << " GB allowed here; use the Lanczos method (method 'lanczos') for the extreme eigenvalues";
  fail("TOO_LARGE", msg.str());
}

namespace {

void hessian_by_hvp(const Problem& p, const ForwardCache& cache, double* h, const Progress& progress) {
  const std::size_t P = p.net.parameter_count();
  std::vector<double> e(P, 0.0), col(P);
  HvpEngine engine(p, cache);
  for (std::size_t i = 0; i < P; ++i) {
    e[i] = 1.0;
    engine.apply(e.data(), col.data());
    e[i] = 0.0;
    // Column i of a symmetric matrix is row i.
    std::copy(col.begin(), col.end(), h + i * P);
    if ((i & 63) == 0) report(progress, static_cast<double>(i) / P);
  }
  // Average with the transpose so the result is exactly symmetric despite rounding.
  for (std::size_t i = 0; i < P; ++i)
    for (std::size_t j = i + 1; j < P; ++j) {
      const double avg = 0.5 * (h[i * P + j] + h[j * P + i]);
      h[i * P + j] = avg;
      h[j * P + i] = avg;
    }
}

// One hidden layer: the Kronecker blocks of curvature.md section 3, assembled by GEMMs.
class KroneckerAssembler {
 public:
  KroneckerAssembler(const Problem& p, const ForwardCache& cache, double* h)
      : p_(p), cache_(cache), h_(h), N_(p.samples), d_(p.net.sizes[0]), hid_(p.net.sizes[1]), c_(p.net.sizes[2]),
        bias1_(p.net.has_bias[0]), bias2_(p.net.has_bias[1]), d1_(d_ + (bias1_ ? 1 : 0)),
        h1_(hid_ + (bias2_ ? 1 : 0)), P1_(static_cast<std::size_t>(hid_) * d1_),
        P_(p.net.parameter_count()), w_(p.scale()), w2_(p.weight(1)) {}

  void run(const Progress& progress) {
    std::fill(h_, h_ + P_ * P_, 0.0);
    report(progress, 0.05);
    hidden_block();
    report(progress, 0.55);
    output_block();
    report(progress, 0.75);
    cross_block();
    mirror_upper(static_cast<int>(P_), h_, static_cast<int>(P_));
    report(progress, 1.0);
  }

 private:
  std::size_t idx1(int j, int b) const { return b < d_ ? static_cast<std::size_t>(j) * d_ + b : static_cast<std::size_t>(hid_) * d_ + j; }
  std::size_t idx2(int k, int a) const {
    return a < hid_ ? P1_ + static_cast<std::size_t>(k) * hid_ + a : P1_ + static_cast<std::size_t>(c_) * hid_ + k;
  }
  double xt(int n, int b) const { return b < d_ ? p_.x[static_cast<std::size_t>(n) * d_ + b] : 1.0; }
  double zt(int n, int a) const { return a < hid_ ? cache_.post[0][static_cast<std::size_t>(n) * hid_ + a] : 1.0; }
  double& at(std::size_t i, std::size_t j) { return h_[std::min(i, j) * P_ + std::max(i, j)]; }
  int chunk_rows(std::size_t row_len, int per_sample) const {
    // Keep each scratch matrix near 32 MB.
    const std::size_t target = (4u << 20) / std::max<std::size_t>(1, row_len * per_sample);
    return static_cast<int>(std::clamp<std::size_t>(target, 1, static_cast<std::size_t>(N_)));
  }

  // out = W2[r,:] - p_n^T W2 as sum_{i != r} p_i (W2[r,:] - W2[i,:]) (p sums to 1): exact in
  // relative terms even when p_n is nearly one-hot, where the plain difference cancels.
  void centered_row(int n, int r, double* out) const {
    const double* pr = cache_.probs.data() + static_cast<std::size_t>(n) * c_;
    const double* w2r = w2_ + static_cast<std::size_t>(r) * hid_;
    std::fill(out, out + hid_, 0.0);
    for (int i = 0; i < c_; ++i) {
      if (i == r || pr[i] == 0) continue;
      const double* w2i = w2_ + static_cast<std::size_t>(i) * hid_;
      for (int j = 0; j < hid_; ++j) out[j] += pr[i] * (w2r[j] - w2i[j]);
    }
  }

  // 1 - p_k as the sum of the other probabilities, for the same reason.
  double complement(int n, int k) const {
    const double* pr = cache_.probs.data() + static_cast<std::size_t>(n) * c_;
    double sum = 0;
    for (int i = 0; i < c_; ++i)
      if (i != k) sum += pr[i];
    return sum;
  }

  // H11 = w sum_n (F_n^T F_n + diag(e_n)) (x) x~ x~^T, with F_n = R_n^T W2 diag(s) and A_n = R_n R_n^T.
  void hidden_block() {
    const int rows = chunk_rows(P1_, c_);
    std::vector<double> J(static_cast<std::size_t>(rows) * c_ * P1_), centered(hid_);
    const double sw = std::sqrt(w_);
    for (int n0 = 0; n0 < N_; n0 += rows) {
      const int m = std::min(rows, N_ - n0);
      for (int i = 0; i < m; ++i) {
        const int n = n0 + i;
        const double* pr = cache_.probs.data() + static_cast<std::size_t>(n) * c_;
        const double* s = cache_.d1[0].data() + static_cast<std::size_t>(n) * hid_;
        for (int r = 0; r < c_; ++r) {
          double* row = J.data() + (static_cast<std::size_t>(i) * c_ + r) * P1_;
          const double sp = sw * std::sqrt(pr[r]);
          centered_row(n, r, centered.data());
          for (int j = 0; j < hid_; ++j) {
            const double f = sp * centered[j] * s[j];
            for (int b = 0; b < d1_; ++b) row[idx1(j, b)] = f * xt(n, b);
          }
        }
      }
      syrk_upper_at_a(static_cast<int>(P1_), m * c_, 1.0, J.data(), static_cast<int>(P1_), 1.0, h_,
                      static_cast<int>(P_));
    }
    // Residual part: w e_n = sigma''(u) * (W2^T delta_2), and delta_2 already carries w.
    for (int n = 0; n < N_; ++n) {
      const double* s2 = cache_.d2[0].data() + static_cast<std::size_t>(n) * hid_;
      const double* back = cache_.back[0].data() + static_cast<std::size_t>(n) * hid_;
      for (int j = 0; j < hid_; ++j) {
        const double e = s2[j] * back[j];
        if (e == 0) continue;
        for (int b = 0; b < d1_; ++b)
          for (int b2 = b; b2 < d1_; ++b2) h_[idx1(j, b) * P_ + idx1(j, b2)] += e * xt(n, b) * xt(n, b2);
      }
    }
  }

  // H22 = w sum_n A_n (x) z~ z~^T, one (h+1) x (h+1) GEMM per class pair k <= l.
  void output_block() {
    std::vector<double> Z(static_cast<std::size_t>(N_) * h1_), Zw(Z.size()), S(static_cast<std::size_t>(h1_) * h1_);
    for (int n = 0; n < N_; ++n)
      for (int a = 0; a < h1_; ++a) Z[static_cast<std::size_t>(n) * h1_ + a] = zt(n, a);
    for (int k = 0; k < c_; ++k)
      for (int l = k; l < c_; ++l) {
        for (int n = 0; n < N_; ++n) {
          const double* pr = cache_.probs.data() + static_cast<std::size_t>(n) * c_;
          const double a_kl = w_ * (k == l ? pr[k] * complement(n, k) : -pr[k] * pr[l]);
          for (int a = 0; a < h1_; ++a)
            Zw[static_cast<std::size_t>(n) * h1_ + a] = a_kl * Z[static_cast<std::size_t>(n) * h1_ + a];
        }
        gemm(true, false, h1_, h1_, N_, 1.0, Z.data(), h1_, Zw.data(), h1_, 0.0, S.data(), h1_);
        for (int a = 0; a < h1_; ++a)
          for (int a2 = 0; a2 < h1_; ++a2) at(idx2(k, a), idx2(l, a2)) = S[static_cast<std::size_t>(a) * h1_ + a2];
      }
  }

  // H21[(k,a),(j,b)] = w sum_n C_n[k,j] z~_a x~_b + g_k [a == j] s_j x~_b, C_n = A_n W2 diag(s).
  void cross_block() {
    const int rows = chunk_rows(P1_, 1);
    std::vector<double> Y(static_cast<std::size_t>(rows) * P1_), Z(static_cast<std::size_t>(rows) * h1_),
        block(static_cast<std::size_t>(h1_) * P1_), centered(hid_);
    for (int k = 0; k < c_; ++k) {
      std::fill(block.begin(), block.end(), 0.0);
      for (int n0 = 0; n0 < N_; n0 += rows) {
        const int m = std::min(rows, N_ - n0);
        for (int i = 0; i < m; ++i) {
          const int n = n0 + i;
          const double pk = cache_.probs[static_cast<std::size_t>(n) * c_ + k];
          const double* s = cache_.d1[0].data() + static_cast<std::size_t>(n) * hid_;
          double* row = Y.data() + static_cast<std::size_t>(i) * P1_;
          centered_row(n, k, centered.data());
          for (int j = 0; j < hid_; ++j) {
            const double cj = w_ * pk * centered[j] * s[j];
            for (int b = 0; b < d1_; ++b) row[idx1(j, b)] = cj * xt(n, b);
          }
          for (int a = 0; a < h1_; ++a) Z[static_cast<std::size_t>(i) * h1_ + a] = zt(n, a);
        }
        gemm(true, false, h1_, static_cast<int>(P1_), m, 1.0, Z.data(), h1_, Y.data(), static_cast<int>(P1_), 1.0,
             block.data(), static_cast<int>(P1_));
      }
      // The [a == j] term: delta_2 = w g already carries the reduction's scale.
      for (int n = 0; n < N_; ++n) {
        const double gk = cache_.delta[1][static_cast<std::size_t>(n) * c_ + k];
        const double* s = cache_.d1[0].data() + static_cast<std::size_t>(n) * hid_;
        for (int j = 0; j < hid_; ++j)
          for (int b = 0; b < d1_; ++b) block[static_cast<std::size_t>(j) * P1_ + idx1(j, b)] += gk * s[j] * xt(n, b);
      }
      // Layer-2 rows come after every layer-1 column: store in the upper triangle as (layer-1, layer-2).
      for (int a = 0; a < h1_; ++a) {
        const std::size_t col = idx2(k, a);
        const double* src = block.data() + static_cast<std::size_t>(a) * P1_;
        for (std::size_t i = 0; i < P1_; ++i) h_[i * P_ + col] = src[i];
      }
    }
  }

  const Problem& p_;
  const ForwardCache& cache_;
  double* h_;
  const int N_, d_, hid_, c_;
  const bool bias1_, bias2_;
  const int d1_, h1_;
  const std::size_t P1_, P_;
  const double w_;
  const double* w2_;
};

}  // namespace

HessianAssembly dense_hessian(const Problem& p, const ForwardCache& cache, double* h, HessianAssembly how,
                              const Progress& progress) {
  const bool one_hidden = p.net.layers() == 2;
  if (how == HessianAssembly::Kronecker && !one_hidden)
    fail("BAD_OPTION", "the Kronecker assembly needs exactly one hidden layer; use 'hvp' or 'auto'");
  if (how == HessianAssembly::Auto) how = one_hidden ? HessianAssembly::Kronecker : HessianAssembly::Hvp;
  if (how == HessianAssembly::Kronecker) KroneckerAssembler(p, cache, h).run(progress);
  else hessian_by_hvp(p, cache, h, progress);
  return how;
}

}  // namespace hessbound
