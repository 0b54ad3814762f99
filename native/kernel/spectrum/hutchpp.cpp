#include "spectrum/hutchpp.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "linalg/blas.hpp"
#include "support/errors.hpp"
#include "support/rng.hpp"

namespace hessbound {
namespace {

// Regularized incomplete beta I_x(a, b) by its continued fraction (Lentz), for the t distribution.
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incomplete_beta(b, a, 1 - x);
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x)) / a;
  const double tiny = 1e-300;
  double f = 1, c = 1, d = 0;
  for (int i = 0; i <= 400; ++i) {
    const int m = i / 2;
    double num;
    if (i == 0) num = 1;
    else if (i % 2 == 0) num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    else num = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    d = 1 / (std::fabs(d) < tiny ? tiny : d);
    c = 1 + num / c;
    if (std::fabs(c) < tiny) c = tiny;
    const double cd = c * d;
    f *= cd;
    if (std::fabs(1 - cd) < 1e-15) break;
  }
  return front * (f - 1);
}

// P(|T| <= t) for Student's t with df degrees of freedom.
double t_central_probability(double t, int df) {
  return 1 - incomplete_beta(0.5 * df, 0.5, df / (df + t * t));
}

// Rademacher vector (entries +-1).
void rademacher(SplitMix64& rng, std::vector<double>& v) {
  for (double& x : v) x = rng.rademacher();
}

// Removes from v its components along the first `count` rows of q (each of length n), twice (CGS2).
void project_out(const std::vector<double>& q, int count, std::size_t n, double* v) {
  for (int pass = 0; pass < 2; ++pass)
    for (int i = 0; i < count; ++i) {
      const double* qi = q.data() + static_cast<std::size_t>(i) * n;
      axpy(static_cast<int>(n), -dot(static_cast<int>(n), qi, v), qi, v);
    }
}

struct MeanAndSpread {
  double mean = 0, sd = 0;
};

MeanAndSpread mean_and_spread(const std::vector<double>& x) {
  MeanAndSpread m;
  for (double v : x) m.mean += v;
  m.mean /= x.size();
  if (x.size() > 1) {
    double ss = 0;
    for (double v : x) ss += (v - m.mean) * (v - m.mean);
    m.sd = std::sqrt(ss / (x.size() - 1));
  }
  return m;
}

}  // namespace

double student_t_quantile(double confidence, int df) {
  if (!(confidence > 0 && confidence < 1)) fail("BAD_OPTION", "confidence must be between 0 and 1");
  if (df < 1) fail("BAD_OPTION", "the t quantile needs at least one degree of freedom");
  double lo = 0, hi = 1;
  while (t_central_probability(hi, df) < confidence) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (t_central_probability(mid, df) < confidence ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

HutchppResult hutchpp_traces(const LinearOperator& op, std::size_t n, const HutchppOptions& opt,
                             const Progress& progress) {
  if (opt.products < 6) fail("BAD_OPTION", "Hutch++ needs at least 6 products (probes)");
  if (!(opt.confidence > 0 && opt.confidence < 1)) fail("BAD_OPTION", "confidence must be between 0 and 1");
  const int ni = static_cast<int>(n);
  const int k = static_cast<int>(std::min<std::size_t>(opt.products / 3, n));
  SplitMix64 rng(opt.seed ^ 0x4a7c15c0ffeeull);
  HutchppResult r;
  r.confidence = opt.confidence;
  int used = 0;
  auto apply = [&](const double* v, double* out) {
    op(v, out);
    report(progress, std::min(1.0, static_cast<double>(++used) / opt.products));
  };

  // Sketch: Q = orth(H S), dropping directions H S does not reach (rank-deficient H).
  std::vector<double> q(static_cast<std::size_t>(k) * n), s(n);
  int rank = 0;
  double largest = 0;
  for (int i = 0; i < k; ++i) {
    rademacher(rng, s);
    double* qi = q.data() + static_cast<std::size_t>(rank) * n;
    apply(s.data(), qi);
    const double before = norm2(ni, qi);
    largest = std::max(largest, before);
    project_out(q, rank, n, qi);
    const double after = norm2(ni, qi);
    if (after > 1e-10 * largest && after > 0) {
      for (std::size_t j = 0; j < n; ++j) qi[j] /= after;
      ++rank;
    }
  }
  r.sketch = rank;

  // Exact parts on range(Q): tr(Q^T H Q) and ||H Q||_F^2.
  std::vector<double> hv(n);
  for (int i = 0; i < rank; ++i) {
    const double* qi = q.data() + static_cast<std::size_t>(i) * n;
    apply(qi, hv.data());
    r.trace_sketch += dot(ni, qi, hv.data());
    r.square_sketch += dot(ni, hv.data(), hv.data());
  }

  // Residual probes with the rest of the budget (at least 2, so a spread can be estimated).
  const int probes = std::max(2, opt.products - used);
  std::vector<double> trace_samples, square_samples;
  if (static_cast<std::size_t>(rank) < n) {
    for (int i = 0; i < probes; ++i) {
      rademacher(rng, s);
      project_out(q, rank, n, s.data());
      apply(s.data(), hv.data());
      trace_samples.push_back(dot(ni, s.data(), hv.data()));
      square_samples.push_back(dot(ni, hv.data(), hv.data()));
    }
  }
  r.probes = static_cast<int>(trace_samples.size());
  r.products = used;

  if (r.probes == 0) {  // Q spans everything: both traces are exact
    r.trace = r.trace_sketch;
    r.trace_of_square = r.square_sketch;
    r.trace_interval = {r.trace, r.trace};
    r.square_interval = {r.trace_of_square, r.trace_of_square};
    return r;
  }
  const double tq = student_t_quantile(opt.confidence, r.probes - 1);
  const MeanAndSpread t = mean_and_spread(trace_samples), sq = mean_and_spread(square_samples);
  const double root = std::sqrt(static_cast<double>(r.probes));
  r.trace = r.trace_sketch + t.mean;
  r.trace_of_square = r.square_sketch + sq.mean;
  r.trace_interval = {r.trace - tq * t.sd / root, r.trace + tq * t.sd / root};
  // ||H (I - QQ^T)||_F^2 >= 0, so the interval never goes below the exact sketch part.
  r.square_interval = {std::max(r.square_sketch, r.trace_of_square - tq * sq.sd / root),
                       r.trace_of_square + tq * sq.sd / root};
  return r;
}

}  // namespace hessbound
