// The kernel's share of a point's diagnostics (src/analysis/diagnostics.ts; docs/diagnostics.md):
// the loss and the objective's gradient norm by training's threaded evaluation, and the saturation
// counts and collapsed cells by a forward pass in blocks of rows. analyze() used to run these as a
// main-thread loss/gradient call and a scalar TypeScript forward pass over all samples (4 s of a
// 16 s lambda_max at 10,000 x 784 x 256, with O(N x width) arrays); here they take one evaluation
// and one blocked forward pass, in O(block x width) memory.
#pragma once

#include <string>

#include "commands.hpp"
#include "model/network.hpp"
#include "support/progress.hpp"

namespace hessbound {

struct PointDiagnosticsOptions {
  double weight_decay = 0;  // the objective is loss + wd/2 |theta|^2
  double slope_limit = 0;   // a (sample, unit) pair is saturated when sigma'(u) < this
};

struct PointDiagnostics {
  double loss = 0, objective = 0;
  double parameter_norm = 0;
  double grad_norm = 0;       // |grad F|_2, F the objective
  double theta_dot_grad = 0;  // theta . grad F
  long long saturated_pairs = 0, pairs = 0;
  long long collapsed_cells = 0, collapsed_samples = 0;
};

PointDiagnostics point_diagnostics(const Problem& p, const PointDiagnosticsOptions& options, const Progress& progress = {});

// Command "diagnose" (options weightDecay, slopeLimit): the numbers above as JSON.
std::string diagnose_command(const Problem& p, const CommandOptions& o, const Progress& progress);

}  // namespace hessbound
