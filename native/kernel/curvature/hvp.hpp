// Exact Hessian-vector products for any depth (Pearlmutter's R-operator, curvature.md section 2).
#pragma once
#include <vector>

#include "curvature/sparse_inputs.hpp"
#include "model/network.hpp"

namespace hessbound {

// Applies H to many directions at one point, reusing its scratch buffers: fresh N x width buffers
// per product would cost page faults comparable to the GEMMs themselves.
class HvpEngine {
 public:
  HvpEngine(const Problem& problem, const ForwardCache& cache);
  // out = H v (both length P).
  void apply(const double* v, double* out);
  // Whether layer 0 reads X by its nonzeros (sparse_inputs.hpp).
  bool sparse_inputs() const { return !sparse_.empty(); }

 private:
  const Problem& p_;
  const ForwardCache& cache_;
  SparseInputs sparse_;  // X by its nonzeros when layer 0 reads it so (sparse_inputs.hpp)
  std::vector<std::vector<double>> r_pre_, r_post_, r_delta_;
  std::vector<double> tmp_;
};

// One product; prefer HvpEngine for many.
void hvp(const Problem& problem, const ForwardCache& cache, const double* v, double* out);

}  // namespace hessbound
