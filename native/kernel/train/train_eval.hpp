// The loss and gradient that training evaluates a thousand times: made for that, unlike
// forward_backward (network.hpp), which keeps every intermediate a Hessian-vector product needs.
#pragma once
#include <vector>

#include "model/network.hpp"

namespace hessbound {

// Evaluates the cross-entropy loss and its gradient at any parameters of one problem's network and
// data, reusing its buffers (allocated once, for a block of rows per thread, not N x width).
//
// The samples are split into a fixed number of chunks that depends on the problem only; each
// chunk's contribution is summed in sample order into a gradient of its own, and the chunks' sums
// are added in chunk order. The kernel's threads take chunks as they come, each calling a
// single-threaded BLAS, so the result is bit-identical for any HESSBOUND_THREADS or
// OPENBLAS_NUM_THREADS (as in hvp.cpp). Differs from gradient(forward_backward()) by rounding.
//
// Products: on x86-64 CPUs with AVX-512F, the fixed-order loops of gemm512.hpp (every gradient
// entry one running sum over the chunk's samples); elsewhere BLAS (Eigen in WebAssembly). The two
// paths differ by rounding only (test/train-eval-simd.test.ts).
class TrainEvaluator {
 public:
  // problem.params is not read. min_chunk_rows > 0: chunks of at least that many samples (fewer
  // chunks than sample_chunk_count's; still a function of the problem's shape only).
  explicit TrainEvaluator(const Problem& problem, int min_chunk_rows = 0);
  TrainEvaluator(const TrainEvaluator&) = delete;
  TrainEvaluator& operator=(const TrainEvaluator&) = delete;

  // Mean (or summed) cross-entropy at params (P entries); its gradient into grad (P entries).
  // Overflowing weights give a non-finite loss or gradient, not an error (line searches back off).
  double evaluate(const double* params, double* grad);

  int threads() const { return threads_; }
  int chunks() const { return chunks_; }

 private:
  struct Scratch {
    std::vector<std::vector<double>> act;    // a_l for hidden layers, rows x d_l
    std::vector<std::vector<double>> delta;  // u_l, then sigma'(u_l) (generic activations), then delta_l
    std::vector<double> back;                // W_{l+1}^T delta_{l+1}, rows x widest hidden
    std::vector<double> softmax;             // the softmax pass's scratch, (rows + 2) x classes
  };
  double run_chunk(int chunk, Scratch& s, const double* params, double* out) const;
  double run_chunk512(int begin, int end, Scratch& s, const double* params, double* out) const;

  Problem p_;
  int chunks_ = 1, threads_ = 1, rows_ = 1;
  std::size_t P_ = 0;
  std::vector<Scratch> scratch_;   // one per thread
  bool simd_ = false;                     // the AVX-512 products (gemm512.hpp) instead of BLAS
  std::vector<double> packed_;            // each layer's W_l packed for gemm512_nt, per evaluation
  std::vector<std::size_t> packed_at_;    // where layer l's starts in packed_
  std::vector<int> ld_;                   // row stride of layer l's block arrays (u, a, delta)
  std::vector<double> partial_;    // the gradients of chunks 1..C-1
  std::vector<double> chunk_loss_;
};

}  // namespace hessbound
