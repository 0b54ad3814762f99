// Exact gradient of tr(H), tr(H^2) and the Wolkowicz-Styan numbers with respect to every parameter
// of a one-hidden-layer network (docs/hsr.md): the adjoint (reverse mode) of the closed form's sum
// over sample pairs, on the same per-sample quantities as the traces, never forming a P x P matrix.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "closed_form/bounds.hpp"
#include "commands.hpp"
#include "model/network.hpp"
#include "support/progress.hpp"

namespace hessbound {

// Which evaluation the adjoint of tr(H^2) runs through: the pair sum (dual, O(N^2)) or the Hessian
// blocks (primal, O(N)); Auto picks the cheaper by the traces' own cost model (closed_form.hpp).
enum class AdjointForm { Auto = 0, Dual = 1, Primal = 2 };

// Gradients of the two traces (length P each, PyTorch parameter order), reduction applied.
struct TraceGradients {
  // The values, with `with_values` (else 0): tr H from the diagonal terms, tr(H^2) as the primal
  // form's by-product or by the dual traces on the same per-sample quantities.
  double trace = 0, trace_of_square = 0;
  std::vector<double> trace_grad, square_grad;
  double loss = 0;
  AdjointForm form = AdjointForm::Dual;  // the form used (never Auto)
};

// One hidden layer only (BAD_MODEL otherwise). `with_square` = false skips the tr(H^2) adjoint.
// work_bytes bounds the primal form's panels (as the traces' TracesOptions::work_bytes).
// `with_values` also fills trace and trace_of_square (HSR training: one pass for value and gradient).
TraceGradients trace_gradients(const Problem& problem, bool with_square = true, const Progress& progress = {},
                               AdjointForm form = AdjointForm::Auto, std::size_t work_bytes = 256u << 20,
                               bool with_values = false);

// Gradients of the WS numbers by the chain rule through m = trH / P and s = sqrt(trH2 / P - m^2).
// They are undefined where s = 0 (all eigenvalues equal); `defined` is then false and the arrays
// depending on s are empty.
struct WsGradients {
  bool defined = false;
  std::vector<double> upper, lower_of_max, lower_of_min, upper_of_min, spread, frobenius;
};
WsGradients ws_gradients(const TraceGradients& t, double parameters);

// The kernel command "wsGradient": options method (0 auto, 1 dual, 2 primal: the evaluation of the
// reported trace values, as in "traces", and the form of the adjoint), workBytes.
std::string ws_gradient_command(const Problem& problem, const CommandOptions& options, const Progress& progress);

// sigma''' of n pre-activations (the gradient of e = sigma''(u) * (W2^T g) needs it).
void activation_third(Activation a, const double* u, int n, double* d3);

}  // namespace hessbound
