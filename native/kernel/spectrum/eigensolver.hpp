// Dense symmetric eigensolver: LAPACK dsyevd/dsyevr natively, Eigen in the WebAssembly build.
#pragma once
#include <vector>

namespace hessbound {

struct EigenPairs {
  std::vector<double> values;   // ascending
  std::vector<double> vectors;  // n x count, row-major (column i is the vector of values[i]); empty if not asked
};

// All eigenvalues (ascending) of the symmetric n x n row-major matrix a; a is destroyed.
std::vector<double> symmetric_eigenvalues(int n, double* a);

// Eigenpairs with ascending indices first..last (0-based, inclusive); a is destroyed.
EigenPairs symmetric_eigen_range(int n, double* a, int first, int last, bool vectors);

}  // namespace hessbound
