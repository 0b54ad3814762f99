// AVX-512 matrix products for training's evaluation (train_eval.cpp), row-major throughout.
//
// Why hand-written: the bench machine's OpenBLAS is held to its AVX2 kernels
// (OPENBLAS_CORETYPE=Haswell in its environment; OpenBLAS 0.3.21 does not know the CPU), i.e. to
// half of what one core's 512-bit FMA units can do; and OpenBLAS runs the thin products against the
// 10 classes at a fraction of its own rate. These loops use 512-bit registers and register tiles
// shaped for training's products (bench/gemm512-peak: their rate next to OpenBLAS's and the peak).
//
// Every entry of a result is one running sum over k in order (starting from the old entry when
// accumulating): the arithmetic depends on the operands only, never on threads or timing.
//
// Native x86-64 GCC builds only, chosen at run time (gemm512_available()); elsewhere, on CPUs without
// AVX-512F, under HESSBOUND_SIMD=avx2 or generic (simd_path.hpp), and in builds with
// -DHESSBOUND_TRAIN_SIMD_LEVEL=0 (to test that path on this machine)
// training keeps its BLAS products, and these functions must not be called.
#pragma once

#include <cstddef>

namespace hessbound {

bool gemm512_available();

// Doubles needed for the packed copy of B^T for gemm512_nt (B is n x k).
std::size_t gemm512_packed_size(int n, int k);
// Packs B (n x k, row stride ldb) for gemm512_nt: column panels of B^T, zero-padded.
void gemm512_pack(int n, int k, const double* b, int ldb, double* packed);

// Called after each group of rows [row0, row0 + rows) of a product is complete (while it is in
// L1), for the elementwise pass that follows it.
struct RowsDone {
  void (*fn)(void* context, int row0, int rows) = nullptr;
  void* context = nullptr;
};

// C (m x n) = A (m x k) B^T, B packed by gemm512_pack.
void gemm512_nt(int m, int n, int k, const double* a, int lda, const double* packed, double* c, int ldc,
                RowsDone done = {});

// C (m x n) = A^T B (accumulate: C += A^T B), A is k x m and B is k x n. col_sums (m entries, or
// null) gets (or, accumulating, adds) the column sums of A, each one running sum in row order.
void gemm512_tn(int m, int n, int k, const double* a, int lda, const double* b, int ldb, bool accumulate, double* c,
                int ldc, double* col_sums);

// C (m x n) = A (m x k) B (k x n), then scaled entrywise: Scale::TanhDerivative multiplies by
// 1 - t^2 (t: m x n, row stride ldt; tanh's derivative from its values), Scale::ByC by C's old
// entries (a derivative stored there).
enum class Scale { None, TanhDerivative, ByC };
void gemm512_nn(int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c, int ldc,
                Scale scale = Scale::None, const double* t = nullptr, int ldt = 0);

}  // namespace hessbound
