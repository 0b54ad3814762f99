// The first layer's two products of a Hessian-vector product, R(u_0) = X V_0^T and
// (Hv)_W(0) = R(delta_0)^T X, over the nonzeros of X only.
//
// Image-like inputs are mostly zeros (MNIST ~19% nonzero, bench/lib/synthetic-digits.ts 24%), and
// these two products are the bulk of a product's flops at 784 inputs: a dense GEMM spends 4/5 of
// them on zeros. Same math as the dense path: every entry is a sum over the same nonzero terms
// (the dense path adds exact zeros besides), in a fixed order that depends on the problem only, so
// results equal the dense path's to rounding and stay bit-identical for any thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/network.hpp"

namespace hessbound {

// How layer 0 reads X: HESSBOUND_SPARSE_INPUTS=auto (default: sparse below kSparseMaxDensity),
// dense or sparse natively; the WebAssembly host sets it (hb_set_sparse_inputs), as Emscripten's
// getenv does not see process.env. Read once per process.
enum class InputFormat : int { Auto = 0, Dense = 1, Sparse = 2 };
void set_input_format(InputFormat format);
InputFormat input_format();

// X's nonzeros by column within each block of rows of the products (the blocks of hvp.cpp, which
// depend on the problem only): block b holds rows [first_row[b], first_row[b] + rows[b]), and its
// column i's nonzeros are row/vals[col_start[b (d + 1) + i] .. col_start[b (d + 1) + i + 1]), rows
// increasing, as offsets from the block's first row.
struct SparseInputs {
  int d = 0;
  std::vector<int> first_row, rows;
  std::vector<std::int64_t> col_start;
  std::vector<std::int32_t> row;
  std::vector<double> vals;
  bool empty() const { return first_row.empty(); }
  int block_at(int n0) const;  // the block starting at row n0
};

// Whether layer 0 should read X by its nonzeros (the format setting, else X's density). Scans X.
bool sparse_inputs_wanted(const Problem& p);

// X by blocks: the samples split into `chunks` chunks as sample_chunks.hpp does, each chunk into
// blocks of `block_rows` rows.
SparseInputs sparse_inputs(const Problem& p, int chunks, int block_rows);

// Bytes sparse_inputs keeps for `nonzeros` nonzeros in `blocks` blocks of d columns.
std::size_t sparse_inputs_bytes(std::size_t blocks, std::size_t d, std::size_t nonzeros);

// One block of m rows, width H (row stride Hs of R(delta_0)).
struct SparseFirstLayer {
  int block, m, H, Hs;
  const SparseInputs* x;
  const double* vt;  // V_0^T, d x H (sparse_transpose of the direction's layer-0 block)
  double* ru;        // R(u_0), m x H
  const double* rd;  // R(delta_0), m x Hs
  double* acc;       // (Hv)_W(0) transposed, d x H: sums over the rows so far
  double* tile;      // m x kSparseTileColumns scratch (forward)
};

// Columns of R(u_0) the forward pass builds at a time, in a contiguous tile: rows of R(u_0) are
// width x 8 bytes apart, so the block's rows of a column slice would share a few L1 sets.
constexpr int kSparseTileColumns = 32;

// vt = V^T for V of H x d.
void sparse_transpose(int H, int d, const double* V, double* vt);
// ru = X V_0^T on the block (each entry a sum over the row's nonzeros by increasing column).
void sparse_forward(const SparseFirstLayer& b);
// acc += X^T R(delta_0) on the block (each entry one running sum over rows in order).
void sparse_params(const SparseFirstLayer& b);
// out (H x d) = acc^T.
void sparse_params_store(int H, int d, const double* acc, double* out);

}  // namespace hessbound
