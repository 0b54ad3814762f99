// Exact tr(H) and tr(H^2) of a one-hidden-layer network without forming any P x P matrix
// (curvature.md sections 3-4; the derivation and costs are in docs/closed-form.md).
//
// Split used throughout: H = G + R with G = w sum_n J_n^T A_n J_n the Gauss-Newton matrix and R the
// residual, which has two parts: diag(e_n) (x) x~x~^T in the hidden block (the sigma'' term) and
// g_k [a == j] s_j x~_b in the cross block (the gradient term). The output block is all Gauss-Newton.
#pragma once
#include <cstddef>
#include <vector>

#include "model/network.hpp"
#include "support/progress.hpp"

namespace hessbound {

// Per-sample quantities of a one-hidden-layer network, unscaled (g = p - t, not w (p - t)).
//
// Trained networks saturate the softmax (p_k -> 1), where 1 - p_k, p_k - t_k and W2_k - W2^T p
// computed by subtraction lose all their digits; they are formed here from the small terms instead.
struct HiddenLayerData {
  int N = 0, d = 0, h = 0, c = 0;
  int d1 = 0, h1 = 0;           // d + bias1, h + bias2: widths of x~ and z~
  std::vector<double> xt;       // N x d1, x~ = [x; 1] when layer 1 has a bias
  std::vector<double> zt;       // N x h1, z~ = [z; 1] when layer 2 has a bias
  std::vector<double> s, e;     // N x h: sigma'(u) and e = sigma''(u) * (W2^T g)
  bool has_e = true;            // false when sigma'' = 0 (piecewise linear): e = 0, its terms are skipped
  std::vector<double> w2p;      // N x h: W2^T p
  std::vector<double> colnorm;  // N x h: D_nj = ||F_n[:, j]||^2 = (M_n^T A_n M_n)_jj
  std::vector<double> p, q, g;  // N x c: softmax, sqrt(p), p - t
  std::vector<double> omp;      // N x c: 1 - p, as the sum of the other probabilities when p > 1/2
  std::vector<int> dominant;    // N: the class with p > 1/2, or -1
  std::vector<double> wdiff;    // N x h: W2_r - W2^T p for r = dominant, as sum_{k != r} p_k (W2_r - W2_k)
  std::vector<double> xnorm2, znorm2;  // |x~_n|^2, |z~_n|^2
  const double* w2 = nullptr;   // c x h (layer-2 weights without the bias column)

  // (W2_r - W2^T p_n)_j, accurate also for the dominant class. (Inline: the tiles call it per entry.)
  double w2diff(int n, int r, int j) const {
    const std::size_t nh = static_cast<std::size_t>(n) * h + j;
    return r == dominant[n] ? wdiff[nh] : w2[static_cast<std::size_t>(r) * h + j] - w2p[nh];
  }
  // Row r of F_n = R_n^T W2 diag(s_n), A_n = R_n R_n^T: f_nr = sqrt(p_r) (W2_r - W2^T p) * s.
  double f(int n, int r, int j) const { return q[static_cast<std::size_t>(n) * c + r] * w2diff(n, r, j) * s[static_cast<std::size_t>(n) * h + j]; }
  // C_n = A_n W2 diag(s_n) = diag(sqrt p_n) F_n, entry (k, j).
  double cmat(int n, int k, int j) const { return p[static_cast<std::size_t>(n) * c + k] * w2diff(n, k, j) * s[static_cast<std::size_t>(n) * h + j]; }
  // A_n[k, l] = p_k [k == l] - p_k p_l, with p_k (1 - p_k) on the diagonal.
  double amat(int n, int k, int l) const;
  // F_n or C_n (c x h, row-major) into out.
  void fill_f(int n, double* out) const;
  void fill_c(int n, double* out) const;
};

HiddenLayerData hidden_layer_data(const Problem& problem, const ForwardCache& cache);

// Every piece of tr(H) and tr(H^2), unscaled: multiply traces by w and squares by w^2.
// Blocks: 22 = output (layer 2), 11 = hidden (layer 1), 21 = cross.
struct TraceTerms {
  double output_trace = 0;             // tr H22 (all Gauss-Newton)
  double hidden_gn_trace = 0;          // tr G11
  double hidden_residual_trace = 0;    // tr R11 (the cross block has no diagonal)
  double output_square = 0;            // ||H22||_F^2
  double hidden_gn_square = 0;         // ||G11||_F^2
  double hidden_residual_square = 0;   // ||R11||_F^2
  double hidden_mixed = 0;             // <G11, R11>_F
  double cross_gn_square = 0;          // ||G21||_F^2
  double cross_residual_square = 0;    // ||R21||_F^2
  double cross_mixed = 0;              // <G21, R21>_F

  double hidden_square() const { return hidden_gn_square + 2 * hidden_mixed + hidden_residual_square; }
  double cross_square() const { return cross_gn_square + 2 * cross_mixed + cross_residual_square; }
  double trace() const { return output_trace + hidden_gn_trace + hidden_residual_trace; }
  // tr(H^2) = ||H22||^2 + ||H11||^2 + 2 ||H21||^2 (H21 appears above and below the diagonal).
  double trace_of_square() const { return output_square + hidden_square() + 2 * cross_square(); }
  double gn_trace() const { return output_trace + hidden_gn_trace; }
  double gn_square() const { return output_square + hidden_gn_square + 2 * cross_gn_square; }
  double residual_square() const { return hidden_residual_square + 2 * cross_residual_square; }
  double mixed() const { return 2 * hidden_mixed + 4 * cross_mixed; }  // 2 <G, R>_F
  TraceTerms scaled(double w) const;
};

// The O(N) diagonal parts: tr H22, tr G11, tr R11 (both evaluations share them).
void add_trace_terms(const HiddenLayerData& data, TraceTerms& terms);

// tr(H^2) terms by sample Gram matrices, O(N^2 c^2 h), in tiles of samples (memory ~ work_bytes per
// thread). The tiles run on `threads` of the kernel's threads (sample_chunks.hpp), each tile's GEMMs
// single-threaded, and their sums are added in a fixed order: bit-identical for any thread count.
void dual_square_terms(const HiddenLayerData& data, TraceTerms& terms, std::size_t work_bytes,
                       const Progress& progress = {}, int threads = 1);

// The same tiles, a range at a time, for a point split over machines (docs/distributed.md): the sums
// of tiles first .. first+count-1 (in the tile order of dual_square_terms), each from the same
// per-tile code. Whoever adds all tiles' sums in tile order, starting from zero, gets the bits of
// dual_square_terms (add_tile_sums is that loop). Throws BAD_OPTION for a range outside the tiles.
std::vector<TraceTerms> dual_tile_sums(const HiddenLayerData& data, std::size_t work_bytes, int first, int count,
                                       const Progress& progress = {}, int threads = 1);
void add_tile_sums(TraceTerms& terms, const std::vector<TraceTerms>& tiles);

// How the dual evaluation splits N samples: tile side, number of tiles, threads it would use.
struct DualPlan {
  int tile = 1;
  double tiles = 0;
  int threads = 1;
};
DualPlan dual_plan(int N, int c, int h, std::size_t work_bytes, int threads);

// tr(H^2) terms by accumulating the Kronecker blocks in panels, O(N (h^2 d^2 + c h^2 d + c^2 h^2)).
// The panel blocks run on `threads` of the kernel's threads, their sums added in block order
// (panel_product.hpp): bit-identical for any thread count.
void primal_square_terms(const HiddenLayerData& data, TraceTerms& terms, std::size_t work_bytes,
                         const Progress& progress = {}, int threads = 1);

// Multiply-add counts of the two evaluations, used to pick the cheaper one.
// has_e = false (sigma'' = 0) drops the passes over e = sigma''(u) * (W2^T g).
double dual_cost(int N, int d1, int h, int h1, int c, bool has_e = true);
double primal_cost(int N, int d1, int h, int h1, int c, bool has_e = true);
// The choice between them (method auto): the primal while its count is below twice the dual's.
bool primal_preferred(double cost_primal, double cost_dual);

// sum_n of the n = m terms of the hidden and cross parts of tr(H^2) (unscaled): what those blocks
// would contribute if the inputs x~ were mutually orthogonal (Kx off the diagonal set to 0).
double diagonal_hidden_cross_square(const HiddenLayerData& data);

// Cosines between distinct samples' raw inputs x (no bias coordinate); zero inputs count as orthogonal.
struct CosineSummary {
  double mean_abs = 0, max_abs = 0;
  double pairs = 0;  // N (N - 1) / 2
};
CosineSummary input_cosines(const double* x, int N, int d);

}  // namespace hessbound
