// Y = A^T B for tall matrices A (rows x a.columns) and B (rows x b.columns) whose columns are
// generated on demand, visited block by block so that neither A, B nor Y ever exists whole.
// The primal closed form uses it to take Frobenius norms of Hessian blocks panel by panel.
#pragma once
#include <cstddef>
#include <functional>

#include "support/progress.hpp"

namespace hessbound {

struct ColumnSource {
  std::size_t columns = 0;
  // Panels start and end on multiples of this, so columns that belong together stay together.
  int granularity = 1;
  // Writes columns first .. first+count of every row into out (rows x count, row-major).
  std::function<void(std::size_t first, int count, double* out)> fill;
};

// y is na x nb row-major: y[i][j] = sum_rows A[row][a0 + i] B[row][b0 + j]. The visitor adds the
// block's contributions into sums[0 .. count) (zero on entry), the block's own partial sums.
using ProductBlockVisitor =
    std::function<void(std::size_t a0, int na, std::size_t b0, int nb, const double* y, double* sums)>;

// Scratch (two panels and one block of Y) stays near work_bytes per thread. The blocks run on
// `threads` of the kernel's threads (sample_chunks.hpp; each GEMM single-threaded) and their partial
// sums are added into totals[0 .. count) in block order: bit-identical for any thread count.
// Progress and cancellation on the calling thread, after each of its blocks.
void for_each_product_block(int rows, const ColumnSource& a, const ColumnSource& b, std::size_t work_bytes, int count,
                            const ProductBlockVisitor& visit, double* totals, const Progress& progress = {},
                            int threads = 1);

// Column count of the packed upper triangle (i <= j) of an n x n symmetric matrix, and the
// weight sqrt(2) that makes a packed Frobenius norm count each off-diagonal entry twice.
inline std::size_t packed_size(int n) { return static_cast<std::size_t>(n) * (n + 1) / 2; }
constexpr double kSqrt2 = 1.41421356237309504880;

// Packed v v^T of the rows of v (rows x n): column (i, j) holds v_i v_j, times sqrt(2) if i < j.
ColumnSource packed_outer(int rows, int n, const double* v);

// Walks packed pairs (i, j), i <= j < n, row by row, starting from packed index `first`.
class PackedPairs {
 public:
  PackedPairs(int n, std::size_t first);
  int i() const { return i_; }
  int j() const { return j_; }
  void next() {
    if (++j_ == n_) j_ = ++i_;
  }

 private:
  int n_, i_ = 0, j_ = 0;
};

}  // namespace hessbound
