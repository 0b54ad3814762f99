// The Gram ("dual") evaluation of tr(H^2): every term is a double sum over sample pairs (n, m) of
// Gram-type entries, computed tile by tile (rows n, columns m >= n) so memory stays bounded
// whatever N is. The derivation is in docs/closed-form.md, section "Dual evaluation".
//
// The expensive part, ||F_n F_m^T||_F^2 with F_n F_m^T = R_n^T Q_nm R_m and Q_nm = W2 diag(s_n s_m) W2^T,
// needs the c(c+1)/2 distinct entries Q_nm[r,r'] = (s_n * W2_r * W2_r') . s_m for every pair: one GEMM
// per tile with inner dimension h. The rows that give the cross block's <G21, R21> ride along in it.
// Everything else is O(c^2) per pair once Q_nm is known, or a small Gram.
//
// Threads: the tiles are numbered in a fixed order and taken from a shared counter by the kernel's
// own threads (sample_chunks.hpp), each with its own scratch and a single-threaded BLAS. Every
// tile sums its pairs into a TraceTerms of its own, and the tiles' sums are added in tile order at
// the end, so the result is bit-identical for any thread count (the tile size depends on work_bytes
// and the problem only, never on the threads).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>

#include "linalg/blas.hpp"
#include "closed_form/closed_form.hpp"
#include "linalg/panel_product.hpp"
#include "model/sample_chunks.hpp"

namespace hessbound {
namespace {

// out (bn x bm) = A[n0 .. n0+bn) B[m0 .. m0+bm)^T for row-major A, B with `width` columns.
void cross_gram(const double* a, const double* b, int width, int n0, int bn, int m0, int bm, double* out) {
  gemm(false, true, bn, bm, width, 1.0, a + static_cast<std::size_t>(n0) * width, width,
       b + static_cast<std::size_t>(m0) * width, width, 0.0, out, bm);
}

// The O(c^2)-per-pair loops run over m innermost on contiguous rows; natively on x86-64 they are
// compiled for AVX-512, AVX2 and the baseline, picked at load time (GCC target_clones), as the
// rest of the kernel is built for the baseline. Each clone does the same operations per element in
// the same order (no reductions across m), so only fused multiply-adds can change last bits between
// machines, never between thread counts on one machine.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__EMSCRIPTEN__)
#define HESSBOUND_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HESSBOUND_SIMD_CLONES
#endif

// ff(n, m) = ||F_n F_m^T||_F^2 for columns j0 .. bm of a tile row, from X = R_n^T Q_nm R_m with
// R = diag(q) - p q^T (q = sqrt p), evaluated in factored form so no large terms cancel:
//   a = Q p_m,  Y = Q R_m: Y_rs = q_ms (Q_rs - a_r),  v = Y^T p_n,  X_rs = q_nr (Y_rs - v_s).
// (Expanding tr(A_n Q A_m Q) into four O(|Q|^2) terms instead loses every digit once the
// softmax saturates.) o1 holds the packed upper triangle of Q_nm, one row of bm per entry; pmt and
// qmt are p_m and q_m transposed (c x bm); a and y are c x bm scratch, v one row. Column s of Y is
// formed, used and dropped before the next.
HESSBOUND_SIMD_CLONES
void gauss_newton_columns(int c, int j0, int bm, const double* o1, const double* pn, const double* qn, const double* pmt,
                          const double* qmt, double* a, double* v, double* y, double* ff) {
  auto row = [bm](const double* base, int r) { return base + static_cast<std::size_t>(r) * bm; };
  auto q_entry = [&](int r, int s) {
    const int lo = std::min(r, s), hi = std::max(r, s);
    return o1 + static_cast<std::size_t>(lo * c - lo * (lo - 1) / 2 + (hi - lo)) * bm;
  };
  for (int r = 0; r < c; ++r) {
    double* ar = a + static_cast<std::size_t>(r) * bm;
    for (int j = j0; j < bm; ++j) ar[j] = 0.0;
    for (int t = 0; t < c; ++t) {
      const double* qrt = q_entry(r, t);
      const double* pm = row(pmt, t);
      for (int j = j0; j < bm; ++j) ar[j] += qrt[j] * pm[j];
    }
  }
  for (int j = j0; j < bm; ++j) ff[j] = 0.0;
  for (int s = 0; s < c; ++s) {
    const double* qms = row(qmt, s);
    for (int j = j0; j < bm; ++j) v[j] = 0.0;
    for (int r = 0; r < c; ++r) {
      const double *qrs = q_entry(r, s), *ar = row(a, r);
      double* yr = y + static_cast<std::size_t>(r) * bm;
      const double pr = pn[r];
      for (int j = j0; j < bm; ++j) {
        yr[j] = qms[j] * (qrs[j] - ar[j]);
        v[j] += pr * yr[j];
      }
    }
    for (int r = 0; r < c; ++r) {
      const double* yr = row(y, r);
      const double qr = qn[r];
      for (int j = j0; j < bm; ++j) {
        const double x = qr * (yr[j] - v[j]);
        ff[j] += x * x;
      }
    }
  }
}

// uv(n, m) = g_m^T C_n (z_n * s_m) and vu(n, m) = g_n^T C_m (z_m * s_n) for columns j0 .. bm, the
// overlap of the cross block's Gauss-Newton and residual parts: o1 (rows k of the Q GEMM's gradient
// part) and o2 hold sum_j (W2_k - W2^T p) z s s per k; gmt and pmt are g_m and p_m transposed.
HESSBOUND_SIMD_CLONES
void gradient_overlap_columns(int c, int j0, int bm, const double* o1, const double* o2, const double* pn, const double* gn,
                              const double* gmt, const double* pmt, double* uv, double* vu) {
  for (int j = j0; j < bm; ++j) uv[j] = vu[j] = 0.0;
  for (int k = 0; k < c; ++k) {
    const std::size_t row = static_cast<std::size_t>(k) * bm;
    const double pk = pn[k], gk = gn[k];
    for (int j = j0; j < bm; ++j) {
      uv[j] += gmt[row + j] * pk * o1[row + j];
      vu[j] += gk * pmt[row + j] * o2[row + j];
    }
  }
}

// The per-pair summands of one tile row, added column by column into acc (7 rows of bm, one per
// TraceTerms square term), so the loop vectorises without reassociating any sum; the tile adds each
// row of acc up in column order at its end. Off-diagonal pairs count twice, the pair (n, n) once.
struct PairRow {
  const double *kx, *kz, *aa, *de, *ed, *ee, *cc, *gg, *ss;  // tile row i of the Grams
  const double *ff, *uv, *vu;                                // this row's O(c^2) results
};
HESSBOUND_SIMD_CLONES
void add_pair_row(const PairRow& r, int j0, int bm, int self, double* acc) {
  double *out = acc, *hgn = acc + bm, *hmix = acc + 2 * static_cast<std::size_t>(bm), *hres = acc + 3 * static_cast<std::size_t>(bm);
  double *cgn = acc + 4 * static_cast<std::size_t>(bm), *cmix = acc + 5 * static_cast<std::size_t>(bm), *cres = acc + 6 * static_cast<std::size_t>(bm);
  for (int j = j0; j < bm; ++j) {
    const double weight = j == self ? 1.0 : 2.0;
    const double kx = r.kx[j], kz = r.kz[j], kx2 = kx * kx;
    out[j] += weight * r.aa[j] * kz * kz;
    hgn[j] += weight * r.ff[j] * kx2;
    hmix[j] += weight * 0.5 * (r.de[j] + r.ed[j]) * kx2;
    hres[j] += weight * r.ee[j] * kx2;
    cgn[j] += weight * r.cc[j] * kz * kx;
    cmix[j] += weight * 0.5 * (r.uv[j] + r.vu[j]) * kx;
    cres[j] += weight * r.gg[j] * r.ss[j] * kx;
  }
}

// What every thread reads: W2 row products, packed vec(A_n), the tile size and the tile order.
struct DualShared {
  DualShared(const HiddenLayerData& data, std::size_t work_bytes)
      : D(data), c(data.c), h(data.h), pairs(c * (c + 1) / 2), rows(pairs + c) {
    b = tile_size(work_bytes);
    // Products of two rows of W2, one per class pair r <= r'.
    omega.resize(static_cast<std::size_t>(pairs) * h);
    for (int r = 0, rho = 0; r < c; ++r)
      for (int r2 = r; r2 < c; ++r2, ++rho)
        for (int j = 0; j < h; ++j)
          omega[static_cast<std::size_t>(rho) * h + j] = D.w2[static_cast<std::size_t>(r) * h + j] * D.w2[static_cast<std::size_t>(r2) * h + j];
    // Packed vec(A_n) (sqrt 2 off the diagonal): tr(A_n A_m) as a Gram of non-negative-product terms.
    apacked.resize(static_cast<std::size_t>(D.N) * pairs);
    for (int n = 0; n < D.N; ++n) {
      PackedPairs pr(c, 0);
      for (int rho = 0; rho < pairs; ++rho, pr.next())
        apacked[static_cast<std::size_t>(n) * pairs + rho] = D.amat(n, pr.i(), pr.j()) * (pr.i() == pr.j() ? 1.0 : kSqrt2);
    }
    // Upper triangle of tiles, row by row: the order the tiles' sums are added in.
    for (int n0 = 0; n0 < D.N; n0 += b)
      for (int m0 = n0; m0 < D.N; m0 += b) tiles.push_back({n0, m0});
  }

  // Largest tile of samples whose scratch (one thread's) fits in work_bytes (at least 1, at most
  // 256: larger tiles gain little GEMM speed and waste more on the diagonal tiles, whose GEMMs are
  // computed in full).
  int tile_size(std::size_t work_bytes) const {
    return tile_for(work_bytes, c, h, D.N);
  }

  // qa b^2 + qb b + q0 <= budget: tile x tile Grams and out2; c rows of length h per sample (C rows
  // and gradient rows); one row group's Q GEMM operand and output.
  static int tile_for(std::size_t work_bytes, int c, int h, int N) {
    const int rows = c * (c + 1) / 2 + c;
    const double budget = static_cast<double>(work_bytes) / 8;
    const double qa = c + 9, qb = 3.0 * c * h + kRowGroup * rows + 6.0 * c + 10, q0 = static_cast<double>(kRowGroup) * rows * h;
    const double room = std::max(0.0, budget - q0);
    const double bb = (-qb + std::sqrt(qb * qb + 4 * qa * room)) / (2 * qa);
    return static_cast<int>(std::clamp(std::floor(bb), 1.0, std::max(1.0, std::min<double>(N, 256))));
  }

  // Rows n of a tile whose Q_nm GEMM runs at once: its output (kRowGroup x rows x tile) stays in
  // the cache until the O(c^2) pass reads it.
  static constexpr int kRowGroup = 8;

  struct Tile {
    int n0, m0;
  };
  const HiddenLayerData& D;
  const int c, h, pairs, rows;
  int b = 1;
  std::vector<double> omega, apacked;
  std::vector<Tile> tiles;
};

// One thread's scratch and the per-tile work.
class DualTiles {
 public:
  explicit DualTiles(const DualShared& shared)
      : S_(shared), D_(shared.D), c_(shared.c), h_(shared.h), pairs_(shared.pairs), rows_(shared.rows), b_(shared.b) {
    const std::size_t tile = b_;
    left_.resize(static_cast<std::size_t>(DualShared::kRowGroup) * rows_ * h_);
    right_.resize(tile * c_ * h_);
    cn_.resize(tile * c_ * h_);
    cm_.resize(tile * c_ * h_);
    out1_.resize(static_cast<std::size_t>(DualShared::kRowGroup) * rows_ * tile);
    out2_.resize(tile * c_ * tile);
    for (auto* v : {&kx_, &kz_, &de_, &ed_, &ee_, &gg_, &ss_, &aa_, &cc_}) v->resize(tile * tile);
    for (auto* v : {&pmt_, &qmt_, &gmt_, &a_, &v_}) v->resize(static_cast<std::size_t>(c_) * tile);
    acc_.resize(7 * tile);
    y_.resize(static_cast<std::size_t>(c_) * tile);
    for (auto* v : {&ff_, &uv_, &vu_}) v->resize(tile);
  }

  // The sums of tile (n0, m0) alone.
  TraceTerms tile(int n0, int m0) {
    const int N = D_.N;
    const int bn = std::min(b_, N - n0), bm = std::min(b_, N - m0);
    if (n0 != filled_n0_) {
      fill_c_rows(n0, bn, cn_.data());
      filled_n0_ = n0;
    }
    TraceTerms t;
    accumulate(n0, bn, m0, bm, t);
    return t;
  }

 private:
  const double* row(const std::vector<double>& a, int n) const { return a.data() + static_cast<std::size_t>(n) * h_; }

  // Per sample n of a row group, rows_ rows of length h: s_n * W2_r * W2_r' (r <= r'), then the
  // gradient rows. (Refilled per tile: b rows_ h multiplies against the GEMM's b^2 rows_ h.)
  void fill_left(int n0, int bn) {
    for (int i = 0; i < bn; ++i) {
      const int n = n0 + i;
      const double* sn = row(D_.s, n);
      double* out = left_.data() + static_cast<std::size_t>(i) * rows_ * h_;
      for (int rho = 0; rho < pairs_; ++rho, out += h_) {
        const double* w = S_.omega.data() + static_cast<std::size_t>(rho) * h_;
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
    fill_right(m0, bm);
    gemm(false, true, bn, c_ * bm, h_, 1.0, S + static_cast<std::size_t>(n0) * h_, h_, right_.data(), h_, 0.0,
         out2_.data(), c_ * bm);
    if (!diagonal) fill_c_rows(m0, bm, cm_.data());
    const double* cm = diagonal ? cn_.data() : cm_.data();
    gemm(false, true, bn, bm, c_ * h_, 1.0, cn_.data(), c_ * h_, cm, c_ * h_, 0.0, cc_.data(), bm);
    cross_gram(D_.xt.data(), D_.xt.data(), D_.d1, n0, bn, m0, bm, kx_.data());
    cross_gram(D_.zt.data(), D_.zt.data(), D_.h1, n0, bn, m0, bm, kz_.data());
    cross_gram(S_.apacked.data(), S_.apacked.data(), pairs_, n0, bn, m0, bm, aa_.data());
    if (D_.has_e) {  // otherwise e = 0 and de_, ed_, ee_ stay zero (zeroed when allocated)
      cross_gram(D_.colnorm.data(), D_.e.data(), h_, n0, bn, m0, bm, de_.data());
      cross_gram(D_.e.data(), D_.colnorm.data(), h_, n0, bn, m0, bm, ed_.data());
      cross_gram(D_.e.data(), D_.e.data(), h_, n0, bn, m0, bm, ee_.data());
    }
    cross_gram(D_.g.data(), D_.g.data(), c_, n0, bn, m0, bm, gg_.data());
    cross_gram(S, S, h_, n0, bn, m0, bm, ss_.data());
    transpose_rows(D_.p.data(), m0, bm, pmt_.data());
    transpose_rows(D_.q.data(), m0, bm, qmt_.data());
    transpose_rows(D_.g.data(), m0, bm, gmt_.data());
    std::fill(acc_.begin(), acc_.begin() + 7 * static_cast<std::size_t>(bm), 0.0);
    for (int g0 = 0; g0 < bn; g0 += DualShared::kRowGroup) {
      const int gn = std::min(DualShared::kRowGroup, bn - g0);
      // Q_nm entries and gradient overlaps of rows g0 .. g0+gn against the tile's columns.
      fill_left(n0 + g0, gn);
      gemm(false, true, gn * rows_, bm, h_, 1.0, left_.data(), h_,
           S + static_cast<std::size_t>(m0) * h_, h_, 0.0, out1_.data(), bm);
      for (int i = g0; i < g0 + gn; ++i) {
        // Every summand is symmetric in (n, m): off-diagonal pairs count twice, the diagonal once.
        const int j0 = diagonal ? i : 0;
        const double* o1 = out1_.data() + static_cast<std::size_t>(i - g0) * rows_ * bm;
        hidden_gauss_newton_row(n0 + i, o1, j0, bm);
        const double* pn = D_.p.data() + static_cast<std::size_t>(n0 + i) * c_;
        const double* gn = D_.g.data() + static_cast<std::size_t>(n0 + i) * c_;
        gradient_overlap_columns(c_, j0, bm, o1 + static_cast<std::size_t>(pairs_) * bm, out2_.data() + static_cast<std::size_t>(i) * c_ * bm,
                                 pn, gn, gmt_.data(), pmt_.data(), uv_.data(), vu_.data());
        const std::size_t at = static_cast<std::size_t>(i) * bm;
        const PairRow row{kx_.data() + at, kz_.data() + at, aa_.data() + at, de_.data() + at, ed_.data() + at,
                          ee_.data() + at, cc_.data() + at, gg_.data() + at, ss_.data() + at, ff_.data(), uv_.data(), vu_.data()};
        add_pair_row(row, j0, bm, diagonal ? i : -1, acc_.data());
      }
    }
    // The tile's sums, column by column in order.
    double* sums[7] = {&t.output_square, &t.hidden_gn_square, &t.hidden_mixed, &t.hidden_residual_square,
                       &t.cross_gn_square, &t.cross_mixed, &t.cross_residual_square};
    for (int k = 0; k < 7; ++k) {
      const double* a = acc_.data() + static_cast<std::size_t>(k) * bm;
      for (int j = 0; j < bm; ++j) *sums[k] += a[j];
    }
  }

  // ff(n, m) = ||F_n F_m^T||_F^2 for columns j0 .. bm (gauss_newton_columns).
  void hidden_gauss_newton_row(int n, const double* o1, int j0, int bm) {
    gauss_newton_columns(c_, j0, bm, o1, D_.p.data() + static_cast<std::size_t>(n) * c_, D_.q.data() + static_cast<std::size_t>(n) * c_,
                         pmt_.data(), qmt_.data(), a_.data(), v_.data(), y_.data(), ff_.data());
  }

  const DualShared& S_;
  const HiddenLayerData& D_;
  const int c_, h_, pairs_, rows_, b_;
  int filled_n0_ = -1;  // the row block cn_ holds
  std::vector<double> left_, right_, cn_, cm_, out1_, out2_;
  std::vector<double> kx_, kz_, de_, ed_, ee_, gg_, ss_, aa_, cc_;  // tile x tile
  std::vector<double> pmt_, qmt_, gmt_, a_, v_, y_;                 // c x tile
  std::vector<double> acc_;                                         // 7 x tile: column sums of the tile
  std::vector<double> ff_, uv_, vu_;                                // one tile row
};

void add_terms(TraceTerms& into, const TraceTerms& t) {
  into.output_square += t.output_square;
  into.hidden_gn_square += t.hidden_gn_square;
  into.hidden_residual_square += t.hidden_residual_square;
  into.hidden_mixed += t.hidden_mixed;
  into.cross_gn_square += t.cross_gn_square;
  into.cross_residual_square += t.cross_residual_square;
  into.cross_mixed += t.cross_mixed;
}

}  // namespace

DualPlan dual_plan(int N, int c, int h, std::size_t work_bytes, int threads) {
  DualPlan plan;
  plan.tile = DualShared::tile_for(work_bytes, c, h, N);
  const double side = std::ceil(static_cast<double>(N) / plan.tile);
  plan.tiles = 0.5 * side * (side + 1);
  plan.threads = static_cast<int>(std::max(1.0, std::min<double>(threads, plan.tiles)));
  return plan;
}

void dual_square_terms(const HiddenLayerData& data, TraceTerms& terms, std::size_t work_bytes,
                       const Progress& progress, int threads) {
  const DualShared shared(data, work_bytes);
  const int count = static_cast<int>(shared.tiles.size());
  threads = std::max(1, std::min(threads, count));
  std::vector<TraceTerms> partial(count);  // 80 bytes a tile: 2 MB at N = 60,000
  std::atomic<int> next{0}, done{0};
  std::atomic<bool> stop{false};
  auto work = [&](int t) {
    try {
      DualTiles scratch(shared);
      for (int k; !stop.load(std::memory_order_relaxed) && (k = next.fetch_add(1)) < count;) {
        partial[k] = scratch.tile(shared.tiles[k].n0, shared.tiles[k].m0);
        const int finished = done.fetch_add(1) + 1;
        // Progress and cancellation on the calling thread, the one the binding's probe and
        // progress channel belong to; the other threads stop at their next tile.
        if (t == 0) report(progress, static_cast<double>(finished) / count);
      }
    } catch (...) {
      stop = true;
      throw;
    }
  };
  run_sample_threads(threads, work);
  check_cancelled();
  for (const TraceTerms& t : partial) add_terms(terms, t);
}

}  // namespace hessbound
