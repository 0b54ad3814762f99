// The "traces" command: tr(H), tr(H^2) and the Wolkowicz-Styan bounds from them. One hidden layer:
// the closed form (dual or primal evaluation) with its decomposition; deeper networks: exact traces
// of the dense Hessian when it fits, else Hutch++ estimates with a confidence interval.
#pragma once
#include <cstdint>
#include <string>

#include "closed_form/bounds.hpp"
#include "closed_form/closed_form.hpp"
#include "spectrum/hutchpp.hpp"
#include "model/network.hpp"
#include "support/progress.hpp"

namespace hessbound {

// The closed form's threads, at most (as the Hessian-vector products' 8 sample chunks): each
// thread holds up to workBytes of scratch.
constexpr int kMaxTraceThreads = 8;

enum class TraceMethod { Auto = 0, Dual = 1, Primal = 2, Dense = 3, Hutchpp = 4 };

struct TracesOptions {
  TraceMethod method = TraceMethod::Auto;
  std::uint64_t max_dense_bytes = 1ull << 30;  // deeper nets: dense Hessian up to this size, else Hutch++
  std::size_t work_bytes = 256u << 20;        // scratch of the closed-form tiles and panels
  HutchppOptions hutchpp;
  bool orthogonality = true;  // the O(N^2 d) cosine summary and the as-if-orthogonal bound
  // Every BLAS call on one thread: a multithreaded OpenBLAS changes the last bits with its thread
  // count, and with the load of other threads in the process (sweep pools), as analyze's option.
  bool deterministic = false;
  // Dual only, a point split over machines (trace_tiles.hpp): the tiles' sums, already added in tile
  // order, and how many tiles they cover (checked against this point's plan).
  bool tile_sums_given = false;
  double tile_count = 0;
  TraceTerms tile_sums;
};

struct TracesResult {
  std::string method;  // "dual", "primal", "dense", "hutch++"
  bool deterministic = false;
  bool closed_form = false, estimated = false;
  std::size_t parameters = 0;
  int samples = 0;
  double loss = 0, grad_norm = 0;
  double trace = 0, trace_of_square = 0;
  WsBounds bound{};
  // One hidden layer with a closed-form method only.
  bool sigma_second_vanishes = false;  // piecewise-linear activation: the sigma'' residual is 0, not computed
  bool has_terms = false;
  TraceTerms terms;  // scaled by the reduction
  double cost_dual = 0, cost_primal = 0;
  // Dual only: tile side, tiles and the threads that ran them.
  int tile = 0, threads = 0;
  double tiles = 0;
  bool has_orthogonal = false;
  double trace_of_square_if_orthogonal = 0;
  WsBounds bound_if_orthogonal{};
  CosineSummary cosines;
  // Hutch++ only.
  bool has_interval = false;
  HutchppResult hutchpp;
  double seconds_forward = 0, seconds_traces = 0, seconds_orthogonality = 0, seconds_total = 0;
};

TracesResult compute_traces(const Problem& problem, const TracesOptions& options, const Progress& progress = {});

std::string to_json(const TracesResult& result);

// The kernel command "traces" (a row of kCommands). Numeric options: method (0 auto, 1 dual,
// 2 primal, 3 dense, 4 hutch++), maxDenseBytes, workBytes, probes, seed, confidence,
// orthogonality (1 = compute the data-orthogonality summary, the default; 0 = skip it).
class CommandOptions;
std::string traces_command(const Problem& problem, const CommandOptions& options, const Progress& progress);

}  // namespace hessbound
