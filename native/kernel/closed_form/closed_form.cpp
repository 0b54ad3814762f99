// Shared parts of the closed form: per-sample quantities, the O(N) traces, the diagonal-only
// (orthogonal-inputs) terms, input cosines and the cost model that picks dual or primal.
#include "closed_form/closed_form.hpp"

#include <algorithm>
#include <cmath>

#include "linalg/blas.hpp"

namespace hessbound {

double HiddenLayerData::amat(int n, int k, int l) const {
  const std::size_t nc = static_cast<std::size_t>(n) * c;
  return k == l ? p[nc + k] * omp[nc + k] : -p[nc + k] * p[nc + l];
}

void HiddenLayerData::fill_f(int n, double* out) const {
  for (int r = 0; r < c; ++r)
    for (int j = 0; j < h; ++j) out[static_cast<std::size_t>(r) * h + j] = f(n, r, j);
}

void HiddenLayerData::fill_c(int n, double* out) const {
  for (int k = 0; k < c; ++k)
    for (int j = 0; j < h; ++j) out[static_cast<std::size_t>(k) * h + j] = cmat(n, k, j);
}

namespace {

// 1 - p_k and p_k - t_k without cancellation, and the dominant class's W2_r - W2^T p.
void saturation_safe_terms(const Problem& pr, HiddenLayerData& D) {
  const int N = D.N, c = D.c, h = D.h;
  D.omp.resize(static_cast<std::size_t>(N) * c);
  D.g.resize(static_cast<std::size_t>(N) * c);
  D.dominant.assign(N, -1);
  D.wdiff.assign(static_cast<std::size_t>(N) * h, 0.0);
  for (int n = 0; n < N; ++n) {
    const double* pn = D.p.data() + static_cast<std::size_t>(n) * c;
    const double* tn = pr.targets + static_cast<std::size_t>(n) * c;
    for (int k = 0; k < c; ++k) {
      double others = 0, other_targets = 0;
      for (int l = 0; l < c; ++l)
        if (l != k) {
          others += pn[l];
          other_targets += tn[l];
        }
      const bool big = pn[k] > 0.5;
      if (big) D.dominant[n] = k;
      D.omp[static_cast<std::size_t>(n) * c + k] = big ? others : 1 - pn[k];
      // p - t = (1 - t) - (1 - p): exact small terms when both are near 1.
      D.g[static_cast<std::size_t>(n) * c + k] = (big && tn[k] > 0.5) ? other_targets - others : pn[k] - tn[k];
    }
    const int r = D.dominant[n];
    if (r < 0) continue;
    double* wd = D.wdiff.data() + static_cast<std::size_t>(n) * h;
    const double* w2r = D.w2 + static_cast<std::size_t>(r) * h;
    for (int k = 0; k < c; ++k) {
      if (k == r) continue;
      const double* w2k = D.w2 + static_cast<std::size_t>(k) * h;
      for (int j = 0; j < h; ++j) wd[j] += pn[k] * (w2r[j] - w2k[j]);
    }
  }
}

}  // namespace

HiddenLayerData hidden_layer_data(const Problem& pr, const ForwardCache& cache) {
  HiddenLayerData D;
  const NetSpec& net = pr.net;
  D.N = pr.samples;
  D.d = net.sizes[0];
  D.h = net.sizes[1];
  D.c = net.sizes[2];
  D.d1 = D.d + (net.has_bias[0] ? 1 : 0);
  D.h1 = D.h + (net.has_bias[1] ? 1 : 0);
  D.w2 = pr.weight(1);
  const std::size_t N = D.N, h = D.h, c = D.c;

  D.xt.assign(N * D.d1, 1.0);
  D.zt.assign(N * D.h1, 1.0);
  for (std::size_t n = 0; n < N; ++n) {
    std::copy(pr.x + n * D.d, pr.x + (n + 1) * D.d, D.xt.begin() + n * D.d1);
    std::copy(cache.post[0].begin() + n * h, cache.post[0].begin() + (n + 1) * h, D.zt.begin() + n * D.h1);
  }
  D.s.assign(cache.d1[0].begin(), cache.d1[0].end());
  D.p.assign(cache.probs.begin(), cache.probs.end());
  D.q.resize(N * c);
  for (std::size_t i = 0; i < N * c; ++i) D.q[i] = std::sqrt(D.p[i]);
  saturation_safe_terms(pr, D);
  // W2^T p and W2^T g for all samples at once.
  D.w2p.resize(N * h);
  gemm(false, false, D.N, D.h, D.c, 1.0, D.p.data(), D.c, D.w2, D.h, 0.0, D.w2p.data(), D.h);
  D.has_e = has_second_derivative(pr.net.activation);
  D.e.resize(N * h);
  gemm(false, false, D.N, D.h, D.c, 1.0, D.g.data(), D.c, D.w2, D.h, 0.0, D.e.data(), D.h);
  for (std::size_t i = 0; i < N * h; ++i) D.e[i] *= cache.d2[0][i];

  D.colnorm.assign(N * h, 0.0);
  D.xnorm2.resize(N);
  D.znorm2.resize(N);
  for (int n = 0; n < D.N; ++n) {
    double* cn = D.colnorm.data() + static_cast<std::size_t>(n) * h;
    for (int r = 0; r < D.c; ++r)
      for (int j = 0; j < D.h; ++j) {
        const double v = D.f(n, r, j);
        cn[j] += v * v;
      }
    D.xnorm2[n] = dot(D.d1, D.xt.data() + static_cast<std::size_t>(n) * D.d1, D.xt.data() + static_cast<std::size_t>(n) * D.d1);
    D.znorm2[n] = dot(D.h1, D.zt.data() + static_cast<std::size_t>(n) * D.h1, D.zt.data() + static_cast<std::size_t>(n) * D.h1);
  }
  return D;
}

TraceTerms TraceTerms::scaled(double w) const {
  TraceTerms t = *this;
  for (double* v : {&t.output_trace, &t.hidden_gn_trace, &t.hidden_residual_trace}) *v *= w;
  for (double* v : {&t.output_square, &t.hidden_gn_square, &t.hidden_residual_square, &t.hidden_mixed,
                    &t.cross_gn_square, &t.cross_residual_square, &t.cross_mixed})
    *v *= w * w;
  return t;
}

void add_trace_terms(const HiddenLayerData& D, TraceTerms& t) {
  // tr(A_n) = sum_k p_k (1 - p_k), tr(M^T A M) = ||F_n||^2 = sum_j D_nj, tr diag(e_n) = sum_j e_nj.
  for (int n = 0; n < D.N; ++n) {
    const double* cn = D.colnorm.data() + static_cast<std::size_t>(n) * D.h;
    const double* en = D.e.data() + static_cast<std::size_t>(n) * D.h;
    double ta = 0, gn = 0, res = 0;
    for (int k = 0; k < D.c; ++k) ta += D.amat(n, k, k);
    for (int j = 0; j < D.h; ++j) {
      gn += cn[j];
      res += en[j];
    }
    t.output_trace += ta * D.znorm2[n];
    t.hidden_gn_trace += gn * D.xnorm2[n];
    t.hidden_residual_trace += res * D.xnorm2[n];
  }
}

double diagonal_hidden_cross_square(const HiddenLayerData& D) {
  const int c = D.c, h = D.h;
  std::vector<double> F(static_cast<std::size_t>(c) * h), FF(static_cast<std::size_t>(c) * c);
  double total = 0;
  for (int n = 0; n < D.N; ++n) {
    D.fill_f(n, F.data());
    gemm(false, true, c, c, h, 1.0, F.data(), h, F.data(), h, 0.0, FF.data(), c);
    const double ff = dot(c * c, FF.data(), FF.data());  // ||F_n F_n^T||^2 = tr((M^T A M)^2)
    const double* cn = D.colnorm.data() + static_cast<std::size_t>(n) * h;
    const double* en = D.e.data() + static_cast<std::size_t>(n) * h;
    const double* sn = D.s.data() + static_cast<std::size_t>(n) * h;
    const double* zn = D.zt.data() + static_cast<std::size_t>(n) * D.h1;
    const double* gv = D.g.data() + static_cast<std::size_t>(n) * c;
    const double tr_bb = ff + 2 * dot(h, cn, en) + dot(h, en, en);
    double cc = 0, uv = 0;
    for (int k = 0; k < c; ++k)
      for (int j = 0; j < h; ++j) {
        const double ckj = D.cmat(n, k, j);
        cc += ckj * ckj;
        uv += ckj * zn[j] * gv[k] * sn[j];
      }
    const double cross = cc * D.znorm2[n] + 2 * uv + dot(c, gv, gv) * dot(h, sn, sn);
    const double kx = D.xnorm2[n];
    total += kx * kx * tr_bb + 2 * kx * cross;
  }
  return total;
}

CosineSummary input_cosines(const double* x, int N, int d) {
  CosineSummary out;
  std::vector<double> inv(N);
  for (int n = 0; n < N; ++n) {
    const double nn = norm2(d, x + static_cast<std::size_t>(n) * d);
    inv[n] = nn > 0 ? 1.0 / nn : 0.0;  // a zero input is orthogonal to everything
  }
  const int tile = std::min(N, 512);
  std::vector<double> K(static_cast<std::size_t>(tile) * tile);
  double sum = 0;
  for (int n0 = 0; n0 < N; n0 += tile) {
    const int bn = std::min(tile, N - n0);
    for (int m0 = n0; m0 < N; m0 += tile) {
      const int bm = std::min(tile, N - m0);
      gemm(false, true, bn, bm, d, 1.0, x + static_cast<std::size_t>(n0) * d, d, x + static_cast<std::size_t>(m0) * d,
           d, 0.0, K.data(), bm);
      for (int i = 0; i < bn; ++i)
        for (int j = (m0 == n0 ? i + 1 : 0); j < bm; ++j) {
          // Clamped: rounding can put a duplicate sample's cosine a hair above 1.
          const double cosv = std::min(1.0, std::fabs(K[static_cast<std::size_t>(i) * bm + j] * inv[n0 + i] * inv[m0 + j]));
          sum += cosv;
          out.max_abs = std::max(out.max_abs, cosv);
        }
    }
  }
  out.pairs = 0.5 * static_cast<double>(N) * (N - 1);
  out.mean_abs = out.pairs > 0 ? sum / out.pairs : std::nan("");
  if (out.pairs == 0) out.max_abs = std::nan("");
  return out;
}

// Multiply-adds, counting the symmetric halves the implementations actually compute.
double dual_cost(int N, int d1, int h, int h1, int c, bool has_e) {
  const double pairs = 0.5 * N * static_cast<double>(N);
  const double per_pair = (0.5 * c * (c + 1) + 3.0 * c) * h  // Q_nm entries, gradient rows, <C_n, C_m>
                          + d1 + h1 + (has_e ? 4.0 : 1.0) * h + c + 0.5 * c * (c + 1)  // Kx, Kz, D.e, e.D, e.e, s.s, g.g, tr(A A)
                          + 10.0 * c * c;                        // O(c^2) work per pair once Q_nm is known
  return pairs * per_pair;
}

double primal_cost(int N, int d1, int h, int h1, int c, bool has_e) {
  auto packed = [](double n) { return 0.5 * n * (n + 1); };
  const double per_sample = packed(h) * packed(d1)         // G11
                            + packed(h) * c               // building M^T A M entries
                            + (has_e ? 2.0 * h * packed(d1) : 0.0)  // diagonal rows of G11, R11
                            + packed(c) * packed(h1)      // H22
                            + static_cast<double>(c) * h * h1 * d1  // G21
                            + 2.0 * c * h * d1;           // R21 and its overlap with G21
  return static_cast<double>(N) * per_sample;
}

bool primal_preferred(double cost_primal, double cost_dual) {
  // Measured (docs/closed-form.md section 4): per multiply-add the primal's GEMMs run faster than
  // the dual's tile passes, so the primal is chosen while its count is below twice the dual's.
  return cost_primal < 2.0 * cost_dual;
}

}  // namespace hessbound
