// The MLP and its data as the kernel sees them: flat float64 buffers in PyTorch parameter order.
#pragma once
#include <cstddef>
#include <vector>

#include "model/activation.hpp"
#include "support/large_array.hpp"

namespace hessbound {

enum class Reduction { Mean = 0, Sum = 1 };

// Shapes only: sizes = d0 (inputs), d1..d_{L-1} (hidden), d_L (classes).
struct NetSpec {
  std::vector<int> sizes;
  std::vector<bool> has_bias;  // one per affine layer (L entries)
  Activation activation = Activation::Tanh;

  int layers() const { return static_cast<int>(sizes.size()) - 1; }
  int inputs() const { return sizes.front(); }
  int classes() const { return sizes.back(); }
  // Offsets of W_l and b_l inside the flat parameter vector (l = 0 .. L-1).
  std::size_t weight_offset(int l) const;
  std::size_t bias_offset(int l) const;
  std::size_t parameter_count() const;
};

// Everything a curvature computation reads. Buffers are borrowed, not owned.
struct Problem {
  NetSpec net;
  const double* params = nullptr;   // P
  const double* x = nullptr;        // N x d0, row-major
  const double* targets = nullptr;  // N x c, row-major, rows are distributions
  int samples = 0;
  Reduction reduction = Reduction::Mean;

  double scale() const { return reduction == Reduction::Mean ? 1.0 / samples : 1.0; }
  const double* weight(int l) const { return params + net.weight_offset(l); }
  const double* bias(int l) const { return net.has_bias[l] ? params + net.bias_offset(l) : nullptr; }
};

// Checks shapes and finiteness; throws KernelError naming the problem.
void validate(const Problem& problem);

// Forward pass and first backward pass for all samples, kept for Hessian-vector products.
struct ForwardCache {
  std::vector<LargeArray> pre;    // u_l, N x d_l, l = 1..L (index l-1)
  std::vector<LargeArray> post;   // a_l = sigma(u_l) for hidden layers (index l-1)
  std::vector<LargeArray> d1;     // sigma'(u_l) for hidden layers
  std::vector<LargeArray> d2;     // sigma''(u_l) for hidden layers
  LargeArray probs;               // softmax, N x c
  std::vector<LargeArray> delta;  // scaled backprop signals delta_l, N x d_l, l = 1..L
  std::vector<LargeArray> back;   // W_{l+1}^T delta_{l+1} for hidden l, N x d_l
  double loss = 0;

  // Input of affine layer l (0-based): x for l = 0, else post[l-1].
  const double* input(const Problem& p, int l) const { return l == 0 ? p.x : post[l - 1].data(); }
};

ForwardCache forward_backward(const Problem& problem);

// forward_backward for a point that is analyzed, not searched: finite weights whose products
// overflow float64 (infinite pre-activations, hence NaN probabilities) are a NON_FINITE error
// naming the layer and sample, instead of NaN reaching LAPACK. (Training calls the unchecked one:
// its line searches step into overflowing points on purpose and back off.)
ForwardCache forward_backward_checked(const Problem& problem);

// Gradient (length P) from a cache.
std::vector<double> gradient(const Problem& problem, const ForwardCache& cache);

}  // namespace hessbound
