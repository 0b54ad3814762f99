#include "commands.hpp"

#include <cmath>

#include "analysis/analysis.hpp"
#include "support/errors.hpp"
#include "analysis/point_diagnostics.hpp"
#include "closed_form/traces.hpp"
#include "closed_form/trace_tiles.hpp"
#include "train/train.hpp"
#include "curvature/views.hpp"
#include "closed_form/ws_gradient.hpp"

namespace hessbound {

double CommandOptions::number(const std::string& key, double fallback) const {
  const auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (!std::isfinite(it->second)) fail("BAD_OPTION", "option '" + key + "' must be a finite number");
  return it->second;
}

int CommandOptions::integer(const std::string& key, int fallback) const {
  const double v = number(key, fallback);
  if (v != std::floor(v) || std::fabs(v) > 2147483647.0) fail("BAD_OPTION", "option '" + key + "' must be an integer");
  return static_cast<int>(v);
}

namespace {

using Command = std::string (*)(const Problem&, const CommandOptions&, const Progress&);

std::string analyze_command(const Problem& p, const CommandOptions& o, const Progress& progress) {
  AnalyzeOptions opt;
  opt.method = static_cast<SpectrumMethod>(o.integer("method", 0));
  opt.assembly = static_cast<HessianAssembly>(o.integer("assembly", 0));
  opt.k = o.integer("k", 1);
  opt.which = static_cast<Extremes>(o.integer("which", 2));
  opt.tolerance = o.number("tolerance", 1e-10);
  opt.max_iterations = o.integer("maxIterations", 300);
  opt.seed = static_cast<std::uint64_t>(o.number("seed", 0));
  opt.max_dense_bytes = static_cast<std::uint64_t>(o.number("maxDenseBytes", 8.0 * (1ull << 30)));
  opt.deterministic = o.integer("deterministic", 0) != 0;
  return to_json(analyze(p, opt, progress));
}

struct Entry {
  const char* name;
  Command run;
};

// One row per command.
const Entry kCommands[] = {
    {"analyze", analyze_command},
    {"traces", traces_command},
    {"traceTiles", trace_tiles_command},
    {"train", train_command},
    {"slq", slq_command},
    {"blocks", blocks_command},
    {"eigenvectors", eigenvectors_command},
    {"wsGradient", ws_gradient_command},
    {"diagnose", diagnose_command},
};

}  // namespace

std::string run_command(const std::string& name, const Problem& problem, const CommandOptions& options,
                        const Progress& progress) {
  for (const Entry& e : kCommands)
    if (name == e.name) return e.run(problem, options, progress);
  std::string known;
  for (const Entry& e : kCommands) known += std::string(known.empty() ? "" : ", ") + e.name;
  fail("BAD_OPTION", "unknown kernel command '" + name + "' (known: " + known + ")");
}

std::vector<std::string> command_names() {
  std::vector<std::string> names;
  for (const Entry& e : kCommands) names.emplace_back(e.name);
  return names;
}

}  // namespace hessbound
