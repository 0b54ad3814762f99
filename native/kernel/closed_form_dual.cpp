// The Gram ("dual") evaluation of tr(H^2): every term is a double sum over sample pairs (n, m) of
// Gram-type entries, computed tile by tile (rows n, columns m >= n) so memory stays bounded
// whatever N is. The derivation is in docs/closed-form.md, section "Dual evaluation".
//
// The expensive part, ||F_n F_m^T||_F^2 with F_n F_m^T = R_n^T Q_nm R_m and Q_nm = W2 diag(s_n s_m) W2^T,
// needs the c(c+1)/2 distinct entries Q_nm[r,r'] = (s_n * W2_r * W2_r') . s_m for every pair: one GEMM
// per tile with inner dimension h. The rows that give the cross block's <G21, R21> ride along in it.
// Everything else is O(c^2) per pair once Q_nm is known, or a small Gram.
#include <algorithm>
#include <cmath>

#include "blas.hpp"
#include "closed_form.hpp"
#include "panel_product.hpp"

namespace hessbound {
namespace {

// out (bn x bm) = A[n0 .. n0+bn) B[m0 .. m0+bm)^T for row-major A, B with `width` columns.
void cross_gram(const double* a, const double* b, int width, int n0, int bn, int m0, int bm, double* out) {
  gemm(false, true, bn, bm, width, 1.0, a + static_cast<std::size_t>(n0) * width, width,
       b + static_cast<std::size_t>(m0) * width, width, 0.0, out, bm);
}

class DualTiles {
 public:
  DualTiles(const HiddenLayerData& data, std::size_t work_bytes)
      : D_(data), c_(data.c), h_(data.h), pairs_(c_ * (c_ + 1) / 2), rows_(pairs_ + c_) {
    b_ = tile_size(work_bytes);
    // Products of two rows of W2, one per class pair r <= r'.
    omega_.resize(static_cast<std::size_t>(pairs_) * h_);
    for (int r = 0, rho = 0; r < c_; ++r)
      for (int r2 = r; r2 < c_; ++r2, ++rho)
        for (int j = 0; j < h_; ++j)
          omega_[static_cast<std::size_t>(rho) * h_ + j] = D_.w2[static_cast<std::size_t>(r) * h_ + j] * D_.w2[static_cast<std::size_t>(r2) * h_ + j];
    // Packed vec(A_n) (sqrt 2 off the diagonal): tr(A_n A_m) as a Gram of non-negative-product terms.
    apacked_.resize(static_cast<std::size_t>(D_.N) * pairs_);
    for (int n = 0; n < D_.N; ++n) {
      PackedPairs pr(c_, 0);
      for (int rho = 0; rho < pairs_; ++rho, pr.next())
        apacked_[static_cast<std::size_t>(n) * pairs_ + rho] = D_.amat(n, pr.i(), pr.j()) * (pr.i() == pr.j() ? 1.0 : kSqrt2);
    }
    const std::size_t tile = b_;
    left_.resize(tile * rows_ * h_);
    right_.resize(tile * c_ * h_);
    cn_.resize(tile * c_ * h_);
    cm_.resize(tile * c_ * h_);
    out1_.resize(tile * rows_ * tile);
    out2_.resize(tile * c_ * tile);
    for (auto* v : {&kx_, &kz_, &de_, &ed_, &ee_, &gg_, &ss_, &aa_, &cc_}) v->resize(tile * tile);
    for (auto* v : {&pmt_, &qmt_, &a_, &v_}) v->resize(static_cast<std::size_t>(c_) * tile);
    y_.resize(static_cast<std::size_t>(c_) * c_ * tile);
    for (auto* v : {&ff_, &uv_, &vu_}) v->resize(tile);
  }

  void run(TraceTerms& t, const Progress& progress) {
    const int N = D_.N;
    const double tiles = std::ceil(static_cast<double>(N) / b_);
    const double total = 0.5 * tiles * (tiles + 1);
    double done = 0;
    for (int n0 = 0; n0 < N; n0 += b_) {
      const int bn = std::min(b_, N - n0);
      fill_left(n0, bn);
      fill_c_rows(n0, bn, cn_.data());
      for (int m0 = n0; m0 < N; m0 += b_) {
        const int bm = std::min(b_, N - m0);
        accumulate(n0, bn, m0, bm, t);
        report(progress, ++done / total);
      }
    }
  }

 private:
  // Largest tile of samples whose scratch fits in work_bytes (at least 1, at most 256: larger tiles
  // gain little GEMM speed and waste more on the diagonal tiles, whose GEMMs are computed in full).
  int tile_size(std::size_t work_bytes) const {
    const double budget = static_cast<double>(work_bytes) / 8;
    const double qa = rows_ + c_ + 9, qb = (rows_ + 3.0 * c_) * h_;  // qa b^2 + qb b <= budget
    const double b = (-qb + std::sqrt(qb * qb + 4 * qa * budget)) / (2 * qa);
    return static_cast<int>(std::clamp(std::floor(b), 1.0, std::min<double>(D_.N, 256)));
  }

  const double* row(const std::vector<double>& a, int n) const { return a.data() + static_cast<std::size_t>(n) * h_; }

  // Per sample n, rows_ rows of length h: s_n * W2_r * W2_r' (r <= r'), then the gradient rows.
  void fill_left(int n0, int bn) {
    for (int i = 0; i < bn; ++i) {
      const int n = n0 + i;
      const double* sn = row(D_.s, n);
      double* out = left_.data() + static_cast<std::size_t>(i) * rows_ * h_;
      for (int rho = 0; rho < pairs_; ++rho, out += h_) {
        const double* w = omega_.data() + static_cast<std::size_t>(rho) * h_;
        for (int j = 0; j < h_; ++j) out[j] = sn[j] * w[j];
      }
      for (int k = 0; k < c_; ++k, out += h_) gradient_row(n, k, out);
    }
  }

  // s_n z_n (W2_k - W2^T p_n): against s_m it gives sum_j C_n[k,j] z_nj s_mj / p_nk.
  void gradient_row(int n, int k, double* out) const {
    const double* sn = row(D_.s, n);
    const double* zn = D_.zt.data() + static_cast<std::size_t>(n) * D_.h1;
    for (int j = 0; j < h_; ++j) out[j] = sn[j] * zn[j] * D_.w2diff(n, k, j);
  }

  // Rows of C_n flattened (c h per sample), for <C_n, C_m>.
  void fill_c_rows(int n0, int b, double* out) const {
    for (int i = 0; i < b; ++i) D_.fill_c(n0 + i, out + static_cast<std::size_t>(i) * c_ * h_);
  }

  // Gradient rows of samples m0 .. m0+bm ordered (k, m), so each k gives a contiguous row of out2.
  void fill_right(int m0, int bm) {
    for (int j = 0; j < bm; ++j)
      for (int k = 0; k < c_; ++k) gradient_row(m0 + j, k, right_.data() + (static_cast<std::size_t>(k) * bm + j) * h_);
  }

  // out (c x bm) = rows m0 .. m0+bm of an N x c array, transposed, so loops over m are contiguous.
  void transpose_rows(const double* a, int m0, int bm, double* out) const {
    for (int j = 0; j < bm; ++j)
      for (int k = 0; k < c_; ++k) out[static_cast<std::size_t>(k) * bm + j] = a[static_cast<std::size_t>(m0 + j) * c_ + k];
  }

  void accumulate(int n0, int bn, int m0, int bm, TraceTerms& t) {
    const bool diagonal = n0 == m0;
    const double* S = D_.s.data();
    gemm(false, true, bn * rows_, bm, h_, 1.0, left_.data(), h_, S + static_cast<std::size_t>(m0) * h_, h_, 0.0,
         out1_.data(), bm);
    fill_right(m0, bm);
    gemm(false, true, bn, c_ * bm, h_, 1.0, S + static_cast<std::size_t>(n0) * h_, h_, right_.data(), h_, 0.0,
         out2_.data(), c_ * bm);
    if (!diagonal) fill_c_rows(m0, bm, cm_.data());
    const double* cm = diagonal ? cn_.data() : cm_.data();
    gemm(false, true, bn, bm, c_ * h_, 1.0, cn_.data(), c_ * h_, cm, c_ * h_, 0.0, cc_.data(), bm);
    cross_gram(D_.xt.data(), D_.xt.data(), D_.d1, n0, bn, m0, bm, kx_.data());
    cross_gram(D_.zt.data(), D_.zt.data(), D_.h1, n0, bn, m0, bm, kz_.data());
    cross_gram(apacked_.data(), apacked_.data(), pairs_, n0, bn, m0, bm, aa_.data());
    if (D_.has_e) {  // otherwise e = 0 and de_, ed_, ee_ stay zero (filled once in the constructor)
      cross_gram(D_.colnorm.data(), D_.e.data(), h_, n0, bn, m0, bm, de_.data());
      cross_gram(D_.e.data(), D_.colnorm.data(), h_, n0, bn, m0, bm, ed_.data());
      cross_gram(D_.e.data(), D_.e.data(), h_, n0, bn, m0, bm, ee_.data());
    }
    cross_gram(D_.g.data(), D_.g.data(), c_, n0, bn, m0, bm, gg_.data());
    cross_gram(S, S, h_, n0, bn, m0, bm, ss_.data());
    transpose_rows(D_.p.data(), m0, bm, pmt_.data());
    transpose_rows(D_.q.data(), m0, bm, qmt_.data());
    for (int i = 0; i < bn; ++i) {
      // Every summand is symmetric in (n, m): off-diagonal pairs count twice, the diagonal once.
      const int j0 = diagonal ? i : 0;
      hidden_gauss_newton_row(n0 + i, i, j0, bm);
      gradient_overlap_row(n0 + i, i, m0, j0, bm);
      for (int j = j0; j < bm; ++j) {
        const std::size_t ij = static_cast<std::size_t>(i) * bm + j;
        const double weight = (diagonal && i == j) ? 1.0 : 2.0;
        const double kx = kx_[ij], kz = kz_[ij], kx2 = kx * kx;
        t.output_square += weight * aa_[ij] * kz * kz;
        t.hidden_gn_square += weight * ff_[j] * kx2;
        t.hidden_mixed += weight * 0.5 * (de_[ij] + ed_[ij]) * kx2;
        t.hidden_residual_square += weight * ee_[ij] * kx2;
        t.cross_gn_square += weight * cc_[ij] * kz * kx;
        t.cross_mixed += weight * 0.5 * (uv_[j] + vu_[j]) * kx;
        t.cross_residual_square += weight * gg_[ij] * ss_[ij] * kx;
      }
    }
  }

  // ff(n, m) = ||F_n F_m^T||_F^2 for tile row i and columns j0 .. bm, from X = R_n^T Q_nm R_m with
  // R = diag(q) - p q^T (q = sqrt p), evaluated in factored form so no large terms cancel:
  //   a = Q p_m,  Y = Q R_m: Y_rs = q_ms (Q_rs - a_r),  v = Y^T p_n,  X_rs = q_nr (Y_rs - v_s).
  // (Expanding tr(A_n Q A_m Q) into four O(|Q|^2) terms instead loses every digit once the
  // softmax saturates.) Loops run over m innermost, on contiguous rows, so they vectorise.
  void hidden_gauss_newton_row(int n, int i, int j0, int bm) {
    const double* pn = D_.p.data() + static_cast<std::size_t>(n) * c_;
    const double* qn = D_.q.data() + static_cast<std::size_t>(n) * c_;
    const double* o1 = out1_.data() + static_cast<std::size_t>(i) * rows_ * bm;
    auto vec = [bm](std::vector<double>& v, int r) { return v.data() + static_cast<std::size_t>(r) * bm; };
    auto q_entry = [&](int r, int s) {  // row of Q_nm[r][s] over m, from the packed upper triangle
      const int lo = std::min(r, s), hi = std::max(r, s);
      return o1 + static_cast<std::size_t>(lo * c_ - lo * (lo - 1) / 2 + (hi - lo)) * bm;
    };
    std::fill(a_.begin(), a_.end(), 0.0);
    std::fill(v_.begin(), v_.end(), 0.0);
    std::fill(ff_.begin() + j0, ff_.begin() + bm, 0.0);
    for (int r = 0; r < c_; ++r) {
      double* ar = vec(a_, r);
      for (int t = 0; t < c_; ++t) {
        const double* qrt = q_entry(r, t);
        const double* pmt = vec(pmt_, t);
        for (int j = j0; j < bm; ++j) ar[j] += qrt[j] * pmt[j];
      }
    }
    for (int r = 0; r < c_; ++r)
      for (int s = 0; s < c_; ++s) {
        const double* qrs = q_entry(r, s);
        const double *ar = vec(a_, r), *qms = vec(qmt_, s);
        double* y = y_.data() + static_cast<std::size_t>(r * c_ + s) * bm;
        double* vs = vec(v_, s);
        for (int j = j0; j < bm; ++j) {
          y[j] = qms[j] * (qrs[j] - ar[j]);
          vs[j] += pn[r] * y[j];
        }
      }
    for (int r = 0; r < c_; ++r)
      for (int s = 0; s < c_; ++s) {
        const double* y = y_.data() + static_cast<std::size_t>(r * c_ + s) * bm;
        const double* vs = vec(v_, s);
        for (int j = j0; j < bm; ++j) {
          const double x = qn[r] * (y[j] - vs[j]);
          ff_[j] += x * x;
        }
      }
  }

  // uv(n, m) = g_m^T C_n (z_n * s_m) and vu(n, m) = g_n^T C_m (z_m * s_n), the overlap of the cross
  // block's Gauss-Newton and residual parts; out1 and out2 hold sum_j (W2_k - W2^T p) z s s per k.
  void gradient_overlap_row(int n, int i, int m0, int j0, int bm) {
    const double* pn = D_.p.data() + static_cast<std::size_t>(n) * c_;
    const double* gn = D_.g.data() + static_cast<std::size_t>(n) * c_;
    const double* o1 = out1_.data() + (static_cast<std::size_t>(i) * rows_ + pairs_) * bm;
    const double* o2 = out2_.data() + static_cast<std::size_t>(i) * c_ * bm;
    const double* g = D_.g.data();
    for (int j = j0; j < bm; ++j) {
      const double* gm = g + static_cast<std::size_t>(m0 + j) * c_;
      double uv = 0, vu = 0;
      for (int k = 0; k < c_; ++k) {
        uv += gm[k] * pn[k] * o1[static_cast<std::size_t>(k) * bm + j];
        vu += gn[k] * pmt_[static_cast<std::size_t>(k) * bm + j] * o2[static_cast<std::size_t>(k) * bm + j];
      }
      uv_[j] = uv;
      vu_[j] = vu;
    }
  }

  const HiddenLayerData& D_;
  const int c_, h_, pairs_, rows_;
  int b_ = 1;
  std::vector<double> omega_, apacked_;
  std::vector<double> left_, right_, cn_, cm_, out1_, out2_;
  std::vector<double> kx_, kz_, de_, ed_, ee_, gg_, ss_, aa_, cc_;  // tile x tile
  std::vector<double> pmt_, qmt_, a_, v_, y_;                       // (c or c^2) x tile
  std::vector<double> ff_, uv_, vu_;                                // one tile row
};

}  // namespace

void dual_square_terms(const HiddenLayerData& data, TraceTerms& terms, std::size_t work_bytes,
                       const Progress& progress) {
  DualTiles(data, work_bytes).run(terms, progress);
}

}  // namespace hessbound
