// Layer-wise diagonal blocks of the Hessian: for layer l the block H_ll over its W_l and b_l (a
// contiguous range of the parameter vector), its extreme eigenvalues, traces and WS bounds.
// Exact by one of three routes, chosen per block: cut from the whole dense Hessian (when P x P fits;
// the Kronecker assembly makes this the fastest for one hidden layer), assembled column by column
// from Hessian-vector products with unit directions inside the block (when the block fits), or
// Lanczos on the block-restricted operator v -> (H [0; v; 0])_block (no traces then).
#include <algorithm>
#include <cmath>

#include "analysis/analysis.hpp"
#include "closed_form/bounds.hpp"
#include "spectrum/eigensolver.hpp"
#include "support/errors.hpp"
#include "curvature/hessian.hpp"
#include "curvature/hvp.hpp"
#include "support/json_writer.hpp"
#include "spectrum/lanczos.hpp"
#include "curvature/views.hpp"

namespace hessbound {
namespace {

struct Block {
  int layer = 0;
  std::size_t offset = 0, size = 0;
  std::string method;  // "dense" (cut from H), "columns" (Hessian-vector products), "lanczos"
  double lambda_max = 0, lambda_min = 0;
  bool has_traces = false;
  double trace = 0, trace_of_square = 0;
  WsBounds bound{};
  std::vector<double> eigenvalues;  // ascending, dense routes only
  int iterations = 0, products = 0;
  bool converged = true;
  double top_residual = 0, bottom_residual = 0;
};

Progress sub_progress(const Progress& progress, double from, double to) {
  if (!progress) return {};
  return [progress, from, to](double f) { progress(from + (to - from) * f); };
}

void finish_dense(Block& b, std::vector<double>& h) {
  dense_traces(h.data(), b.size, b.trace, b.trace_of_square);
  b.has_traces = true;
  b.bound = ws_bounds(b.trace, b.trace_of_square, static_cast<double>(b.size));
  b.eigenvalues = symmetric_eigenvalues(static_cast<int>(b.size), h.data());
  b.lambda_max = b.eigenvalues.back();
  b.lambda_min = b.eigenvalues.front();
}

// The block from the whole dense Hessian.
void cut_block(const std::vector<double>& full, std::size_t P, Block& b) {
  std::vector<double> h(b.size * b.size);
  for (std::size_t i = 0; i < b.size; ++i)
    std::copy(full.begin() + static_cast<std::ptrdiff_t>((b.offset + i) * P + b.offset),
              full.begin() + static_cast<std::ptrdiff_t>((b.offset + i) * P + b.offset + b.size), h.begin() + static_cast<std::ptrdiff_t>(i * b.size));
  b.method = "dense";
  finish_dense(b, h);
}

// The block from b.size Hessian-vector products, symmetrized as dense_hessian does.
void column_block(HvpEngine& engine, std::size_t P, Block& b, const Progress& progress) {
  std::vector<double> e(P, 0.0), col(P), h(b.size * b.size);
  for (std::size_t i = 0; i < b.size; ++i) {
    e[b.offset + i] = 1.0;
    engine.apply(e.data(), col.data());
    e[b.offset + i] = 0.0;
    std::copy(col.begin() + static_cast<std::ptrdiff_t>(b.offset), col.begin() + static_cast<std::ptrdiff_t>(b.offset + b.size),
              h.begin() + static_cast<std::ptrdiff_t>(i * b.size));
    if ((i & 63) == 0) report(progress, static_cast<double>(i) / b.size);
  }
  for (std::size_t i = 0; i < b.size; ++i)
    for (std::size_t j = i + 1; j < b.size; ++j) {
      const double avg = 0.5 * (h[i * b.size + j] + h[j * b.size + i]);
      h[i * b.size + j] = h[j * b.size + i] = avg;
    }
  b.method = "columns";
  finish_dense(b, h);
}

void lanczos_block(HvpEngine& engine, std::size_t P, Block& b, const LanczosOptions& lo, const Progress& progress) {
  std::vector<double> in(P, 0.0), out(P);
  const LinearOperator op = [&](const double* v, double* y) {
    std::copy(v, v + b.size, in.begin() + static_cast<std::ptrdiff_t>(b.offset));
    engine.apply(in.data(), out.data());
    std::copy(out.begin() + static_cast<std::ptrdiff_t>(b.offset), out.begin() + static_cast<std::ptrdiff_t>(b.offset + b.size), y);
  };
  LanczosOptions opt = lo;
  opt.k = 1;
  opt.which = b.size >= 2 ? Extremes::Both : Extremes::Largest;
  const LanczosResult r = lanczos(op, b.size, opt, progress);
  b.method = "lanczos";
  b.lambda_max = r.largest.front();
  b.lambda_min = r.smallest.empty() ? r.largest.front() : r.smallest.front();
  b.top_residual = r.largest_residuals.front();
  b.bottom_residual = r.smallest_residuals.empty() ? b.top_residual : r.smallest_residuals.front();
  b.iterations = r.iterations;
  b.products = r.products;
  b.converged = r.converged;
}

std::string block_json(const Block& b) {
  JsonWriter w;
  w.begin();
  w.key("layer").number(b.layer);
  w.key("offset").number(static_cast<double>(b.offset));
  w.key("parameters").number(static_cast<double>(b.size));
  w.key("method").string(b.method);
  w.key("lambdaMax").number(b.lambda_max);
  w.key("lambdaMin").number(b.lambda_min);
  if (b.has_traces) {
    w.key("trace").number(b.trace);
    w.key("traceOfSquare").number(b.trace_of_square);
    w.key("bound").begin();
    w.key("upper").number(b.bound.upper);
    w.key("lowerOfMax").number(b.bound.lower_of_max);
    w.key("lowerOfMin").number(b.bound.lower_of_min);
    w.key("upperOfMin").number(b.bound.upper_of_min);
    w.key("spread").number(b.bound.spread);
    w.end();
    w.key("eigenvalues").array(b.eigenvalues);
  } else {
    w.key("trace").null();
    w.key("traceOfSquare").null();
    w.key("bound").null();
    w.key("lanczos").begin();
    w.key("iterations").number(b.iterations);
    w.key("products").number(b.products);
    w.key("converged").boolean(b.converged);
    w.key("topResidual").number(b.top_residual);
    w.key("bottomResidual").number(b.bottom_residual);
    w.end();
  }
  w.end();
  return w.str();
}

}  // namespace

std::string blocks_command(const Problem& p, const CommandOptions& o, const Progress& progress) {
  validate(p);
  const int method = o.integer("method", 0);
  if (method < 0 || method > 2) fail("BAD_OPTION", "blocks: method must be 0 (auto), 1 (dense) or 2 (lanczos)");
  const double max_dense = o.number("maxDenseBytes", 8.0 * (1ull << 30));
  if (max_dense < 0) fail("BAD_OPTION", "blocks: maxDenseBytes must be non-negative");
  const auto max_bytes = static_cast<std::uint64_t>(max_dense);
  LanczosOptions lo;
  lo.tolerance = o.number("tolerance", 1e-10);
  lo.max_iterations = o.integer("maxIterations", 300);
  lo.seed = static_cast<std::uint64_t>(o.number("seed", 0));
  if (!(lo.tolerance > 0)) fail("BAD_OPTION", "blocks: tolerance must be positive");

  const std::size_t P = p.net.parameter_count();
  const int L = p.net.layers();
  std::vector<Block> blocks(L);
  for (int l = 0; l < L; ++l) {
    blocks[l].layer = l;
    blocks[l].offset = p.net.weight_offset(l);
    blocks[l].size = static_cast<std::size_t>(p.net.sizes[l + 1]) * (p.net.sizes[l] + (p.net.has_bias[l] ? 1 : 0));
  }
  if (method == 1)
    for (const Block& b : blocks) check_dense_fits(b.size, max_bytes);

  const ForwardCache cache = forward_backward(p);
  std::string assembly = "none";
  if (method != 2 && dense_bytes(P) <= max_bytes) {
    std::vector<double> full(P * P);
    assembly = dense_hessian(p, cache, full.data(), HessianAssembly::Auto, sub_progress(progress, 0.0, 0.6)) ==
                       HessianAssembly::Kronecker
                   ? "kronecker"
                   : "hvp";
    for (int l = 0; l < L; ++l) {
      cut_block(full, P, blocks[l]);
      report(progress, 0.6 + 0.4 * (l + 1) / L);
    }
  } else {
    HvpEngine engine(p, cache);
    for (int l = 0; l < L; ++l) {
      const Progress part = sub_progress(progress, static_cast<double>(l) / L, static_cast<double>(l + 1) / L);
      if (method != 2 && dense_bytes(blocks[l].size) <= max_bytes) column_block(engine, P, blocks[l], part);
      else lanczos_block(engine, P, blocks[l], lo, part);
    }
  }
  std::string out = "{\"parameters\":" + std::to_string(P) + ",\"assembly\":\"" + assembly + "\",\"blocks\":[";
  for (int l = 0; l < L; ++l) out += (l ? "," : "") + block_json(blocks[l]);
  out += "]}";
  report(progress, 1.0);
  return out;
}

}  // namespace hessbound
