#include "model/activation.hpp"

#include <cmath>

#include "support/errors.hpp"

namespace hessbound {
namespace {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

// Stable logistic: never exponentiates a large positive number.
inline double sigmoid(double u) {
  if (u >= 0) return 1.0 / (1.0 + std::exp(-u));
  const double e = std::exp(u);
  return e / (1.0 + e);
}

// log(1 + e^u) without overflow for large u or loss of precision for very negative u.
inline double softplus(double u) { return u > 0 ? u + std::log1p(std::exp(-u)) : std::log1p(std::exp(u)); }

}  // namespace

Activation activation_from_name(const std::string& name) {
  if (name == "sigmoid") return Activation::Sigmoid;
  if (name == "tanh") return Activation::Tanh;
  if (name == "softplus") return Activation::Softplus;
  if (name == "gelu") return Activation::Gelu;
  if (name == "silu") return Activation::Silu;
  if (name == "identity") return Activation::Identity;
  if (name == "relu") return Activation::Relu;
  if (name == "leaky_relu") return Activation::LeakyRelu;
  fail("BAD_ACTIVATION", "unknown activation '" + name +
                             "' (expected sigmoid, tanh, softplus, gelu, silu, identity, relu or leaky_relu)");
}

Activation activation_from_int(int code, double leaky_slope) {
  if (code < 0 || code > 7) fail("BAD_ACTIVATION", "activation code out of range: " + std::to_string(code));
  Activation a(static_cast<Activation::Kind>(code));
  if (a == Activation::LeakyRelu) {
    if (!std::isfinite(leaky_slope))
      fail("BAD_ACTIVATION", "the leaky_relu slope must be a finite number, got " + std::to_string(leaky_slope));
    a.leaky_slope = leaky_slope;
  }
  return a;
}

const char* activation_name(Activation a) {
  switch (a.kind) {
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Tanh: return "tanh";
    case Activation::Softplus: return "softplus";
    case Activation::Gelu: return "gelu";
    case Activation::Silu: return "silu";
    case Activation::Identity: return "identity";
    case Activation::Relu: return "relu";
    case Activation::LeakyRelu: return "leaky_relu";
  }
  return "?";
}

bool has_second_derivative(Activation a) {
  return a != Activation::Identity && a != Activation::Relu && a != Activation::LeakyRelu;
}

void activate(Activation a, const double* u, int n, double* value, double* d1, double* d2) {
  for (int i = 0; i < n; ++i) {
    const double x = u[i];
    double f = 0, f1 = 0, f2 = 0;
    switch (a.kind) {
      case Activation::Sigmoid: {
        const double s = sigmoid(x);
        f = s;
        f1 = s * (1 - s);
        f2 = f1 * (1 - 2 * s);
        break;
      }
      case Activation::Tanh: {
        const double t = std::tanh(x);
        f = t;
        f1 = 1 - t * t;
        f2 = -2 * t * f1;
        break;
      }
      case Activation::Softplus: {
        const double s = sigmoid(x);
        f = softplus(x);
        f1 = s;
        f2 = s * (1 - s);
        break;
      }
      case Activation::Gelu: {
        const double cdf = 0.5 * std::erfc(-x * kInvSqrt2);
        const double pdf = kInvSqrt2Pi * std::exp(-0.5 * x * x);
        f = x * cdf;
        f1 = cdf + x * pdf;
        f2 = pdf * (2 - x * x);
        break;
      }
      case Activation::Silu: {
        const double s = sigmoid(x);
        f = x * s;
        f1 = s * (1 + x * (1 - s));
        f2 = s * (1 - s) * (2 + x * (1 - 2 * s));
        break;
      }
      case Activation::Identity:
        f = x;
        f1 = 1;
        f2 = 0;
        break;
      case Activation::Relu:  // sigma'' = 0 away from the kink; sigma'(0) = 0 as in PyTorch
        f = x > 0 ? x : 0;
        f1 = x > 0 ? 1 : 0;
        f2 = 0;
        break;
      case Activation::LeakyRelu:  // sigma'(0) = slope as in PyTorch
        f = x > 0 ? x : a.leaky_slope * x;
        f1 = x > 0 ? 1 : a.leaky_slope;
        f2 = 0;
        break;
    }
    if (value) value[i] = f;
    if (d1) d1[i] = f1;
    if (d2) d2[i] = f2;
  }
}

}  // namespace hessbound
