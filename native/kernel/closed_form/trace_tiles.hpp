// One point's closed-form traces over many machines (docs/distributed.md): the kernel command
// "traceTiles" computes the sums of a range of the dual evaluation's sample-pair tiles; the
// coordinator adds every tile's sums in tile order and hands the seven totals to "traces"
// (options tileSums, tileCount, sum0 .. sum6), which then skips the tiles and finishes as a local run.
#pragma once
#include <string>

#include "closed_form/closed_form.hpp"
#include "model/network.hpp"
#include "support/progress.hpp"

namespace hessbound {

class CommandOptions;

// The seven square terms of TraceTerms in the order the command's JSON and the "traces" options
// (sum0 .. sum6) use.
constexpr int kTileSumFields = 7;
double* tile_sum_field(TraceTerms& terms, int k);

// Options: workBytes (as "traces"), first, count (a range of tiles), deterministic. Result:
// {"tiles":{"size","count"},"first","count","sums":[7 per tile, tile after tile],"seconds"}.
std::string trace_tiles_command(const Problem& problem, const CommandOptions& options, const Progress& progress);

}  // namespace hessbound
