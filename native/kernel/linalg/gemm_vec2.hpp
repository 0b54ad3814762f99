// Dense products on 2-lane double vectors (WebAssembly SIMD128), for the Eigen build: Eigen 3.4 has
// no WebAssembly SIMD path, so its GEMM, GEMV and reductions run scalar there (blas.cpp uses these
// instead when __wasm_simd128__ is defined). Written with GCC/Clang vector types, so the same code
// also compiles natively (SSE2) for testing. Every output entry is summed in a fixed order, which
// depends on the shapes only.
#pragma once

namespace hessbound {

// C = alpha * op(A) * op(B) + beta * C, row-major, like gemm() in blas.hpp.
void gemm_vec2(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a, int lda,
               const double* b, int ldb, double beta, double* c, int ldc);

// y = alpha * op(A) x + beta * y, like gemv() in blas.hpp.
void gemv_vec2(bool trans, int m, int n, double alpha, const double* a, int lda, const double* x, double beta,
               double* y);

double dot_vec2(int n, const double* x, const double* y);

// Householder reduction of the symmetric n x n matrix whose lower triangle is in the row-major
// array a (row stride n; overwritten) to tridiagonal form: diag d (n entries) and subdiagonal e
// (n - 1 entries, up to sign) with the same eigenvalues. The reflections are not kept (eigenvalues
// only). Blocked like LAPACK's dsytrd (lower): panels of TRIDIAGONAL_PANEL columns, each column's
// symmetric matrix-vector product reading the lower triangle once, then one rank-2nb update of the
// trailing matrix by GEMM per panel. Up to TRIDIAGONAL_UNBLOCKED_BELOW rows (the whole matrix when
// it is that small, else the last block) the unblocked routine, like dsytd2, with each step's rank-2
// update fused into the next step's product: one pass over the lower triangle per step, which is
// as fast while the triangle stays in cache (measured in WebAssembly, unblocked against blocked down
// to 512 rows: 12.5 against 12.6 ms at n = 515, 46 against 48 ms at n = 800, 123 against 99 ms at
// n = 1024).
void tridiagonalize_lower_vec2(int n, double* a, double* d, double* e);

constexpr int TRIDIAGONAL_PANEL = 32, TRIDIAGONAL_UNBLOCKED_BELOW = 768;

// The same with the panel width nb and crossover nx chosen (nb = 0: unblocked throughout), for tests.
void tridiagonalize_lower_blocked_vec2(int n, double* a, double* d, double* e, int nb, int nx);

}  // namespace hessbound
