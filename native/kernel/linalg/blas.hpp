// The few dense linear-algebra primitives the kernel needs, row-major throughout.
// Natively they call OpenBLAS/LAPACKE; in the WebAssembly build (no HESSBOUND_USE_BLAS) Eigen.
#pragma once

namespace hessbound {

// C = alpha * op(A) * op(B) + beta * C, all row-major; op(X) = X or X^T.
void gemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double* a, int lda,
          const double* b, int ldb, double beta, double* c, int ldc);

// y = alpha * op(A) x + beta * y, A row-major m x n; op(A) = A (y has m entries) or A^T (y has n).
// For one vector, prefer this to gemm(..., n = 1, ...): OpenBLAS's GEMM packs the whole of A first.
void gemv(bool trans, int m, int n, double alpha, const double* a, int lda, const double* x, double beta, double* y);

// C = alpha * A^T A + beta * C on the upper triangle (row-major), A is k x n; C is n x n.
void syrk_upper_at_a(int n, int k, double alpha, const double* a, int lda, double beta, double* c, int ldc);

// Fills the strictly lower triangle of a row-major n x n matrix from its upper triangle.
void mirror_upper(int n, double* c, int ldc);

double dot(int n, const double* x, const double* y);
void axpy(int n, double alpha, const double* x, double* y);
double norm2(int n, const double* x);

// Which linear-algebra library this build uses, for reports.
const char* linalg_backend();

// The kernel set OpenBLAS picked for this CPU (openblas_get_corename: "SkylakeX", "Haswell", "Zen",
// ...; OPENBLAS_CORETYPE overrides it), "eigen" for Eigen, "unknown" for another BLAS.
const char* blas_kernels();
// Whether that set uses AVX-512 (where the hand-written AVX-512 loops must beat it to be used).
bool blas_runs_avx512();

// Threads the BLAS uses for one call: 1 for Eigen (WebAssembly), OpenBLAS's setting natively
// (OPENBLAS_NUM_THREADS, or the cores), 0 when it cannot be known (another BLAS). While a
// BlasSerialScope is alive it still reports the setting the scope saved, not the 1 it imposes.
int blas_threads();

// While at least one of these is alive anywhere in the process, OpenBLAS runs every call on the
// calling thread, for the kernel's own worker threads (hvp.cpp): a multithreaded OpenBLAS called
// from several threads at once serializes them (its level-3 driver holds one lock) and
// oversubscribes the cores. OpenBLAS has only a process-wide thread count, so the scopes are
// counted: the first one saves the count and sets 1, the last one restores it; scopes on
// different threads (concurrent calls of the addon) nest safely. BLAS calls made meanwhile by
// other threads outside any scope run single-threaded too: slower, never wrong. A no-op for Eigen
// and for a BLAS that is not OpenBLAS.
class BlasSerialScope {
 public:
  BlasSerialScope();
  ~BlasSerialScope();
  BlasSerialScope(const BlasSerialScope&) = delete;
  BlasSerialScope& operator=(const BlasSerialScope&) = delete;
};

}  // namespace hessbound
