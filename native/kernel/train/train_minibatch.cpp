#include "train/train_minibatch.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "support/errors.hpp"
#include "support/progress.hpp"

namespace hessbound {

namespace {

// A batch's chunks have at least 128 samples (the full-batch evaluation's: 32): each chunk writes
// a partial gradient of P entries, and at batch size 128 the products' sums over 32 samples are too
// short to hide that. One chunk instead of 4 at B = 128 was 1.5-3x faster per epoch in 3 of 4
// rounds, on 1 and on 2 threads (4,000 x 784, width 128, a machine loaded ~8x its 2 cores);
// batches of 256 and more still split over threads.
constexpr int kBatchChunkRows = 128;

Problem batch_problem(const Problem& full, const double* x, const double* targets, int rows) {
  Problem p = full;
  p.params = nullptr;
  p.x = x;
  p.targets = targets;
  p.samples = rows;
  p.reduction = Reduction::Mean;  // the batch mean; scaled to the full reduction by sample_factor_
  return p;
}

}  // namespace

MinibatchTrainer::MinibatchTrainer(const Problem& problem, const MinibatchOptions& options)
    : problem_(problem),
      options_(options),
      samples_(problem.samples),
      batches_((problem.samples + options.batch_size - 1) / options.batch_size),
      P_(problem.net.parameter_count()),
      sample_factor_(problem.reduction == Reduction::Mean ? 1.0 : static_cast<double>(problem.samples)),
      rng_(options.shuffle_seed) {
  const int B = options.batch_size;
  order_.resize(samples_);
  for (int i = 0; i < samples_; ++i) order_[i] = i;
  batch_x_.resize(static_cast<std::size_t>(B) * problem.net.inputs());
  batch_targets_.resize(static_cast<std::size_t>(B) * problem.net.classes());
  full_ = std::make_unique<TrainEvaluator>(batch_problem(problem, batch_x_.data(), batch_targets_.data(), B), kBatchChunkRows);
  const int rest = samples_ % B;
  if (rest > 0) last_ = std::make_unique<TrainEvaluator>(batch_problem(problem, batch_x_.data(), batch_targets_.data(), rest), kBatchChunkRows);
  grad_.resize(P_);
  m_.assign(P_, 0.0);
  if (options.optimizer == MinibatchOptimizer::Adam) v_.assign(P_, 0.0);
}

void MinibatchTrainer::gather(int begin, int rows) {
  const std::size_t d = problem_.net.inputs(), c = problem_.net.classes();
  for (int r = 0; r < rows; ++r) {
    const std::size_t n = static_cast<std::size_t>(order_[begin + r]);
    std::memcpy(batch_x_.data() + r * d, problem_.x + n * d, d * sizeof(double));
    std::memcpy(batch_targets_.data() + r * c, problem_.targets + n * c, c * sizeof(double));
  }
}

// One pass over the parameters (at width 128 on 784 inputs each P-vector pass costs about a tenth
// of the batch's products): the gradient of the objective g = factor * batch gradient + wd * x, its
// finiteness, and the step. Returns false when g is not finite (x is then spoilt: the run fails).
bool MinibatchTrainer::update(std::vector<double>& x) {
  const double lr = options_.lr, wd = options_.weight_decay, factor = sample_factor_;
  ++t_;
  int bad = 0;  // an integer OR, so the loops still vectorize
  constexpr double kMax = std::numeric_limits<double>::max();
  if (options_.optimizer == MinibatchOptimizer::Sgd) {
    const double mu = options_.momentum;
    for (std::size_t i = 0; i < P_; ++i) {
      const double g = factor * grad_[i] + wd * x[i];
      bad |= !(std::fabs(g) <= kMax);
      m_[i] = mu * m_[i] + g;
      x[i] -= lr * m_[i];
    }
    return bad == 0;
  }
  // Adam (Kingma & Ba), as the full-batch phase in train.cpp.
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  const double c1 = 1 - std::pow(beta1, static_cast<double>(t_)), c2 = 1 - std::pow(beta2, static_cast<double>(t_));
  for (std::size_t i = 0; i < P_; ++i) {
    const double g = factor * grad_[i] + wd * x[i];
    bad |= !(std::fabs(g) <= kMax);
    m_[i] = beta1 * m_[i] + (1 - beta1) * g;
    v_[i] = beta2 * v_[i] + (1 - beta2) * g * g;
    x[i] -= lr * (m_[i] / c1) / (std::sqrt(v_[i] / c2) + eps);
  }
  return bad == 0;
}

int MinibatchTrainer::run_epoch(std::vector<double>& x, int max_steps, int steps_before) {
  for (int i = samples_ - 1; i > 0; --i) {
    const int j = static_cast<int>(rng_.next() % static_cast<std::uint64_t>(i + 1));
    std::swap(order_[i], order_[j]);
  }
  const int B = options_.batch_size;
  int steps = 0;
  for (int k = 0; k < batches_ && steps < max_steps; ++k) {
    check_cancelled();
    const int begin = k * B, rows = std::min(B, samples_ - begin);
    gather(begin, rows);
    TrainEvaluator& evaluator = rows == B ? *full_ : *last_;
    const double loss = evaluator.evaluate(x.data(), grad_.data());
    if (!std::isfinite(loss) || !update(x))
      fail("NON_FINITE", "mini-batch training diverged (non-finite loss or gradient) at step " +
                             std::to_string(steps_before + steps + 1) + "; lower the learning rate lr or add weightDecay");
    ++steps;
  }
  return steps;
}

}  // namespace hessbound
