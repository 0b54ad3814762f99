#include "spectrum/tridiagonal_eigenvalues.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hessbound {

namespace {

// Eigenvalues of [[a, b], [b, c]], rt1 of larger absolute value (LAPACK's dlae2).
void eigenvalues_2x2(double a, double b, double c, double& rt1, double& rt2) {
  const double sm = a + c, adf = std::fabs(a - c), ab = std::fabs(b + b);
  const double acmx = std::fabs(a) > std::fabs(c) ? a : c, acmn = std::fabs(a) > std::fabs(c) ? c : a;
  double rt;
  if (adf > ab) rt = adf * std::sqrt(1 + (ab / adf) * (ab / adf));
  else if (adf < ab) rt = ab * std::sqrt(1 + (adf / ab) * (adf / ab));
  else rt = ab * std::sqrt(2.0);
  if (sm < 0) {
    rt1 = 0.5 * (sm - rt);
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else if (sm > 0) {
    rt1 = 0.5 * (sm + rt);
    rt2 = (acmx / rt1) * acmn - (b / rt1) * b;
  } else {
    rt1 = 0.5 * rt;
    rt2 = -0.5 * rt;
  }
}

// The shift from the leading 2 x 2 block of the unreduced part: p = d_l, e2 = e_l^2, q = d_{l+1}.
double wilkinson_shift(double p, double e2, double q) {
  const double rte = std::sqrt(e2);
  const double sigma = (q - p) / (2 * rte);
  const double r = std::hypot(sigma, 1.0);
  return p - rte / (sigma + std::copysign(r, sigma));
}

}  // namespace

bool tridiagonal_eigenvalues(int n, double* d, double* e) {
  if (n <= 1) return true;
  const double eps = std::numeric_limits<double>::epsilon() / 2, eps2 = eps * eps;
  const double safmin = std::numeric_limits<double>::min(), safmax = 1 / safmin;
  const double ssfmax = std::sqrt(safmax) / 3, ssfmin = std::sqrt(safmin) / eps2;
  const long maxit = 30L * n;
  long jtot = 0;
  // 0-based throughout: d[0..n), e[0..n-1).
  int l1 = 0;
  while (l1 < n) {
    if (l1 > 0) e[l1 - 1] = 0;
    // The unreduced block [l1, m]: split where e is negligible against its neighbours.
    int m = l1;
    for (; m < n - 1; ++m)
      if (std::fabs(e[m]) <= std::sqrt(std::fabs(d[m])) * std::sqrt(std::fabs(d[m + 1])) * eps) {
        e[m] = 0;
        break;
      }
    int l = l1;
    const int lsv = l;
    int lend = m;
    const int lendsv = lend;
    l1 = m + 1;
    if (lend == l) continue;
    // Scale the block into range.
    double anorm = 0;
    for (int i = l; i <= lend; ++i) anorm = std::max(anorm, std::fabs(d[i]));
    for (int i = l; i < lend; ++i) anorm = std::max(anorm, std::fabs(e[i]));
    if (anorm == 0) continue;
    if (!std::isfinite(anorm)) return false;
    double scale = 1;
    if (anorm > ssfmax) scale = ssfmax / anorm;
    else if (anorm < ssfmin) scale = ssfmin / anorm;
    if (scale != 1) {
      for (int i = l; i <= lend; ++i) d[i] *= scale;
      for (int i = l; i < lend; ++i) e[i] *= scale;
    }
    for (int i = l; i < lend; ++i) e[i] *= e[i];
    // QL when the block's top is larger, else QR (chases toward the smaller end).
    if (std::fabs(d[lend]) < std::fabs(d[l])) std::swap(l, lend);
    if (lend >= l) {
      // QL iteration: look for a small subdiagonal element from the top.
      while (l <= lend) {
        int mm = l;
        for (; mm < lend; ++mm)
          if (std::fabs(e[mm]) <= eps2 * std::fabs(d[mm] * d[mm + 1])) break;
        if (mm < lend) e[mm] = 0;
        double p = d[l];
        if (mm == l) {  // an eigenvalue found
          d[l] = p;
          ++l;
          continue;
        }
        if (mm == l + 1) {  // a 2 x 2 block
          double rt1, rt2;
          eigenvalues_2x2(d[l], std::sqrt(e[l]), d[l + 1], rt1, rt2);
          d[l] = rt1;
          d[l + 1] = rt2;
          e[l] = 0;
          l += 2;
          continue;
        }
        if (jtot == maxit) break;
        ++jtot;
        const double sigma = wilkinson_shift(p, e[l], d[l + 1]);
        double c = 1, s = 0, gamma = d[mm] - sigma;
        p = gamma * gamma;
        for (int i = mm - 1; i >= l; --i) {
          const double bb = e[i], r = p + bb;
          if (i != mm - 1) e[i + 1] = s * r;
          const double oldc = c;
          c = p / r;
          s = bb / r;
          const double oldgam = gamma, alpha = d[i];
          gamma = c * (alpha - sigma) - s * oldgam;
          d[i + 1] = oldgam + (alpha - gamma);
          p = c != 0 ? (gamma * gamma) / c : oldc * bb;
        }
        e[l] = s * p;
        d[l] = sigma + gamma;
      }
    } else {
      // QR iteration: look for a small superdiagonal element from the bottom.
      while (l >= lend) {
        int mm = l;
        for (; mm > lend; --mm)
          if (std::fabs(e[mm - 1]) <= eps2 * std::fabs(d[mm] * d[mm - 1])) break;
        if (mm > lend) e[mm - 1] = 0;
        double p = d[l];
        if (mm == l) {
          d[l] = p;
          --l;
          continue;
        }
        if (mm == l - 1) {
          double rt1, rt2;
          eigenvalues_2x2(d[l], std::sqrt(e[l - 1]), d[l - 1], rt1, rt2);
          d[l] = rt1;
          d[l - 1] = rt2;
          e[l - 1] = 0;
          l -= 2;
          continue;
        }
        if (jtot == maxit) break;
        ++jtot;
        const double sigma = wilkinson_shift(p, e[l - 1], d[l - 1]);
        double c = 1, s = 0, gamma = d[mm] - sigma;
        p = gamma * gamma;
        for (int i = mm; i <= l - 1; ++i) {
          const double bb = e[i], r = p + bb;
          if (i != mm) e[i - 1] = s * r;
          const double oldc = c;
          c = p / r;
          s = bb / r;
          const double oldgam = gamma, alpha = d[i + 1];
          gamma = c * (alpha - sigma) - s * oldgam;
          d[i] = oldgam + (alpha - gamma);
          p = c != 0 ? (gamma * gamma) / c : oldc * bb;
        }
        e[l - 1] = s * p;
        d[l] = sigma + gamma;
      }
    }
    if (scale != 1)
      for (int i = lsv; i <= lendsv; ++i) d[i] /= scale;
    if (jtot >= maxit) {
      for (int i = 0; i < n - 1; ++i)
        if (e[i] != 0) return false;
      break;
    }
  }
  std::sort(d, d + n);
  return true;
}

}  // namespace hessbound
