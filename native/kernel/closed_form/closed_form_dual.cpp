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
#include <string>

#include "linalg/blas.hpp"
#include "closed_form/closed_form.hpp"
#include "closed_form/dual_rows.hpp"
#include "linalg/panel_product.hpp"
#include "model/sample_chunks.hpp"
#include "support/errors.hpp"

namespace hessbound {
namespace {

// out (bn x bm, row stride ld) = A[n0 .. n0+bn) B[m0 .. m0+bm)^T for row-major A, B with `width` columns.
void cross_gram(const double* a, const double* b, int width, int n0, int bn, int m0, int bm, double* out, int ld) {
  gemm(false, true, bn, bm, width, 1.0, a + static_cast<std::size_t>(n0) * width, width,
       b + static_cast<std::size_t>(m0) * width, width, 0.0, out, ld);
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
    // e_d - p_n for the dominant class d, from its small entries (1 - p_d as the sum of the others);
    // zero for samples without one.
    saturated.assign(static_cast<std::size_t>(D.N) * c, 0.0);
    dominant.assign(D.N, -1.0);
    for (int n = 0; n < D.N; ++n) {
      const int d = D.dominant[n];
      if (d < 0) continue;
      dominant[n] = d;
      const std::size_t nc = static_cast<std::size_t>(n) * c;
      for (int t = 0; t < c; ++t) saturated[nc + t] = t == d ? D.omp[nc + t] : -D.p[nc + t];
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
  // and gradient rows); the Q products' operands and output. (The rule of the former row groups of
  // kRowGroup samples, an upper bound of today's scratch: kept so tile sizes, hence results and
  // plans, do not change.)
  static int tile_for(std::size_t work_bytes, int c, int h, int N) {
    const int rows = c * (c + 1) / 2 + c;
    const double budget = static_cast<double>(work_bytes) / 8;
    const double qa = c + 9, qb = 3.0 * c * h + kRowGroup * rows + 6.0 * c + 10, q0 = static_cast<double>(kRowGroup) * rows * h;
    const double room = std::max(0.0, budget - q0);
    const double bb = (-qb + std::sqrt(qb * qb + 4 * qa * room)) / (2 * qa);
    return static_cast<int>(std::clamp(std::floor(bb), 1.0, std::max(1.0, std::min<double>(N, 256))));
  }

  static constexpr int kRowGroup = 8;

  struct Tile {
    int n0, m0;
  };
  const HiddenLayerData& D;
  const int c, h, pairs, rows;
  int b = 1;
  std::vector<double> omega, apacked;
  std::vector<double> saturated, dominant;  // N x c: e_d - p_n; N: d as a double, -1 for none
  std::vector<Tile> tiles;
};

// One thread's scratch and the per-tile work.
class DualTiles {
 public:
  explicit DualTiles(const DualShared& shared)
      : S_(shared), D_(shared.D), c_(shared.c), h_(shared.h), pairs_(shared.pairs), rows_(shared.rows), b_(shared.b) {
    const int pw = dual_panel_width();
    ld_ = (b_ + pw - 1) / pw * pw;
    const std::size_t tile = b_, ld = ld_;
    left_.resize(static_cast<std::size_t>(rows_) * h_);
    packed_.resize(dual_packed_size(b_, h_));
    scratch_.resize(dual_row_scratch(c_, rows_));
    right_.resize(tile * c_ * h_);
    out2_.resize(tile * c_ * tile + ld);  // rows of c x bm; the last row's vectors read up to ld past it
    for (auto* v : {&kx_, &kz_, &de_, &ed_, &ee_, &gg_, &ss_, &aa_}) v->resize(tile * ld);
    for (auto* v : {&pmt_, &qmt_, &gmt_, &bmt_}) v->resize(static_cast<std::size_t>(c_) * ld);
    domt_.resize(ld);
    acc_.resize(7 * ld);
  }

  // The sums of tile (n0, m0) alone.
  TraceTerms tile(int n0, int m0) {
    const int N = D_.N;
    const int bn = std::min(b_, N - n0), bm = std::min(b_, N - m0);
    TraceTerms t;
    accumulate(n0, bn, m0, bm, t);
    return t;
  }

 private:
  const double* row(const std::vector<double>& a, int n) const { return a.data() + static_cast<std::size_t>(n) * h_; }

  // For sample n, rows_ rows of length h: s_n * W2_r * W2_r' (r <= r'), then the gradient rows.
  // (Refilled per tile: rows_ h multiplies a row against the row's bm rows_ h in its products.)
  void fill_left(int n) {
    const double* sn = row(D_.s, n);
    double* out = left_.data();
    for (int rho = 0; rho < pairs_; ++rho, out += h_) {
      const double* w = S_.omega.data() + static_cast<std::size_t>(rho) * h_;
      for (int j = 0; j < h_; ++j) out[j] = sn[j] * w[j];
    }
    for (int k = 0; k < c_; ++k, out += h_) gradient_row(n, k, out);
  }

  // s_n z_n (W2_k - W2^T p_n): against s_m it gives sum_j C_n[k,j] z_nj s_mj / p_nk.
  void gradient_row(int n, int k, double* out) const {
    const double* sn = row(D_.s, n);
    const double* zn = D_.zt.data() + static_cast<std::size_t>(n) * D_.h1;
    for (int j = 0; j < h_; ++j) out[j] = sn[j] * zn[j] * D_.w2diff(n, k, j);
  }

  // Gradient rows of samples m0 .. m0+bm ordered (k, m), so each k gives a contiguous row of out2.
  void fill_right(int m0, int bm) {
    for (int j = 0; j < bm; ++j)
      for (int k = 0; k < c_; ++k) gradient_row(m0 + j, k, right_.data() + (static_cast<std::size_t>(k) * bm + j) * h_);
  }

  // out (c x bm, row stride ld_) = rows m0 .. m0+bm of an N x c array, transposed, so loops over m
  // are contiguous.
  void transpose_rows(const double* a, int m0, int bm, double* out) const {
    for (int j = 0; j < bm; ++j)
      for (int k = 0; k < c_; ++k) out[static_cast<std::size_t>(k) * ld_ + j] = a[static_cast<std::size_t>(m0 + j) * c_ + k];
  }

  void accumulate(int n0, int bn, int m0, int bm, TraceTerms& t) {
    const bool diagonal = n0 == m0;
    const double* S = D_.s.data();
    fill_right(m0, bm);
    gemm(false, true, bn, c_ * bm, h_, 1.0, S + static_cast<std::size_t>(n0) * h_, h_, right_.data(), h_, 0.0,
         out2_.data(), c_ * bm);
    cross_gram(D_.xt.data(), D_.xt.data(), D_.d1, n0, bn, m0, bm, kx_.data(), ld_);
    cross_gram(D_.zt.data(), D_.zt.data(), D_.h1, n0, bn, m0, bm, kz_.data(), ld_);
    cross_gram(S_.apacked.data(), S_.apacked.data(), pairs_, n0, bn, m0, bm, aa_.data(), ld_);
    if (D_.has_e) {  // otherwise e = 0 and de_, ed_, ee_ stay zero (zeroed when allocated)
      cross_gram(D_.colnorm.data(), D_.e.data(), h_, n0, bn, m0, bm, de_.data(), ld_);
      cross_gram(D_.e.data(), D_.colnorm.data(), h_, n0, bn, m0, bm, ed_.data(), ld_);
      cross_gram(D_.e.data(), D_.e.data(), h_, n0, bn, m0, bm, ee_.data(), ld_);
    }
    cross_gram(D_.g.data(), D_.g.data(), c_, n0, bn, m0, bm, gg_.data(), ld_);
    cross_gram(S, S, h_, n0, bn, m0, bm, ss_.data(), ld_);
    transpose_rows(D_.p.data(), m0, bm, pmt_.data());
    transpose_rows(D_.q.data(), m0, bm, qmt_.data());
    transpose_rows(D_.g.data(), m0, bm, gmt_.data());
    transpose_rows(S_.saturated.data(), m0, bm, bmt_.data());
    std::copy(S_.dominant.begin() + m0, S_.dominant.begin() + m0 + bm, domt_.begin());
    std::fill(domt_.begin() + bm, domt_.end(), -1.0);
    dual_pack_columns(S, h_, m0, bm, packed_.data());
    std::fill(acc_.begin(), acc_.end(), 0.0);
    DualRow w;
    w.c = c_, w.h = h_, w.pairs = pairs_, w.bm = bm, w.ld = ld_;
    w.left = left_.data(), w.packed = packed_.data(), w.scratch = scratch_.data(), w.acc = acc_.data();
    w.pmt = pmt_.data(), w.qmt = qmt_.data(), w.gmt = gmt_.data(), w.bmt = bmt_.data(), w.domt = domt_.data();
    for (int i = 0; i < bn; ++i) {
      // Every summand is symmetric in (n, m): off-diagonal pairs count twice, the diagonal once.
      const int n = n0 + i;
      fill_left(n);
      const std::size_t at = static_cast<std::size_t>(i) * ld_;
      w.j0 = diagonal ? i : 0;
      w.self = diagonal ? i : -1;
      w.pn = D_.p.data() + static_cast<std::size_t>(n) * c_;
      w.qn = D_.q.data() + static_cast<std::size_t>(n) * c_;
      w.gn = D_.g.data() + static_cast<std::size_t>(n) * c_;
      w.dom_n = D_.dominant[n];
      w.bn = S_.saturated.data() + static_cast<std::size_t>(n) * c_;
      w.o2 = out2_.data() + static_cast<std::size_t>(i) * c_ * bm;
      w.kx = kx_.data() + at, w.kz = kz_.data() + at, w.aa = aa_.data() + at, w.de = de_.data() + at;
      w.ed = ed_.data() + at, w.ee = ee_.data() + at, w.gg = gg_.data() + at;
      w.ss = ss_.data() + at;
      dual_row(w);
    }
    // The tile's sums, column by column in order.
    double* sums[7] = {&t.output_square, &t.hidden_gn_square, &t.hidden_mixed, &t.hidden_residual_square,
                       &t.cross_gn_square, &t.cross_mixed, &t.cross_residual_square};
    for (int k = 0; k < 7; ++k) {
      const double* a = acc_.data() + static_cast<std::size_t>(k) * ld_;
      for (int j = 0; j < bm; ++j) *sums[k] += a[j];
    }
  }

  const DualShared& S_;
  const HiddenLayerData& D_;
  const int c_, h_, pairs_, rows_, b_;
  int ld_ = 1;          // row stride of the arrays over a tile's columns: b_ rounded up to a panel
  std::vector<double> left_, packed_, scratch_, right_, out2_;
  std::vector<double> kx_, kz_, de_, ed_, ee_, gg_, ss_, aa_;  // tile x ld_
  std::vector<double> pmt_, qmt_, gmt_, bmt_;                  // c x ld_
  std::vector<double> domt_;                                   // ld_: the columns' dominant classes
  std::vector<double> acc_;                                         // 7 x ld_: column sums of the tile
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

// A range of the tiles dual_square_terms runs, by the same per-tile code (DualTiles::tile) on the
// same threads, each tile's sums kept apart for the caller to add in tile order.
std::vector<TraceTerms> dual_tile_sums(const HiddenLayerData& data, std::size_t work_bytes, int first, int count,
                                       const Progress& progress, int threads) {
  const DualShared shared(data, work_bytes);
  const int total = static_cast<int>(shared.tiles.size());
  if (first < 0 || count < 1 || first > total - count)
    fail("BAD_OPTION", "tiles " + std::to_string(first) + " .. " + std::to_string(first + count - 1) +
                           " are outside the " + std::to_string(total) + " tiles of this point");
  threads = std::max(1, std::min(threads, count));
  std::vector<TraceTerms> sums(count);
  std::atomic<int> next{0}, done{0};
  std::atomic<bool> stop{false};
  auto work = [&](int t) {
    try {
      DualTiles scratch(shared);
      for (int k; !stop.load(std::memory_order_relaxed) && (k = next.fetch_add(1)) < count;) {
        const auto& tile = shared.tiles[first + k];
        sums[k] = scratch.tile(tile.n0, tile.m0);
        const int finished = done.fetch_add(1) + 1;
        if (t == 0) report(progress, static_cast<double>(finished) / count);
      }
    } catch (...) {
      stop = true;
      throw;
    }
  };
  run_sample_threads(threads, work);
  check_cancelled();
  return sums;
}

void add_tile_sums(TraceTerms& terms, const std::vector<TraceTerms>& tiles) {
  for (const TraceTerms& t : tiles) add_terms(terms, t);
}

}  // namespace hessbound
