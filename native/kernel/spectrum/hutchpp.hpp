// Hutch++ (Meyer, Musco, Musco, Woodruff 2021) estimates of tr(H) and tr(H^2) = ||H||_F^2 from
// matrix-vector products with a symmetric operator, with a confidence interval.
//
// With m products: k = m/3 go into a sketch Q = orth(H S), k into H Q, the rest r into residual
// probes g (Rademacher), projected to g' = (I - QQ^T) g:
//   tr(H)   = tr(Q^T H Q)   + E[g'^T H g']        (the Hutchinson estimate of the deflated part)
//   tr(H^2) = ||H Q||_F^2   + E[||H g'||^2]       (= ||H (I - QQ^T)||_F^2, same products)
// The sketch parts are exact given Q; the residual parts are means of r independent samples, so the
// interval is mean +- t_{r-1} * sd / sqrt(r) (a CLT interval, conditional on Q).
#pragma once
#include <cstdint>

#include "spectrum/lanczos.hpp"
#include "support/progress.hpp"

namespace hessbound {

struct HutchppOptions {
  int products = 150;       // operator applications in all
  std::uint64_t seed = 0;
  double confidence = 0.95;
};

struct Interval {
  double low = 0, high = 0;
};

struct HutchppResult {
  double trace = 0, trace_of_square = 0;
  Interval trace_interval, square_interval;
  double confidence = 0.95;
  int products = 0;  // actually used
  int sketch = 0;    // rank of Q
  int probes = 0;    // residual probes
  double trace_sketch = 0, square_sketch = 0;  // the exact (deterministic given Q) parts
};

HutchppResult hutchpp_traces(const LinearOperator& op, std::size_t n, const HutchppOptions& options,
                             const Progress& progress = {});

// Two-sided Student t quantile t_{(1+confidence)/2, df} (df >= 1).
double student_t_quantile(double confidence, int df);

}  // namespace hessbound
