// The exact dense Hessian (P x P, row-major, symmetric).
#pragma once
#include <cstdint>

#include "model/network.hpp"
#include "support/progress.hpp"

namespace hessbound {

enum class HessianAssembly {
  Auto = 0,       // Kronecker blocks for one hidden layer, Hessian-vector products otherwise
  Kronecker = 1,  // one hidden layer only (curvature.md section 3)
  Hvp = 2,        // one exact Hessian-vector product per column, any depth
};

// Bytes a dense P x P float64 matrix takes, in 64-bit arithmetic (no overflow on wasm32).
std::uint64_t dense_bytes(std::uint64_t parameters);

// Throws TOO_LARGE, with the size and the Lanczos hint, when P x P would exceed max_bytes.
void check_dense_fits(std::uint64_t parameters, std::uint64_t max_bytes);

// Writes the Hessian into h (P x P). Returns the assembly actually used.
HessianAssembly dense_hessian(const Problem& problem, const ForwardCache& cache, double* h, HessianAssembly how,
                              const Progress& progress = {});

}  // namespace hessbound
