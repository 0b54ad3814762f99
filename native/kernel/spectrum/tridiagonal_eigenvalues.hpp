// All eigenvalues of a symmetric tridiagonal matrix, for the Eigen (WebAssembly) build: Eigen's
// computeFromTridiagonal applies Givens rotations (a square root each) even for eigenvalues only,
// about 0.1 s at n = 2051 in WebAssembly, a tenth of the whole eigensolve.
#pragma once

namespace hessbound {

// The root-free QL/QR iteration of LAPACK's dsterf (Pal, Walker and Kahan): diagonal d (n entries)
// and off-diagonal e (n - 1 entries, destroyed). On success d holds the eigenvalues in ascending
// order; false when an eigenvalue did not converge within 30 n iterations (d, e then undefined).
bool tridiagonal_eigenvalues(int n, double* d, double* e);

}  // namespace hessbound
