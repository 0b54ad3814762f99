// Softmax and cross-entropy of one sample's logits, shared by the forward pass (network.cpp) and
// training's evaluation (train_eval.cpp) so that both give the same bits.
#pragma once
#include <algorithm>
#include <cmath>

namespace hessbound {

// Writes the softmax of the logits v (c of them) into p and returns loss - sum_k t_k log p_k (the
// running total goes in so that the terms are added to it one by one), through log-sum-exp with
// log1p: large logits neither overflow nor give log(0), and a confident sample's tiny loss keeps its
// relative precision.
inline double add_softmax_cross_entropy(int c, const double* v, const double* t, double* p, double loss) {
  const int top = static_cast<int>(std::max_element(v, v + c) - v);
  double rest = 0;  // sum of exp(v_k - v_top) over k != top
  for (int k = 0; k < c; ++k)
    if (k != top) rest += std::exp(v[k] - v[top]);
  const double log_z = std::log1p(rest);
  for (int k = 0; k < c; ++k) {
    p[k] = k == top ? 1.0 / (1.0 + rest) : std::exp(v[k] - v[top]) / (1.0 + rest);
    if (t[k] != 0) loss -= t[k] * (v[k] - v[top] - log_z);
  }
  return loss;
}

// d = scale (p - t), as sum_{j != k} (p_k t_j - t_k p_j) (the two sums are 1): no cancellation
// when p is nearly one-hot, where 1 - p_top would lose its digits.
inline void softmax_delta_row(int c, const double* p, const double* t, double scale, double* d) {
  for (int k = 0; k < c; ++k) {
    double diff = 0;
    for (int j = 0; j < c; ++j)
      if (j != k) diff += p[k] * t[j] - t[k] * p[j];
    d[k] = scale * diff;
  }
}

}  // namespace hessbound
