#include "closed_form/trace_tiles.hpp"

#include <chrono>
#include <memory>
#include <vector>

#include "closed_form/traces.hpp"
#include "commands.hpp"
#include "linalg/blas.hpp"
#include "model/sample_chunks.hpp"
#include "support/errors.hpp"
#include "support/json_writer.hpp"

namespace hessbound {

double* tile_sum_field(TraceTerms& t, int k) {
  double* fields[kTileSumFields] = {&t.output_square, &t.hidden_gn_square, &t.hidden_residual_square, &t.hidden_mixed,
                                    &t.cross_gn_square, &t.cross_residual_square, &t.cross_mixed};
  if (k < 0 || k >= kTileSumFields) fail("BAD_OPTION", "tile sum field out of range");
  return fields[k];
}

std::string trace_tiles_command(const Problem& p, const CommandOptions& o, const Progress& progress) {
  validate(p);
  if (p.net.layers() != 2)
    fail("BAD_OPTION", "traceTiles: the tiles are the closed form's dual evaluation, which needs exactly one hidden layer; this network has " +
                           std::to_string(p.net.layers() - 1));
  const double work = o.number("workBytes", static_cast<double>(TracesOptions{}.work_bytes));
  if (work < 1) fail("BAD_OPTION", "traceTiles: workBytes must be positive");
  const int first = o.integer("first", 0), count = o.integer("count", 1);
  std::unique_ptr<BlasSerialScope> serial;
  if (o.integer("deterministic", 0) != 0) serial = std::make_unique<BlasSerialScope>();
  const auto start = std::chrono::steady_clock::now();
  // The same forward pass and per-sample quantities as compute_traces, then only the range's tiles.
  const ForwardCache cache = forward_backward_checked(p);
  const HiddenLayerData data = hidden_layer_data(p, cache);
  const std::size_t work_bytes = static_cast<std::size_t>(work);
  const DualPlan plan = dual_plan(data.N, data.c, data.h, work_bytes, sample_chunk_threads(p, kMaxTraceThreads));
  std::vector<TraceTerms> sums = dual_tile_sums(data, work_bytes, first, count, progress, plan.threads);
  JsonWriter w;
  w.begin();
  w.key("tiles").begin();
  w.key("size").number(plan.tile);
  w.key("count").number(plan.tiles);
  w.end();
  w.key("first").number(first);
  w.key("count").number(count);
  std::vector<double> flat;
  flat.reserve(sums.size() * kTileSumFields);
  for (TraceTerms& t : sums)
    for (int k = 0; k < kTileSumFields; ++k) flat.push_back(*tile_sum_field(t, k));
  w.key("sums").array(flat);
  w.key("threads").number(plan.threads);
  w.key("seconds").number(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  w.end();
  return w.str();
}

}  // namespace hessbound
