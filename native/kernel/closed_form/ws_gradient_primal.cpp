// Reverse mode of the block ("primal") evaluation of tr(H^2) (closed_form_primal.cpp; derivation in
// docs/hsr.md section 2b).
//
// Each Hessian block is Y = A^T B, A and B with one row per sample (packed symmetric factors carry
// sqrt(2) on off-diagonal columns, so packed norms are full norms). For J = (1/2) ||Y||_F^2,
//   Abar = B Y^T   and   Bbar = A Y,
// two more products of the size of Y = A^T B itself. The blocks are visited panel by panel (A's
// columns outer, B's inner) so that neither A, B, Y nor their adjoints exist whole; Abar of a panel
// is complete after the inner loop, Bbar of a block is used at once (it enters linearly).
//   (1/2) tr(H^2) = (1/2) ||H11||^2 + (1/2) ||H22||^2 + ||H21||^2 with
//   H11 = sum_n (K_n + diag e_n) (x) x~x~^T,  K_n = M_n^T A_n M_n = F_n^T F_n
//   H22 = sum_n A_n (x) z~z~^T
//   H21[(k, a), (j, b)] = sum_n u_n[k, a, j] x~_b,  u_n[k, a, j] = C_n[k, j] z~_a + [a == j] g_k s_j
// and the per-sample adjoints go to A, M, e, g, s, z exactly as in the pair (dual) form, so both share
// the backward pass to the parameters.
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "linalg/blas.hpp"
#include "support/errors.hpp"
#include "linalg/panel_product.hpp"
#include "closed_form/ws_gradient_parts.hpp"

namespace hessbound {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr std::size_t kMaxScratch = std::size_t{16} << 20;

using AdjointVisitor = std::function<void(std::size_t first, int count, const double* adjoint)>;

// Visits Y = A^T B panel by panel; calls onA(a0, na, B Y^T restricted to those columns) once per A
// panel and onB(b0, nb, A Y) once per block (either may be empty). Returns ||Y||_F^2.
double adjoint_blocks(int rows, const ColumnSource& a, const ColumnSource& b, std::size_t work_bytes,
                      const AdjointVisitor& onA, const AdjointVisitor& onB, const Progress& progress) {
  if (a.columns == 0 || b.columns == 0) return 0;
  // Scratch: A panel and its adjoint, B panel and its adjoint, Y: about work_bytes in all, and at
  // most kMaxScratch: fresh pages cost more (zeroing, page faults) than the extra panel passes save.
  const std::size_t doubles = std::max<std::size_t>(std::min(work_bytes, kMaxScratch) / 8, 64);
  const std::size_t R = static_cast<std::size_t>(rows);
  const std::size_t wb = std::max<std::size_t>(1, std::min<std::size_t>(b.columns, doubles / 4 / R));
  const std::size_t wa = std::max<std::size_t>(1, std::min<std::size_t>(a.columns, (doubles - std::min(doubles, 2 * R * wb)) / (2 * R + wb)));
  std::vector<double> pa(R * wa), abar(onA ? R * wa : 0), pb(R * wb), bbar(onB ? R * wb : 0), y(wa * wb);
  const bool b_whole = wb >= b.columns;
  if (b_whole) b.fill(0, static_cast<int>(b.columns), pb.data());
  const double blocks = std::ceil(static_cast<double>(a.columns) / wa) * std::ceil(static_cast<double>(b.columns) / wb);
  double done = 0, norm2 = 0;
  for (std::size_t a0 = 0; a0 < a.columns; a0 += wa) {
    const int na = static_cast<int>(std::min(wa, a.columns - a0));
    a.fill(a0, na, pa.data());
    if (onA) std::fill(abar.begin(), abar.begin() + R * na, 0.0);
    for (std::size_t b0 = 0; b0 < b.columns; b0 += wb) {
      const int nb = static_cast<int>(std::min(wb, b.columns - b0));
      if (!b_whole) b.fill(b0, nb, pb.data());
      gemm(true, false, na, nb, rows, 1.0, pa.data(), na, pb.data(), nb, 0.0, y.data(), nb);
      norm2 += dot(na * nb, y.data(), y.data());
      if (onA) gemm(false, true, rows, na, nb, 1.0, pb.data(), nb, y.data(), nb, 1.0, abar.data(), na);
      if (onB) {
        gemm(false, false, rows, nb, na, 1.0, pa.data(), na, y.data(), nb, 0.0, bbar.data(), nb);
        onB(b0, nb, bbar.data());
      }
      check_cancelled();
      report(progress, ++done / blocks);
    }
    if (onA) onA(a0, na, abar.data());
  }
  return norm2;
}

// Walks the H21 row columns (k, a, j), index (k h1 + a) h + j, from `first` without divisions.
struct CrossIndex {
  CrossIndex(std::size_t first, int h, int h1) : h_(h), h1_(h1) {
    j = static_cast<int>(first % h);
    const std::size_t ka = first / h;
    a = static_cast<int>(ka % h1);
    k = static_cast<int>(ka / h1);
  }
  void next() {
    if (++j < h_) return;
    j = 0;
    if (++a < h1_) return;
    a = 0;
    ++k;
  }
  int k = 0, a = 0, j = 0;

 private:
  int h_, h1_;
};

class PrimalAdjoint {
 public:
  PrimalAdjoint(const HiddenLayerData& D, const SampleMatrices& S, SampleAdjoints& a, std::size_t work)
      : D_(D), S_(S), a_(a), work_(work) {}

  double run(const Progress& progress) {
    const double N = D_.N;
    // Progress shares proportional to each block's multiply-adds.
    const double c11 = 2.0 * packed_size(D_.h) * packed_size(D_.d1);
    const double c22 = 3.0 * packed_size(D_.c) * packed_size(D_.h1);
    const double c21 = 2.0 * D_.c * D_.h1 * D_.h * D_.d1;
    const double all = (c11 + c22 + c21) * N;
    double at = 0;
    auto phase = [&](double cost) {
      const double from = at / all, to = (at += cost * N) / all;
      return progress ? Progress([=](double f) { progress(from + (to - from) * f); }) : Progress();
    };
    const double t11 = hidden(phase(c11));
    const double t22 = output(phase(c22));
    const double t21 = cross(phase(c21));
    return t11 + t22 + 2 * t21;
  }

 private:
  std::size_t ch(int n) const { return static_cast<std::size_t>(n) * D_.c * D_.h; }
  std::size_t cc(int n) const { return static_cast<std::size_t>(n) * D_.c * D_.c; }

  // H11: A rows are packed L_n = K_n + diag(e_n). Lbar = K̄ (symmetric), ebar = diag(Lbar);
  // K = M^T A M: Abar += M K̄ M^T, Mbar += 2 C K̄.
  double hidden(const Progress& progress) {
    const int c = D_.c, h = D_.h;
    ColumnSource a;
    a.columns = packed_size(h);
    a.fill = [this, c, h](std::size_t first, int count, double* out) {
      std::vector<double> F(static_cast<std::size_t>(c) * h), FT(F.size());
      for (int n = 0; n < D_.N; ++n) {
        D_.fill_f(n, F.data());
        for (int r = 0; r < c; ++r)
          for (int j = 0; j < h; ++j) FT[static_cast<std::size_t>(j) * c + r] = F[static_cast<std::size_t>(r) * h + j];
        const double* e = D_.e.data() + static_cast<std::size_t>(n) * h;
        double* o = out + static_cast<std::size_t>(n) * count;
        PackedPairs pair(h, first);
        for (int k = 0; k < count; ++k, pair.next()) {
          const int i = pair.i(), j = pair.j();
          const double v = dot(c, FT.data() + static_cast<std::size_t>(i) * c, FT.data() + static_cast<std::size_t>(j) * c);
          o[k] = i == j ? v + e[i] : kSqrt2 * v;
        }
      }
    };
    const ColumnSource b = packed_outer(D_.N, D_.d1, D_.xt.data());
    const AdjointVisitor onA = [this, c, h](std::size_t first, int count, const double* abar) {
      for (int n = 0; n < D_.N; ++n) {
        const double* M = S_.M.data() + ch(n);
        const double* C = S_.C.data() + ch(n);
        double* Ab = a_.A.data() + cc(n);
        double* Mb = a_.M.data() + ch(n);
        double* eb = a_.e.data() + static_cast<std::size_t>(n) * h;
        const double* row = abar + static_cast<std::size_t>(n) * count;
        PackedPairs pair(h, first);
        for (int k = 0; k < count; ++k, pair.next()) {
          const int i = pair.i(), j = pair.j();
          if (i == j) {
            const double v = row[k];
            eb[i] += v;
            for (int r = 0; r < c; ++r) {
              const double mri = M[static_cast<std::size_t>(r) * h + i];
              for (int l = 0; l < c; ++l) Ab[r * c + l] += v * mri * M[static_cast<std::size_t>(l) * h + i];
              Mb[static_cast<std::size_t>(r) * h + i] += 2 * v * C[static_cast<std::size_t>(r) * h + i];
            }
          } else {
            const double v = kInvSqrt2 * row[k];  // K̄_ij = K̄_ji
            for (int r = 0; r < c; ++r) {
              const double mri = M[static_cast<std::size_t>(r) * h + i], mrj = M[static_cast<std::size_t>(r) * h + j];
              for (int l = 0; l < c; ++l)
                Ab[r * c + l] += v * (mri * M[static_cast<std::size_t>(l) * h + j] + mrj * M[static_cast<std::size_t>(l) * h + i]);
              Mb[static_cast<std::size_t>(r) * h + i] += 2 * v * C[static_cast<std::size_t>(r) * h + j];
              Mb[static_cast<std::size_t>(r) * h + j] += 2 * v * C[static_cast<std::size_t>(r) * h + i];
            }
          }
        }
      }
    };
    return adjoint_blocks(D_.N, a, b, work_, onA, {}, progress);
  }

  // H22: A rows packed A_n, B rows packed z~z~^T; both depend on the parameters.
  double output(const Progress& progress) {
    const int c = D_.c, h = D_.h, h1 = D_.h1;
    ColumnSource a;
    a.columns = packed_size(c);
    a.fill = [this, c](std::size_t first, int count, double* out) {
      for (int n = 0; n < D_.N; ++n) {
        double* o = out + static_cast<std::size_t>(n) * count;
        PackedPairs pair(c, first);
        for (int k = 0; k < count; ++k, pair.next())
          o[k] = S_.A[cc(n) + static_cast<std::size_t>(pair.i()) * c + pair.j()] * (pair.i() == pair.j() ? 1.0 : kSqrt2);
      }
    };
    const ColumnSource b = packed_outer(D_.N, h1, D_.zt.data());
    const AdjointVisitor onA = [this, c](std::size_t first, int count, const double* abar) {
      for (int n = 0; n < D_.N; ++n) {
        double* Ab = a_.A.data() + cc(n);
        const double* row = abar + static_cast<std::size_t>(n) * count;
        PackedPairs pair(c, first);
        for (int k = 0; k < count; ++k, pair.next()) {
          const int i = pair.i(), j = pair.j();
          if (i == j) Ab[i * c + i] += row[k];
          else {
            Ab[i * c + j] += kInvSqrt2 * row[k];
            Ab[j * c + i] += kInvSqrt2 * row[k];
          }
        }
      }
    };
    // Column (i, j) is w z_i z_j (w = sqrt 2 off the diagonal); the bias coordinate z~_h is constant.
    const AdjointVisitor onB = [this, h, h1](std::size_t first, int count, const double* bbar) {
      for (int n = 0; n < D_.N; ++n) {
        const double* z = D_.zt.data() + static_cast<std::size_t>(n) * h1;
        double* zb = a_.z.data() + static_cast<std::size_t>(n) * h;
        const double* row = bbar + static_cast<std::size_t>(n) * count;
        PackedPairs pair(h1, first);
        for (int k = 0; k < count; ++k, pair.next()) {
          const int i = pair.i(), j = pair.j();
          const double v = row[k] * (i == j ? 1.0 : kSqrt2);
          if (i < h) zb[i] += v * z[j];
          if (j < h) zb[j] += v * z[i];
        }
      }
    };
    return adjoint_blocks(D_.N, a, b, work_, onA, onB, progress);
  }

  // H21: A rows u_n, columns (k, a, j) = (k h1 + a) h + j; B rows x~ (constant). J = ||H21||^2, so
  // ubar = 2 X Y^T; C̄ collects per sample and goes to A and M at the end (C = A M).
  double cross(const Progress& progress) {
    const int c = D_.c, h = D_.h, h1 = D_.h1, d1 = D_.d1;
    ColumnSource a;
    a.columns = static_cast<std::size_t>(c) * h1 * h;
    a.fill = [this, h, h1](std::size_t first, int count, double* out) {
      for (int n = 0; n < D_.N; ++n) {
        const double* C = S_.C.data() + ch(n);
        const double* z = D_.zt.data() + static_cast<std::size_t>(n) * h1;
        const double* s = D_.s.data() + static_cast<std::size_t>(n) * h;
        const double* g = D_.g.data() + static_cast<std::size_t>(n) * D_.c;
        double* o = out + static_cast<std::size_t>(n) * count;
        CrossIndex ix(first, h, h1);
        for (int t = 0; t < count; ++t, ix.next())
          o[t] = C[static_cast<std::size_t>(ix.k) * h + ix.j] * z[ix.a] + (ix.a == ix.j ? g[ix.k] * s[ix.j] : 0.0);
      }
    };
    ColumnSource b;
    b.columns = static_cast<std::size_t>(d1);
    b.fill = [this, d1](std::size_t first, int count, double* out) {
      for (int n = 0; n < D_.N; ++n)
        for (int t = 0; t < count; ++t)
          out[static_cast<std::size_t>(n) * count + t] = D_.xt[static_cast<std::size_t>(n) * d1 + first + t];
    };
    std::vector<double> Cbar(static_cast<std::size_t>(D_.N) * c * h, 0.0);
    const AdjointVisitor onA = [&, h, h1](std::size_t first, int count, const double* abar) {
      for (int n = 0; n < D_.N; ++n) {
        const double* C = S_.C.data() + ch(n);
        const double* z = D_.zt.data() + static_cast<std::size_t>(n) * h1;
        const double* s = D_.s.data() + static_cast<std::size_t>(n) * h;
        const double* g = D_.g.data() + static_cast<std::size_t>(n) * D_.c;
        double* Cb = Cbar.data() + ch(n);
        double* zb = a_.z.data() + static_cast<std::size_t>(n) * h;
        double* sb = a_.s.data() + static_cast<std::size_t>(n) * h;
        double* gb = a_.g.data() + static_cast<std::size_t>(n) * D_.c;
        const double* row = abar + static_cast<std::size_t>(n) * count;
        CrossIndex ix(first, h, h1);
        for (int t = 0; t < count; ++t, ix.next()) {
          const int j = ix.j, k = ix.k, aa = ix.a;
          const double u = 2 * row[t];
          const std::size_t kj = static_cast<std::size_t>(k) * h + j;
          Cb[kj] += u * z[aa];
          if (aa < h) zb[aa] += u * C[kj];
          if (aa == j) {
            gb[k] += u * s[j];
            sb[j] += u * g[k];
          }
        }
      }
    };
    const double norm2 = adjoint_blocks(D_.N, a, b, work_, onA, {}, progress);
    // C = A M: Abar += C̄ M^T, Mbar += A C̄.
    for (int n = 0; n < D_.N; ++n) {
      const double* M = S_.M.data() + ch(n);
      const double* A = S_.A.data() + cc(n);
      const double* Cb = Cbar.data() + ch(n);
      double* Ab = a_.A.data() + cc(n);
      double* Mb = a_.M.data() + ch(n);
      gemm(false, true, c, c, h, 1.0, Cb, h, M, h, 1.0, Ab, c);
      gemm(false, false, c, h, c, 1.0, A, c, Cb, h, 1.0, Mb, h);
    }
    return norm2;
  }

  const HiddenLayerData& D_;
  const SampleMatrices& S_;
  SampleAdjoints& a_;
  std::size_t work_;
};

}  // namespace

double primal_square_adjoints(const HiddenLayerData& D, const SampleMatrices& S, SampleAdjoints& a,
                              std::size_t work_bytes, const Progress& progress) {
  return PrimalAdjoint(D, S, a, work_bytes).run(progress);
}

}  // namespace hessbound
