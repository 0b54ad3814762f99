// What the two adjoints of tr(H^2) share (ws_gradient.cpp: pair/dual form; ws_gradient_primal.cpp:
// block/primal form): the dense per-sample matrices they read and the per-sample adjoints they write.
// Both write the adjoints of HALF the unscaled tr(H^2); the caller scales by 2 w^2.
#pragma once
#include <cstddef>
#include <vector>

#include "closed_form/closed_form.hpp"
#include "support/progress.hpp"

namespace hessbound {

// Dense per-sample matrices: A_n, M_n = W2 diag(s_n), C_n (C from the saturation-safe form).
struct SampleMatrices {
  std::vector<double> A, M, C;  // N x c x c, N x c x h, N x c x h
};

SampleMatrices sample_matrices(const HiddenLayerData& D);

// Adjoints of the per-sample quantities (Abar, Mbar, ebar, gbar, sbar, zbar).
struct SampleAdjoints {
  std::vector<double> A, M, e, g, s, z;
  SampleAdjoints(int N, int c, int h)
      : A(static_cast<std::size_t>(N) * c * c, 0.0), M(static_cast<std::size_t>(N) * c * h, 0.0),
        e(static_cast<std::size_t>(N) * h, 0.0), g(static_cast<std::size_t>(N) * c, 0.0),
        s(static_cast<std::size_t>(N) * h, 0.0), z(static_cast<std::size_t>(N) * h, 0.0) {}
};

// The block (primal) form: adjoints of (1/2) tr(H^2) unscaled, added into `a`, from the Hessian
// blocks taken panel by panel as in primal_square_terms. Returns tr(H^2) unscaled (a by-product).
double primal_square_adjoints(const HiddenLayerData& D, const SampleMatrices& S, SampleAdjoints& a,
                              std::size_t work_bytes, const Progress& progress = {});

}  // namespace hessbound
