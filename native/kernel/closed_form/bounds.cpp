#include "closed_form/bounds.hpp"

#include <algorithm>
#include <cmath>

#include "support/errors.hpp"

namespace hessbound {

WsBounds ws_bounds(double trace, double trace_of_square, double n) {
  if (!(n >= 1)) fail("BAD_OPTION", "WS bounds need a matrix of size at least 1");
  if (!std::isfinite(trace) || !std::isfinite(trace_of_square) || trace_of_square < 0)
    fail("NON_FINITE", "WS bounds need finite traces with tr(H^2) >= 0");
  WsBounds b{};
  b.mean = trace / n;
  // s^2 is a variance; rounding can push it a hair below zero when all eigenvalues are equal.
  b.deviation = std::sqrt(std::max(0.0, trace_of_square / n - b.mean * b.mean));
  const double r = std::sqrt(n - 1);
  b.upper = b.mean + b.deviation * r;
  b.lower_of_min = b.mean - b.deviation * r;
  // With n = 1 the only eigenvalue is the mean and s = 0.
  b.lower_of_max = r > 0 ? b.mean + b.deviation / r : b.mean;
  b.upper_of_min = r > 0 ? b.mean - b.deviation / r : b.mean;
  b.spread = b.deviation * std::sqrt(2 * n);
  b.frobenius = std::sqrt(trace_of_square);
  return b;
}

}  // namespace hessbound
