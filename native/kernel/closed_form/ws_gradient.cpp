// Reverse mode of the closed-form traces (derivation: docs/hsr.md).
//
// tr H = w sum_n t_n and tr H^2 = w^2 sum_{n,m} Phi(n, m), with t_n and the symmetric pair term Phi
// written in per-sample quantities: A_n (softmax curvature, c x c), M_n = W2 diag(s_n), C_n = A_n M_n,
// D_n = diag(M_n^T A_n M_n), e_n, g_n, s_n, z_n and the Grams Kx (constant) and Kz:
//   t_n = tr(A_n) |z~_n|^2 + (sum D_n + sum e_n) |x~_n|^2
//   Phi = Kz^2 tr(A_n A_m) + Kx^2 [<M_n^T A_n M_n, M_m^T A_m M_m> + e_m.D_n + e_n.D_m + e_n.e_m]
//         + 2 Kx [Kz <C_n, C_m> + g_m^T C_n (z_n * s_m) + g_n^T C_m (z_m * s_n) + (g_n.g_m)(s_n.s_m)]
// Since Phi(n, m) = Phi(m, n), grad sum_{n,m} Phi = 2 sum_n sum_m d_1 Phi(n, m): one pass over the
// ordered pairs collects the adjoints of sample n's quantities, and one backward pass per sample
// carries them to (W1, b1, W2, b2) through s = sigma'(u), e = sigma''(u) (W2^T g), z = sigma(u) and
// p = softmax(v). The per-sample values are the traces' saturation-safe ones (A_kk = p_k (1 - p_k)
// with 1 - p_k summed from the other classes, C from sum_{k != r} p_k (W2_r - W2_k)), and the
// softmax adjoint is applied as vbar_k = p_k sum_l p_l (y_k - y_l), which has no cancelling terms.
#include "closed_form/ws_gradient.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "linalg/blas.hpp"
#include "closed_form/closed_form.hpp"
#include "support/errors.hpp"
#include "support/json_writer.hpp"
#include "closed_form/traces.hpp"
#include "closed_form/ws_gradient_parts.hpp"

namespace hessbound {

SampleMatrices sample_matrices(const HiddenLayerData& D) {
  const int N = D.N, c = D.c, h = D.h;
  SampleMatrices S;
  S.A.resize(static_cast<std::size_t>(N) * c * c);
  S.M.resize(static_cast<std::size_t>(N) * c * h);
  S.C.resize(static_cast<std::size_t>(N) * c * h);
  for (int n = 0; n < N; ++n) {
    double* A = S.A.data() + static_cast<std::size_t>(n) * c * c;
    double* M = S.M.data() + static_cast<std::size_t>(n) * c * h;
    const double* s = D.s.data() + static_cast<std::size_t>(n) * h;
    for (int k = 0; k < c; ++k)
      for (int l = 0; l < c; ++l) A[k * c + l] = D.amat(n, k, l);
    for (int r = 0; r < c; ++r)
      for (int j = 0; j < h; ++j) M[static_cast<std::size_t>(r) * h + j] = D.w2[static_cast<std::size_t>(r) * h + j] * s[j];
    D.fill_c(n, S.C.data() + static_cast<std::size_t>(n) * c * h);
  }
  return S;
}

namespace {

constexpr double kInvSqrt2Pi = 0.39894228040143267794;

inline double logistic(double u) {
  if (u >= 0) return 1.0 / (1.0 + std::exp(-u));
  const double e = std::exp(u);
  return e / (1.0 + e);
}

inline double dotv(int n, const double* a, const double* b) {
  double t = 0;
  for (int i = 0; i < n; ++i) t += a[i] * b[i];
  return t;
}

// Adjoints of sum_n t_n (unscaled).
void trace_adjoints(const HiddenLayerData& D, const SampleMatrices& S, SampleAdjoints& a) {
  const int c = D.c, h = D.h;
  for (int n = 0; n < D.N; ++n) {
    const std::size_t cc = static_cast<std::size_t>(n) * c * c, ch = static_cast<std::size_t>(n) * c * h;
    const double xx = D.xnorm2[n], zz = D.znorm2[n];
    const double* M = S.M.data() + ch;
    const double* C = S.C.data() + ch;
    double* Ab = a.A.data() + cc;
    double trA = 0;
    for (int k = 0; k < c; ++k) {
      trA += S.A[cc + k * c + k];
      Ab[k * c + k] += zz;
      for (int l = 0; l < c; ++l) Ab[k * c + l] += xx * dotv(h, M + static_cast<std::size_t>(k) * h, M + static_cast<std::size_t>(l) * h);
    }
    const double* z = D.zt.data() + static_cast<std::size_t>(n) * D.h1;
    double* zb = a.z.data() + static_cast<std::size_t>(n) * h;
    double* eb = a.e.data() + static_cast<std::size_t>(n) * h;
    for (int j = 0; j < h; ++j) {
      zb[j] += 2 * trA * z[j];
      eb[j] += xx;
    }
    double* Mb = a.M.data() + ch;
    for (std::size_t i = 0; i < static_cast<std::size_t>(c) * h; ++i) Mb[i] += 2 * xx * C[i];
  }
}

// Adjoints of sum_n sum_m d_1 Phi(n, m) (unscaled; the caller multiplies by 2 w^2).
//
// For a sample n every sum over m is a product of a row of per-pair weights (built from the Grams
// Kx, Kz, <A_n, A_m>, <C_n, C_m>, s_n.s_m, g_n.g_m) with a matrix of per-sample rows. The samples
// n are taken in blocks of B, so those products are GEMMs of B x N by N x (c^2, c h or h) and each
// per-sample matrix is read once per block. The Q_nm = M_n M_m^T terms need two GEMMs of
// (B c) x (N c) x h: Abar = Q A_m Q^T = Q C_m M_n^T and Mbar = 2 A_n Q C_m both follow from
// U_n = sum_m Kx^2 Q_nm C_m.
void square_adjoints(const HiddenLayerData& D, const SampleMatrices& S, SampleAdjoints& a, const Progress& progress) {
  const int N = D.N, c = D.c, h = D.h, d1 = D.d1, h1 = D.h1;
  const int c2 = c * c, ch = c * h, Nc = N * c;
  // Per-sample rows that depend on m only: C_m * z_m (column j scaled by z_mj), g_m s_m^T, D_m + e_m.
  std::vector<double> CZ(static_cast<std::size_t>(N) * ch), GSm(static_cast<std::size_t>(N) * ch),
      DE(static_cast<std::size_t>(N) * h);
  for (int m = 0; m < N; ++m) {
    const double* zm = D.zt.data() + static_cast<std::size_t>(m) * h1;
    const double* sm = D.s.data() + static_cast<std::size_t>(m) * h;
    const double* gm = D.g.data() + static_cast<std::size_t>(m) * c;
    for (int k = 0; k < c; ++k)
      for (int j = 0; j < h; ++j) {
        const std::size_t i = static_cast<std::size_t>(m) * ch + static_cast<std::size_t>(k) * h + j;
        CZ[i] = S.C[i] * zm[j];
        GSm[i] = gm[k] * sm[j];
      }
    for (int j = 0; j < h; ++j) {
      const std::size_t i = static_cast<std::size_t>(m) * h + j;
      DE[i] = D.colnorm[i] + D.e[i];
    }
  }
  // Block size: the (B c) x (N c) Q block at most ~4M doubles (32 MB).
  const int B = static_cast<int>(std::max<double>(1, std::min<double>({64.0, static_cast<double>(N), 4.0e6 / (static_cast<double>(N) * c2)})));
  const std::size_t BN = static_cast<std::size_t>(B) * N;
  std::vector<double> kx(BN), kz(BN), trAA(BN), cc(BN), ss(BN), gg(BN), w(BN);
  std::vector<double> U(static_cast<std::size_t>(B) * ch), Cbar(static_cast<std::size_t>(B) * ch),
      W(static_cast<std::size_t>(B) * ch), GS(static_cast<std::size_t>(B) * ch), Dbar(static_cast<std::size_t>(B) * h),
      Zb(static_cast<std::size_t>(B) * h1);
  std::vector<double> Q(static_cast<std::size_t>(B) * c * Nc);
  auto wfill = [&](int bn, auto f) {
    for (int i = 0; i < bn; ++i)
      for (int m = 0; m < N; ++m) {
        const std::size_t im = static_cast<std::size_t>(i) * N + m;
        w[im] = f(im);
      }
  };
  for (int n0 = 0; n0 < N; n0 += B) {
    const int bn = std::min(B, N - n0);
    const std::size_t o = static_cast<std::size_t>(n0);
    // Pair Grams, bn x N.
    gemm(false, true, bn, N, d1, 1.0, D.xt.data() + o * d1, d1, D.xt.data(), d1, 0.0, kx.data(), N);
    gemm(false, true, bn, N, h1, 1.0, D.zt.data() + o * h1, h1, D.zt.data(), h1, 0.0, kz.data(), N);
    gemm(false, true, bn, N, c2, 1.0, S.A.data() + o * c2, c2, S.A.data(), c2, 0.0, trAA.data(), N);
    gemm(false, true, bn, N, ch, 1.0, S.C.data() + o * ch, ch, S.C.data(), ch, 0.0, cc.data(), N);
    gemm(false, true, bn, N, h, 1.0, D.s.data() + o * h, h, D.s.data(), h, 0.0, ss.data(), N);
    gemm(false, true, bn, N, c, 1.0, D.g.data() + o * c, c, D.g.data(), c, 0.0, gg.data(), N);
    double* Ab = a.A.data() + o * c2;
    double* eb = a.e.data() + o * h;
    double* gb = a.g.data() + o * c;
    double* sb = a.s.data() + o * h;

    // Kz^2 tr(A_n A_m): Abar += sum_m Kz^2 A_m.
    wfill(bn, [&](std::size_t i) { return kz[i] * kz[i]; });
    gemm(false, false, bn, c2, N, 1.0, w.data(), N, S.A.data(), c2, 1.0, Ab, c2);
    // Kx^2 (e_m.D_n + e_n.D_m + e_n.e_m): Dbar = sum_m Kx^2 e_m, ebar += sum_m Kx^2 (D_m + e_m).
    wfill(bn, [&](std::size_t i) { return kx[i] * kx[i]; });
    gemm(false, false, bn, h, N, 1.0, w.data(), N, D.e.data(), h, 0.0, Dbar.data(), h);
    gemm(false, false, bn, h, N, 1.0, w.data(), N, DE.data(), h, 1.0, eb, h);
    // Kx^2 <M_n^T A_n M_n, M_m^T A_m M_m>: Q rows (n, r), columns (m, q); scaled by Kx_nm^2; U = Q C.
    gemm(false, true, bn * c, Nc, h, 1.0, S.M.data() + o * ch, h, S.M.data(), h, 0.0, Q.data(), Nc);
    for (int i = 0; i < bn; ++i)
      for (int r = 0; r < c; ++r) {
        double* q = Q.data() + (static_cast<std::size_t>(i) * c + r) * Nc;
        const double* wi = w.data() + static_cast<std::size_t>(i) * N;
        for (int m = 0; m < N; ++m)
          for (int k = 0; k < c; ++k) q[static_cast<std::size_t>(m) * c + k] *= wi[m];
      }
    gemm(false, false, bn * c, h, Nc, 1.0, Q.data(), Nc, S.C.data(), h, 0.0, U.data(), h);

    // Cross block, 2 Kx [Kz <C_n, C_m> + g_m^T C_n (z_n * s_m) + g_n^T C_m (z_m * s_n) + (g.g)(s.s)].
    // With weights 2 Kx: GS = sum_m g_m s_m^T, W = sum_m C_m * z_m.
    wfill(bn, [&](std::size_t i) { return 2 * kx[i]; });
    gemm(false, false, bn, ch, N, 1.0, w.data(), N, GSm.data(), ch, 0.0, GS.data(), ch);
    gemm(false, false, bn, ch, N, 1.0, w.data(), N, CZ.data(), ch, 0.0, W.data(), ch);
    wfill(bn, [&](std::size_t i) { return 2 * kx[i] * kz[i]; });
    gemm(false, false, bn, ch, N, 1.0, w.data(), N, S.C.data(), ch, 0.0, Cbar.data(), ch);  // sum 2 Kx Kz C_m
    wfill(bn, [&](std::size_t i) { return 2 * kx[i] * ss[i]; });
    gemm(false, false, bn, c, N, 1.0, w.data(), N, D.g.data(), c, 1.0, gb, c);  // sum 2 Kx (s.s) g_m
    wfill(bn, [&](std::size_t i) { return 2 * kx[i] * gg[i]; });
    gemm(false, false, bn, h, N, 1.0, w.data(), N, D.s.data(), h, 1.0, sb, h);  // sum 2 Kx (g.g) s_m
    // Kzbar = 2 Kz tr(A_n A_m) + 2 Kx <C_n, C_m> flows to z_n through Kz = z~_n . z~_m.
    wfill(bn, [&](std::size_t i) { return 2 * kz[i] * trAA[i] + 2 * kx[i] * cc[i]; });
    gemm(false, false, bn, h1, N, 1.0, w.data(), N, D.zt.data(), h1, 0.0, Zb.data(), h1);

    for (int i = 0; i < bn; ++i) {
      const int n = n0 + i;
      const double* zn = D.zt.data() + static_cast<std::size_t>(n) * h1;
      const double* sn = D.s.data() + static_cast<std::size_t>(n) * h;
      const double* gn = D.g.data() + static_cast<std::size_t>(n) * c;
      const double* An = S.A.data() + static_cast<std::size_t>(n) * c2;
      const double* Mn = S.M.data() + static_cast<std::size_t>(n) * ch;
      const double* Cn = S.C.data() + static_cast<std::size_t>(n) * ch;
      double* Abn = a.A.data() + static_cast<std::size_t>(n) * c2;
      double* Mb = a.M.data() + static_cast<std::size_t>(n) * ch;
      double* gbn = a.g.data() + static_cast<std::size_t>(n) * c;
      double* sbn = a.s.data() + static_cast<std::size_t>(n) * h;
      double* zb = a.z.data() + static_cast<std::size_t>(n) * h;
      const double* Un = U.data() + static_cast<std::size_t>(i) * ch;
      const double* Wn = W.data() + static_cast<std::size_t>(i) * ch;
      const double* GSn = GS.data() + static_cast<std::size_t>(i) * ch;
      const double* Dbn = Dbar.data() + static_cast<std::size_t>(i) * h;
      double* Cbn = Cbar.data() + static_cast<std::size_t>(i) * ch;
      // Cbar += 2 Kx g_m (z_n * s_m)^T summed: z_n[j] GS[k, j]. zbar += sum_k C_n[k, :] * GS[k, :] + Zb.
      // gbar += W s_n, sbar += W^T g_n (the g_n^T C_m (z_m * s_n) term).
      for (int j = 0; j < h; ++j) zb[j] += Zb[static_cast<std::size_t>(i) * h1 + j];  // bias coordinate is constant
      for (int k = 0; k < c; ++k)
        for (int j = 0; j < h; ++j) {
          const std::size_t kj = static_cast<std::size_t>(k) * h + j;
          Cbn[kj] += zn[j] * GSn[kj];
          zb[j] += Cn[kj] * GSn[kj];
          gbn[k] += Wn[kj] * sn[j];
          sbn[j] += Wn[kj] * gn[k];
        }
      // D_n = diag(M^T A M): Abar += M diag(Dbar) M^T, Mbar += 2 C diag(Dbar).
      // C_n = A_n M_n: Abar += Cbar M^T, Mbar += A Cbar. And Mbar += 2 A U, Abar += U M^T.
      for (int k = 0; k < c; ++k)
        for (int l = 0; l < c; ++l) {
          const double* Mk = Mn + static_cast<std::size_t>(k) * h;
          const double* Ml = Mn + static_cast<std::size_t>(l) * h;
          const double* Cbk = Cbn + static_cast<std::size_t>(k) * h;
          const double* Uk = Un + static_cast<std::size_t>(k) * h;
          double t = 0;
          for (int j = 0; j < h; ++j) t += Mk[j] * Dbn[j] * Ml[j] + (Cbk[j] + Uk[j]) * Ml[j];
          Abn[k * c + l] += t;
        }
      for (int k = 0; k < c; ++k) {
        double* Mbk = Mb + static_cast<std::size_t>(k) * h;
        const double* Cnk = Cn + static_cast<std::size_t>(k) * h;
        for (int j = 0; j < h; ++j) Mbk[j] += 2 * Cnk[j] * Dbn[j];
        for (int l = 0; l < c; ++l) {
          const double akl = An[k * c + l];
          const double* Cbl = Cbn + static_cast<std::size_t>(l) * h;
          const double* Ul = Un + static_cast<std::size_t>(l) * h;
          for (int j = 0; j < h; ++j) Mbk[j] += akl * (Cbl[j] + 2 * Ul[j]);
        }
      }
    }
    report(progress, 0.05 + 0.9 * static_cast<double>(n0 + bn) / N);
  }
}

// Carries the per-sample adjoints to the parameters, scaled by `scale`, added into grad.
void backprop(const Problem& pr, const HiddenLayerData& D, const ForwardCache& cache, const std::vector<double>& d3,
              const SampleAdjoints& a, double scale, std::vector<double>& grad) {
  const NetSpec& net = pr.net;
  const int c = D.c, h = D.h, d = D.d;
  const double* W1 = pr.weight(0);
  const double* W2 = D.w2;
  double* gW1 = grad.data() + net.weight_offset(0);
  double* gb1 = net.has_bias[0] ? grad.data() + net.bias_offset(0) : nullptr;
  double* gW2 = grad.data() + net.weight_offset(1);
  double* gb2 = net.has_bias[1] ? grad.data() + net.bias_offset(1) : nullptr;
  (void)W1;
  std::vector<double> sb(h), zb(h), ub(h), gb(c), y(c), act(h), abar(h);
  for (int n = 0; n < D.N; ++n) {
    const std::size_t nh = static_cast<std::size_t>(n) * h, nc = static_cast<std::size_t>(n) * c;
    const double* s = D.s.data() + nh;
    const double* s2 = cache.d2[0].data() + nh;
    const double* s3 = d3.data() + nh;
    const double* z = D.zt.data() + static_cast<std::size_t>(n) * D.h1;
    const double* x = pr.x + static_cast<std::size_t>(n) * d;
    const double* g = D.g.data() + nc;
    const double* p = D.p.data() + nc;
    const double* omp = D.omp.data() + nc;
    const double* Mb = a.M.data() + nc * h;
    const double* eb = a.e.data() + nh;
    const double* Ab = a.A.data() + nc * c;
    for (int j = 0; j < h; ++j) {
      sb[j] = scale * a.s[nh + j];
      zb[j] = scale * a.z[nh + j];
    }
    for (int k = 0; k < c; ++k) gb[k] = scale * a.g[nc + k];
    // M = W2 diag(s).
    for (int r = 0; r < c; ++r)
      for (int j = 0; j < h; ++j) {
        const double v = scale * Mb[static_cast<std::size_t>(r) * h + j];
        gW2[static_cast<std::size_t>(r) * h + j] += v * s[j];
        sb[j] += W2[static_cast<std::size_t>(r) * h + j] * v;
      }
    // e = sigma''(u) * (W2^T g).
    std::fill(act.begin(), act.end(), 0.0);
    for (int k = 0; k < c; ++k)
      for (int j = 0; j < h; ++j) act[j] += W2[static_cast<std::size_t>(k) * h + j] * g[k];
    for (int j = 0; j < h; ++j) {
      ub[j] = s3[j] * act[j] * scale * eb[j] + s2[j] * sb[j];  // and s = sigma'(u)
      abar[j] = s2[j] * scale * eb[j];
    }
    for (int k = 0; k < c; ++k)
      for (int j = 0; j < h; ++j) {
        gW2[static_cast<std::size_t>(k) * h + j] += g[k] * abar[j];
        gb[k] += W2[static_cast<std::size_t>(k) * h + j] * abar[j];
      }
    // A_kk = p_k (1 - p_k), A_kl = -p_k p_l, and g = p - t: y = dF/dp; vbar = (diag p - p p^T) y.
    for (int k = 0; k < c; ++k) {
      double t = gb[k] + scale * Ab[k * c + k] * (omp[k] - p[k]);
      for (int l = 0; l < c; ++l)
        if (l != k) t -= scale * (Ab[k * c + l] + Ab[l * c + k]) * p[l];
      y[k] = t;
    }
    for (int k = 0; k < c; ++k) {
      double t = 0;
      for (int l = 0; l < c; ++l)
        if (l != k) t += p[l] * (y[k] - y[l]);
      const double vb = p[k] * t;
      for (int j = 0; j < h; ++j) {
        gW2[static_cast<std::size_t>(k) * h + j] += vb * z[j];
        zb[j] += W2[static_cast<std::size_t>(k) * h + j] * vb;
      }
      if (gb2) gb2[k] += vb;
    }
    for (int j = 0; j < h; ++j) {
      ub[j] += s[j] * zb[j];  // z = sigma(u)
      double* row = gW1 + static_cast<std::size_t>(j) * d;
      for (int i = 0; i < d; ++i) row[i] += ub[j] * x[i];
      if (gb1) gb1[j] += ub[j];
    }
  }
}

void require_one_hidden_layer(const Problem& p) {
  if (p.net.layers() != 2)
    fail("BAD_MODEL", "the closed-form gradient of the WS bound needs exactly one hidden layer (this network has " +
                          std::to_string(p.net.layers() - 1) +
                          "); use a one-hidden-layer model, or differentiate the bound numerically for deeper nets");
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

void activation_third(Activation act, const double* u, int n, double* d3) {
  for (int i = 0; i < n; ++i) {
    const double x = u[i];
    double f3 = 0;
    switch (act.kind) {
      case Activation::Sigmoid: {
        const double s = logistic(x), f1 = s * (1 - s), f2 = f1 * (1 - 2 * s);
        f3 = f2 * (1 - 2 * s) - 2 * f1 * f1;
        break;
      }
      case Activation::Tanh: {
        const double t = std::tanh(x), f1 = 1 - t * t, f2 = -2 * t * f1;
        f3 = -2 * f1 * f1 - 2 * t * f2;
        break;
      }
      case Activation::Softplus: {
        const double s = logistic(x);
        f3 = s * (1 - s) * (1 - 2 * s);
        break;
      }
      case Activation::Gelu: {
        const double pdf = kInvSqrt2Pi * std::exp(-0.5 * x * x);
        f3 = pdf * (x * x * x - 4 * x);
        break;
      }
      case Activation::Silu: {
        const double s = logistic(x), s1 = s * (1 - s), s2 = s1 * (1 - 2 * s);
        const double s3 = s2 * (1 - 2 * s) - 2 * s1 * s1;
        f3 = 3 * s2 + x * s3;
        break;
      }
      case Activation::Identity:
      case Activation::Relu:  // piecewise linear: the third derivative is 0 between kinks
      case Activation::LeakyRelu:
        f3 = 0;
        break;
    }
    d3[i] = f3;
  }
}

TraceGradients trace_gradients(const Problem& p, bool with_square, const Progress& progress, AdjointForm form,
                               std::size_t work_bytes, bool with_values) {
  validate(p);
  require_one_hidden_layer(p);
  const ForwardCache cache = forward_backward(p);
  const HiddenLayerData D = hidden_layer_data(p, cache);
  const SampleMatrices S = sample_matrices(D);
  std::vector<double> d3(static_cast<std::size_t>(D.N) * D.h);
  activation_third(p.net.activation, cache.pre[0].data(), D.N * D.h, d3.data());
  const double w = p.scale();
  const std::size_t P = p.net.parameter_count();
  TraceGradients out;
  out.loss = cache.loss;
  out.trace_grad.assign(P, 0.0);
  {
    SampleAdjoints a(D.N, D.c, D.h);
    trace_adjoints(D, S, a);
    backprop(p, D, cache, d3, a, w, out.trace_grad);
  }
  if (form == AdjointForm::Auto)
    form = primal_preferred(primal_cost(D.N, D.d1, D.h, D.h1, D.c), dual_cost(D.N, D.d1, D.h, D.h1, D.c)) ? AdjointForm::Primal
                                                                                                         : AdjointForm::Dual;
  out.form = form;
  TraceTerms terms;
  if (with_values) add_trace_terms(D, terms);
  if (with_square) {
    SampleAdjoints a(D.N, D.c, D.h);
    if (form == AdjointForm::Primal) out.trace_of_square = w * w * primal_square_adjoints(D, S, a, work_bytes, progress);
    else square_adjoints(D, S, a, progress);
    out.square_grad.assign(P, 0.0);
    backprop(p, D, cache, d3, a, 2 * w * w, out.square_grad);
    if (with_values && form == AdjointForm::Dual) {
      dual_square_terms(D, terms, work_bytes);
      out.trace_of_square = w * w * terms.trace_of_square();
    }
  }
  if (with_values) out.trace = w * terms.trace();
  else out.trace_of_square = 0;
  return out;
}

WsGradients ws_gradients(const TraceGradients& t, double n) {
  WsGradients out;
  const double m = t.trace / n;
  const double var = t.trace_of_square / n - m * m;
  const std::size_t P = t.trace_grad.size();
  if (t.trace_of_square > 0 && t.square_grad.size() == P) {
    out.frobenius.resize(P);
    const double f = 1 / (2 * std::sqrt(t.trace_of_square));
    for (std::size_t i = 0; i < P; ++i) out.frobenius[i] = f * t.square_grad[i];
  }
  // s = 0: every eigenvalue equal, s is not differentiable there.
  if (!(var > 0) || t.square_grad.size() != P) return out;
  out.defined = true;
  const double s = std::sqrt(var), r = std::sqrt(n - 1), spread = std::sqrt(2 * n);
  for (auto* v : {&out.upper, &out.lower_of_max, &out.lower_of_min, &out.upper_of_min, &out.spread}) v->resize(P);
  for (std::size_t i = 0; i < P; ++i) {
    const double dm = t.trace_grad[i] / n;
    const double ds = (t.square_grad[i] / n - 2 * m * dm) / (2 * s);
    out.upper[i] = dm + r * ds;
    out.lower_of_min[i] = dm - r * ds;
    out.lower_of_max[i] = r > 0 ? dm + ds / r : dm;
    out.upper_of_min[i] = r > 0 ? dm - ds / r : dm;
    out.spread[i] = spread * ds;
  }
  return out;
}

std::string ws_gradient_command(const Problem& p, const CommandOptions& o, const Progress& progress) {
  validate(p);
  require_one_hidden_layer(p);
  const auto start = std::chrono::steady_clock::now();
  TracesOptions topt;
  const int method = o.integer("method", 0);
  if (method < 0 || method > 2) fail("BAD_OPTION", "wsGradient: method must be 0 (auto), 1 (dual) or 2 (primal)");
  topt.method = static_cast<TraceMethod>(method);
  topt.orthogonality = false;
  const double work = o.number("workBytes", static_cast<double>(topt.work_bytes));
  if (work < 1) fail("BAD_OPTION", "wsGradient: workBytes must be positive");
  topt.work_bytes = static_cast<std::size_t>(work);
  const TracesResult traces = compute_traces(p, topt, {});
  report(progress, 0.05);
  const auto grad_start = std::chrono::steady_clock::now();
  TraceGradients t = trace_gradients(p, true, progress, static_cast<AdjointForm>(method), topt.work_bytes);
  const double seconds_gradient = seconds_since(grad_start);
  t.trace = traces.trace;
  t.trace_of_square = traces.trace_of_square;
  const double n = static_cast<double>(traces.parameters);
  const WsGradients g = ws_gradients(t, n);

  JsonWriter w;
  w.begin();
  w.key("parameters").number(n);
  w.key("samples").number(traces.samples);
  w.key("loss").number(traces.loss);
  w.key("trace").number(traces.trace);
  w.key("traceOfSquare").number(traces.trace_of_square);
  w.key("bound").begin();
  w.key("upper").number(traces.bound.upper);
  w.key("lowerOfMax").number(traces.bound.lower_of_max);
  w.key("lowerOfMin").number(traces.bound.lower_of_min);
  w.key("upperOfMin").number(traces.bound.upper_of_min);
  w.key("spread").number(traces.bound.spread);
  w.end();
  w.key("frobenius").number(traces.bound.frobenius);
  w.key("method").string(traces.method);
  w.key("adjoint").string(t.form == AdjointForm::Primal ? "primal" : "dual");
  w.key("defined").boolean(g.defined);
  w.key("gradient").begin();
  w.key("trace").array(t.trace_grad);
  w.key("traceOfSquare").array(t.square_grad);
  auto maybe = [&](const char* name, const std::vector<double>& v) {
    w.key(name);
    if (v.empty()) w.null();
    else w.array(v);
  };
  maybe("upper", g.upper);
  maybe("lowerOfMax", g.lower_of_max);
  maybe("lowerOfMin", g.lower_of_min);
  maybe("upperOfMin", g.upper_of_min);
  maybe("spread", g.spread);
  maybe("frobenius", g.frobenius);
  w.end();
  w.key("seconds").begin();
  w.key("traces").number(traces.seconds_traces);
  w.key("gradient").number(seconds_gradient);
  w.key("total").number(seconds_since(start));
  w.end();
  w.end();
  report(progress, 1.0);
  return w.str();
}

}  // namespace hessbound
