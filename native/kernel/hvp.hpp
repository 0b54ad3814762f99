// Exact Hessian-vector products for any depth (Pearlmutter's R-operator, curvature.md section 2).
#pragma once
#include "network.hpp"

namespace hessbound {

// out = H v for one direction v (length P); the cache holds the forward/backward pass at the point.
void hvp(const Problem& problem, const ForwardCache& cache, const double* v, double* out);

}  // namespace hessbound
