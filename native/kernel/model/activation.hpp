// The activations and their first two derivatives (curvature.md, section 1).
#pragma once
#include <string>

namespace hessbound {

// One activation for every hidden layer. ReLU and leaky ReLU are piecewise linear: sigma'' = 0
// between kinks, so every Hessian here is the almost-everywhere one (what autograd computes).
// Compared with `==` against a kind (net.activation == Activation::Tanh); `leaky_slope` is the
// slope for u <= 0 of leaky_relu (PyTorch's negative_slope) and unused by the other kinds.
struct Activation {
  enum Kind { Sigmoid = 0, Tanh = 1, Softplus = 2, Gelu = 3, Silu = 4, Identity = 5, Relu = 6, LeakyRelu = 7 };
  Kind kind = Tanh;
  double leaky_slope = 0.01;

  Activation() = default;
  Activation(Kind k) : kind(k) {}  // NOLINT: implicit, so `Activation a = Activation::Tanh` reads naturally
  bool operator==(Kind k) const { return kind == k; }
  bool operator!=(Kind k) const { return kind != k; }
};

Activation activation_from_name(const std::string& name);
const char* activation_name(Activation a);
// `leaky_slope` must be finite; it is kept only for leaky_relu.
Activation activation_from_int(int code, double leaky_slope = 0.01);

// False for the piecewise-linear activations (identity, relu, leaky_relu): sigma'' = 0 wherever it
// is defined, so the closed form's sigma'' residual vanishes and is not computed.
bool has_second_derivative(Activation a);

// Evaluates sigma, sigma' and sigma'' of n pre-activations at once; any output may be null.
// At a kink (u = 0) sigma' takes PyTorch's value: 0 for relu, the slope for leaky_relu.
void activate(Activation a, const double* u, int n, double* value, double* d1, double* d2);

}  // namespace hessbound
