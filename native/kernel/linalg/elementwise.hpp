// Elementwise passes of training's evaluation (train_eval.cpp) and the kernel's tanh, in vector
// loops for each SIMD path (simd_path.hpp): 8 lanes on AVX-512, 4 on AVX2, 2 otherwise (SSE2, or
// SIMD128 in WebAssembly). Every path does the same IEEE operations in the same order on each
// element (no fused multiply-adds here, even where the CPU has them), so all paths give the same
// bits, and the same bits as the scalar tail loops.
#pragma once

#include <cstddef>

namespace hessbound {

// tanh of n values within 2.4 ulp: (e^y - 1) / (e^y + 1), y = 2|x|, with e^y - 1 from one
// polynomial and no cancellation (branch-free; libm's tanh is a scalar call and was 40% of a
// training evaluation).
void tanh_values(const double* u, int n, double* out);

// e^x of n values x <= 0 within 1 ulp (0 below -700; arguments above 0 are not reduced safely).
void exp_values(const double* x, std::size_t n, double* out);

// a = tanh(u + b) row by row (rows x width, contiguous; b may be null); u keeps u + b.
void bias_tanh(int rows, int width, const double* b, double* u, double* a);

// delta = (1 - a^2) * back: tanh's derivative from its values times the back-propagated product.
void tanh_backward(std::size_t n, const double* a, const double* back, double* delta);

// delta *= back (delta holds sigma'(u)).
void scale_by(std::size_t n, const double* back, double* delta);

// sums (=, or += unless first) the column sums of the rows x width block d, each one running sum in
// row order.
void sum_columns(int rows, int width, const double* d, bool first, double* sums);

}  // namespace hessbound
