// The block ("primal") evaluation of tr(H^2): each Kronecker block is a sum over samples of outer
// products, Y = A^T B with one row per sample, so its Frobenius norm is taken panel by panel
// (panel_product.hpp) without ever holding a whole block. Symmetric factors are packed (i <= j)
// with sqrt(2) on off-diagonal columns so a packed norm equals the full one.
#include <cmath>
#include <vector>

#include "linalg/blas.hpp"
#include "closed_form/closed_form.hpp"
#include "linalg/panel_product.hpp"

namespace hessbound {
namespace {

double sum_of_squares(std::size_t count, const double* y) {
  double s = 0;
  for (std::size_t i = 0; i < count; ++i) s += y[i] * y[i];
  return s;
}

class PrimalBlocks {
 public:
  PrimalBlocks(const HiddenLayerData& data, std::size_t work_bytes, int threads)
      : D_(data), work_(work_bytes), threads_(threads) {}

  void run(TraceTerms& t, const Progress& progress) {
    const double N = D_.N;
    // Progress shares proportional to each pass's multiply-adds.
    const double c11 = packed_size(D_.h) * static_cast<double>(packed_size(D_.d1));
    const double c11d = D_.has_e ? 2.0 * D_.h * packed_size(D_.d1) : 0.0;
    const double c22 = static_cast<double>(packed_size(D_.c)) * packed_size(D_.h1);
    const double c21 = static_cast<double>(D_.c) * D_.h * D_.h1 * D_.d1;
    const double c21d = 2.0 * D_.c * D_.h * D_.d1;
    const double all = (c11 + c11d + c22 + c21 + c21d) * N;
    double at = 0;
    auto phase = [&](double cost) {
      const double from = at / all, to = (at += cost * N) / all;
      return progress ? Progress([=](double f) { progress(from + (to - from) * f); }) : Progress();
    };
    hidden_gauss_newton(t, phase(c11));
    if (D_.has_e) hidden_residual(t, phase(c11d));  // sigma'' = 0: R11 and <G11, R11> are 0
    output_block(t, phase(c22));
    cross_gauss_newton(t, phase(c21));
    cross_residual(t, phase(c21d));
  }

 private:
  // ||G11||^2, G11 = sum_n (F_n^T F_n) (x) x~x~^T: rows of A are packed F_n^T F_n.
  void hidden_gauss_newton(TraceTerms& t, const Progress& progress) {
    ColumnSource a;
    a.columns = packed_size(D_.h);
    a.fill = [this](std::size_t first, int count, double* out) {
      const int c = D_.c, h = D_.h;
      std::vector<double> F(static_cast<std::size_t>(c) * h), FT(F.size());
      for (int n = 0; n < D_.N; ++n) {
        D_.fill_f(n, F.data());
        for (int r = 0; r < c; ++r)
          for (int j = 0; j < h; ++j) FT[static_cast<std::size_t>(j) * c + r] = F[static_cast<std::size_t>(r) * h + j];
        double* o = out + static_cast<std::size_t>(n) * count;
        PackedPairs pair(h, first);
        for (int k = 0; k < count; ++k, pair.next()) {
          const double v = dot(c, FT.data() + static_cast<std::size_t>(pair.i()) * c, FT.data() + static_cast<std::size_t>(pair.j()) * c);
          o[k] = pair.i() == pair.j() ? v : kSqrt2 * v;
        }
      }
    };
    const ColumnSource b = packed_outer(D_.N, D_.d1, D_.xt.data());
    for_each_product_block(
        D_.N, a, b, work_, 1,
        [](std::size_t, int na, std::size_t, int nb, const double* y, double* sums) {
          sums[0] += sum_of_squares(static_cast<std::size_t>(na) * nb, y);
        },
        &t.hidden_gn_square, progress, threads_);
  }

  // ||R11||^2 and <G11, R11>: both live on the j = j' rows, sum_n D_nj x~x~^T and sum_n e_nj x~x~^T,
  // interleaved as columns (2j, 2j+1) so a panel always holds both.
  void hidden_residual(TraceTerms& t, const Progress& progress) {
    ColumnSource a;
    a.columns = 2 * static_cast<std::size_t>(D_.h);
    a.granularity = 2;
    a.fill = [this](std::size_t first, int count, double* out) {
      for (int n = 0; n < D_.N; ++n) {
        const std::size_t base = static_cast<std::size_t>(n) * D_.h;
        double* o = out + static_cast<std::size_t>(n) * count;
        for (int k = 0; k < count; k += 2) {
          const std::size_t j = (first + k) / 2;
          o[k] = D_.colnorm[base + j];
          o[k + 1] = D_.e[base + j];
        }
      }
    };
    const ColumnSource b = packed_outer(D_.N, D_.d1, D_.xt.data());
    double sums[2] = {0, 0};
    for_each_product_block(
        D_.N, a, b, work_, 2,
        [](std::size_t, int na, std::size_t, int nb, const double* y, double* out) {
          for (int i = 0; i < na; i += 2) {
            const double* gn = y + static_cast<std::size_t>(i) * nb;
            const double* res = gn + nb;
            out[0] += dot(nb, res, res);
            out[1] += dot(nb, gn, res);
          }
        },
        sums, progress, threads_);
    t.hidden_residual_square += sums[0];
    t.hidden_mixed += sums[1];
  }

  // ||H22||^2, H22 = sum_n A_n (x) z~z~^T.
  void output_block(TraceTerms& t, const Progress& progress) {
    ColumnSource a;
    a.columns = packed_size(D_.c);
    a.fill = [this](std::size_t first, int count, double* out) {
      for (int n = 0; n < D_.N; ++n) {
        double* o = out + static_cast<std::size_t>(n) * count;
        PackedPairs pair(D_.c, first);
        for (int k = 0; k < count; ++k, pair.next())
          o[k] = D_.amat(n, pair.i(), pair.j()) * (pair.i() == pair.j() ? 1.0 : kSqrt2);
      }
    };
    const ColumnSource b = packed_outer(D_.N, D_.h1, D_.zt.data());
    for_each_product_block(
        D_.N, a, b, work_, 1,
        [](std::size_t, int na, std::size_t, int nb, const double* y, double* sums) {
          sums[0] += sum_of_squares(static_cast<std::size_t>(na) * nb, y);
        },
        &t.output_square, progress, threads_);
  }

  // ||G21||^2, G21[(k,a),(j,b)] = sum_n C_n[k,j] z~_a x~_b: A has columns (k, j), B columns (a, b).
  void cross_gauss_newton(TraceTerms& t, const Progress& progress) {
    ColumnSource a;
    a.columns = static_cast<std::size_t>(D_.c) * D_.h;
    a.fill = [this](std::size_t first, int count, double* out) {
      for (int n = 0; n < D_.N; ++n) {
        double* o = out + static_cast<std::size_t>(n) * count;
        for (int k = 0; k < count; ++k) {
          const std::size_t col = first + k;
          o[k] = D_.cmat(n, static_cast<int>(col / D_.h), static_cast<int>(col % D_.h));
        }
      }
    };
    ColumnSource b;
    b.columns = static_cast<std::size_t>(D_.h1) * D_.d1;
    b.fill = [this](std::size_t first, int count, double* out) {
      for (int n = 0; n < D_.N; ++n) {
        const double* zn = D_.zt.data() + static_cast<std::size_t>(n) * D_.h1;
        const double* xn = D_.xt.data() + static_cast<std::size_t>(n) * D_.d1;
        double* o = out + static_cast<std::size_t>(n) * count;
        for (int k = 0; k < count; ++k) {
          const std::size_t col = first + k;
          o[k] = zn[col / D_.d1] * xn[col % D_.d1];
        }
      }
    };
    for_each_product_block(
        D_.N, a, b, work_, 1,
        [](std::size_t, int na, std::size_t, int nb, const double* y, double* sums) {
          sums[0] += sum_of_squares(static_cast<std::size_t>(na) * nb, y);
        },
        &t.cross_gn_square, progress, threads_);
  }

  // ||R21||^2 and <G21, R21>: R21 sits on a == j, R21[(k,j),(j,b)] = sum_n g_nk s_nj x~_b, and
  // the matching G21 entries are sum_n C_n[k,j] z_nj x~_b; columns (2i, 2i+1) for i = (k, j).
  void cross_residual(TraceTerms& t, const Progress& progress) {
    ColumnSource a;
    a.columns = 2 * static_cast<std::size_t>(D_.c) * D_.h;
    a.granularity = 2;
    a.fill = [this](std::size_t first, int count, double* out) {
      for (int n = 0; n < D_.N; ++n) {
        double* o = out + static_cast<std::size_t>(n) * count;
        for (int k = 0; k < count; k += 2) {
          const std::size_t col = (first + k) / 2;
          const int kk = static_cast<int>(col / D_.h), j = static_cast<int>(col % D_.h);
          const std::size_t nh = static_cast<std::size_t>(n) * D_.h + j;
          o[k] = D_.g[static_cast<std::size_t>(n) * D_.c + kk] * D_.s[nh];
          o[k + 1] = D_.cmat(n, kk, j) * D_.zt[static_cast<std::size_t>(n) * D_.h1 + j];
        }
      }
    };
    ColumnSource b;
    b.columns = static_cast<std::size_t>(D_.d1);
    b.fill = [this](std::size_t first, int count, double* out) {
      for (int n = 0; n < D_.N; ++n)
        for (int k = 0; k < count; ++k)
          out[static_cast<std::size_t>(n) * count + k] = D_.xt[static_cast<std::size_t>(n) * D_.d1 + first + k];
    };
    double sums[2] = {0, 0};
    for_each_product_block(
        D_.N, a, b, work_, 2,
        [](std::size_t, int na, std::size_t, int nb, const double* y, double* out) {
          for (int i = 0; i < na; i += 2) {
            const double* res = y + static_cast<std::size_t>(i) * nb;
            const double* gn = res + nb;
            out[0] += dot(nb, res, res);
            out[1] += dot(nb, gn, res);
          }
        },
        sums, progress, threads_);
    t.cross_residual_square += sums[0];
    t.cross_mixed += sums[1];
  }

  const HiddenLayerData& D_;
  std::size_t work_;
  int threads_;
};

}  // namespace

void primal_square_terms(const HiddenLayerData& data, TraceTerms& terms, std::size_t work_bytes,
                         const Progress& progress, int threads) {
  PrimalBlocks(data, work_bytes, threads).run(terms, progress);
}

}  // namespace hessbound
