// Full-batch training of the MLP on its cross-entropy loss to a near-critical point: Adam to get
// into a good basin, then L-BFGS (strong-Wolfe line search) to drive the gradient norm down.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "model/network.hpp"
#include "support/progress.hpp"
#include "train/train_minibatch.hpp"

namespace hessbound {

struct TrainOptions {
  double lr = 1e-2;           // Adam step size
  int adam_steps = 200;       // Adam iterations before L-BFGS (0: L-BFGS only)
  int max_steps = 20000;      // budget of iterations in total (Adam + L-BFGS)
  double grad_tol = 1e-6;     // stop when ||grad objective||_2 <= grad_tol (absolute)
  double weight_decay = 0;    // objective = loss + weight_decay/2 ||params||^2
  double target_loss = 0;     // also stop when the cross-entropy loss <= target_loss (0: off)
  int memory = 20;            // L-BFGS correction pairs
  int max_history = 200;      // entries kept in the subsampled history
  // Called after every step (step 0: the start point) with the parameters, loss and gradient norm
  // there; read-only, so it cannot change the training path (used for tracking, extra/track.cpp).
  std::function<void(int step, const std::vector<double>& params, double loss, double grad_norm)> observer;
  // HSR (docs/hsr.md): objective += hsr_beta * WS number (one hidden layer; 0 = off).
  double hsr_beta = 0;
  int hsr_target = 0;         // 0: WS upper bound on lambda_max, 1: WS spread bound
  // Mini-batch training (batch_size > 0) in place of full-batch Adam: `epochs` passes of seeded
  // shuffles (train_minibatch.hpp), the full-batch loss and gradient checked every `check_every`
  // epochs (0: at the end only) against grad_tol and target_loss; then, with `polish`, full-batch
  // L-BFGS from there to grad_tol (a critical point). lr, weight_decay and max_steps apply;
  // adam_steps does not.
  int batch_size = 0;
  int epochs = 10;
  MinibatchOptimizer optimizer = MinibatchOptimizer::Adam;
  double momentum = 0.9;
  std::uint64_t shuffle_seed = 0;
  bool polish = false;
  int check_every = 1;
};

struct TrainRecord {
  int step;
  double loss, grad_norm;
};

struct TrainResult {
  std::vector<double> params;
  double loss = 0;       // cross-entropy loss (without weight decay)
  double objective = 0;  // loss + weight_decay/2 ||params||^2, the function minimised
  double grad_norm = 0;  // ||grad objective||_2 at params
  double hsr_value = 0;  // the penalised WS number at params (hsr_beta > 0 only)
  int adam_steps = 0, lbfgs_steps = 0, evaluations = 0;
  int minibatch_steps = 0, epochs = 0;  // mini-batch updates and completed epochs (mini-batch mode)
  double minibatch_seconds = 0;         // wall time of the epochs' updates (without the full-batch checks)
  double minibatch_cpu_seconds = 0;     // processor time of the process meanwhile (all threads; std::clock)
  bool converged = false;
  // "gradTol", "targetLoss", "maxSteps", "stalled" (no descent possible in float64), "epochs"
  // (mini-batch mode without polish: the epochs ran out)
  std::string stop_reason;
  std::vector<TrainRecord> history;
  double seconds = 0;
  double cpu_seconds = 0;  // processor time of the process meanwhile (all threads; std::clock): the work, less a loaded machine's waits
};

// Starts from problem.params; deterministic for any thread count (TrainEvaluator, train_eval.hpp).
TrainResult train(const Problem& problem, const TrainOptions& options, const Progress& progress = {});

std::string train_to_json(const TrainResult& result);

// Kernel command "train": options lr, adamSteps, maxSteps, gradTol, weightDecay, targetLoss, memory, maxHistory,
// hsrBeta, hsrTarget (0 upper, 1 spread); mini-batch: batchSize, epochs, optimizer (0 Adam, 1 SGD),
// momentum, shuffleSeed, polish (0/1), checkEvery.
std::string train_command(const Problem& problem, const CommandOptions& options, const Progress& progress);

}  // namespace hessbound
