// The six smooth activations and their first two derivatives (curvature.md, section 1).
#pragma once
#include <string>

namespace hessbound {

enum class Activation { Sigmoid = 0, Tanh = 1, Softplus = 2, Gelu = 3, Silu = 4, Identity = 5 };

Activation activation_from_name(const std::string& name);
const char* activation_name(Activation a);
Activation activation_from_int(int code);

// Evaluates sigma, sigma' and sigma'' of n pre-activations at once; any output may be null.
void activate(Activation a, const double* u, int n, double* value, double* d1, double* d2);

}  // namespace hessbound
