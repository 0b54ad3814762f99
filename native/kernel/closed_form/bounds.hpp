// Wolkowicz-Styan bounds (LAA 29, 1980) from tr(H) and tr(H^2) of a symmetric n x n matrix.
#pragma once

namespace hessbound {

struct WsBounds {
  double upper;        // lambda_max <= m + s sqrt(n-1)   (the paper's bound)
  double lower_of_max; // lambda_max >= m + s / sqrt(n-1)
  double lower_of_min; // lambda_min >= m - s sqrt(n-1)
  double upper_of_min; // lambda_min <= m - s / sqrt(n-1)
  double spread;       // lambda_max - lambda_min <= s sqrt(2n)
  double frobenius;    // |lambda| <= sqrt(tr H^2), for comparison
  double mean;         // m = tr H / n
  double deviation;    // s
};

WsBounds ws_bounds(double trace, double trace_of_square, double n);

}  // namespace hessbound
