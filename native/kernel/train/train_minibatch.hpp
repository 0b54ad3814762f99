// Mini-batch updates for training (train.cpp runs the epochs, checks and stopping): seeded
// shuffles, batches gathered into a buffer of their own, Adam or SGD with momentum.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "model/network.hpp"
#include "support/rng.hpp"
#include "train/train_eval.hpp"

namespace hessbound {

enum class MinibatchOptimizer { Adam = 0, Sgd = 1 };

struct MinibatchOptions {
  int batch_size = 0;  // 0: full-batch training (Adam, then L-BFGS)
  int epochs = 10;     // passes over the shuffled samples
  MinibatchOptimizer optimizer = MinibatchOptimizer::Adam;
  double lr = 1e-2;
  double momentum = 0.9;          // SGD: v = momentum v + g, x -= lr v (PyTorch's convention)
  std::uint64_t shuffle_seed = 0;
  double weight_decay = 0;        // its gradient weight_decay * x added to every batch gradient
};

// The permutation of epoch e (1-based) is a Fisher-Yates shuffle of epoch e-1's (epoch 0: the
// identity): for i = N-1 .. 1, swap i with j = SplitMix64(shuffle_seed).next() mod (i + 1), one
// generator for the whole run. Batch k of an epoch is rows [k B, min(N, (k+1) B)) of it.
//
// Each batch's gradient is an unbiased estimate of the full objective's: the batch mean times the
// full reduction's sample factor (1 for 'mean', N for 'sum'), plus weight decay. It is evaluated
// by a TrainEvaluator over the gathered batch, whose chunks depend on the batch size only, so every
// step is bit-identical for any thread count.
class MinibatchTrainer {
 public:
  MinibatchTrainer(const Problem& problem, const MinibatchOptions& options);
  MinibatchTrainer(const MinibatchTrainer&) = delete;
  MinibatchTrainer& operator=(const MinibatchTrainer&) = delete;

  int batches_per_epoch() const { return batches_; }

  // One epoch of updates of x (P entries), at most `max_steps` of them (the rest of the budget).
  // Returns the updates made; fails NON_FINITE when a batch's loss or gradient is not finite.
  int run_epoch(std::vector<double>& x, int max_steps, int steps_before);

 private:
  void gather(int begin, int rows);
  bool update(std::vector<double>& x);

  Problem problem_;
  MinibatchOptions options_;
  int samples_, batches_;
  std::size_t P_;
  double sample_factor_;
  SplitMix64 rng_;
  std::vector<int> order_;
  std::vector<double> batch_x_, batch_targets_;  // the gathered batch (the evaluators read them)
  std::unique_ptr<TrainEvaluator> full_, last_;  // batches of B rows; the last, shorter one (if any)
  std::vector<double> grad_, m_, v_;
  long long t_ = 0;                              // updates so far (Adam's bias correction)
};

}  // namespace hessbound
