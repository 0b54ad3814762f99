#include "closed_form/traces.hpp"

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include "analysis/analysis.hpp"
#include "linalg/blas.hpp"
#include "commands.hpp"
#include "closed_form/trace_tiles.hpp"
#include "support/errors.hpp"
#include "curvature/hessian.hpp"
#include "curvature/hvp.hpp"
#include "support/json_writer.hpp"
#include "model/sample_chunks.hpp"

namespace hessbound {
namespace {


double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Progress sub_progress(const Progress& progress, double from, double to) {
  if (!progress) return {};
  return [progress, from, to](double f) { progress(from + (to - from) * f); };
}

TraceMethod resolve_method(const Problem& p, const TracesOptions& opt, const TracesResult& r) {
  const bool one_hidden = p.net.layers() == 2;
  TraceMethod m = opt.method;
  if ((m == TraceMethod::Dual || m == TraceMethod::Primal) && !one_hidden)
    fail("BAD_OPTION",
         "the closed form (methods 'dual' and 'primal') needs exactly one hidden layer; this network has " +
             std::to_string(p.net.layers() - 1) + " (use 'auto', 'dense' or 'hutch++')");
  if (m != TraceMethod::Auto) return m;
  if (one_hidden) return primal_preferred(r.cost_primal, r.cost_dual) ? TraceMethod::Primal : TraceMethod::Dual;
  return dense_bytes(r.parameters) <= opt.max_dense_bytes ? TraceMethod::Dense : TraceMethod::Hutchpp;
}

void closed_form_traces(const Problem& p, const ForwardCache& cache, TraceMethod method, const TracesOptions& opt,
                        TracesResult& r, const Progress& progress) {
  const HiddenLayerData data = hidden_layer_data(p, cache);
  TraceTerms terms;
  add_trace_terms(data, terms);
  if (method == TraceMethod::Dual) {
    // The kernel's own threads over the tiles (as the Hessian-vector products over the samples).
    const DualPlan plan = dual_plan(data.N, data.c, data.h, opt.work_bytes, sample_chunk_threads(p, kMaxTraceThreads));
    r.tile = plan.tile;
    r.tiles = plan.tiles;
    r.threads = plan.threads;
    if (opt.tile_sums_given) {
      // Split over machines: every tile's sums were added in tile order by the coordinator (as
      // dual_square_terms adds them); only the totals arrive, for the plan they were computed for.
      if (plan.tiles != opt.tile_count)
        fail("BAD_OPTION", "traces: the tile sums are for " + std::to_string(static_cast<long long>(opt.tile_count)) +
                               " tiles, but this point has " + std::to_string(static_cast<long long>(plan.tiles)) +
                               " (a different workBytes or data?)");
      add_tile_sums(terms, {opt.tile_sums});
    } else {
      dual_square_terms(data, terms, opt.work_bytes, progress, plan.threads);
    }
  } else {
    // The panel blocks on the kernel's threads (their count depends on the panels: at most that many).
    r.threads = sample_chunk_threads(p, kMaxTraceThreads);
    primal_square_terms(data, terms, opt.work_bytes, progress, r.threads);
  }
  const double w = p.scale();
  r.terms = terms.scaled(w);
  r.has_terms = true;
  r.trace = r.terms.trace();
  r.trace_of_square = r.terms.trace_of_square();
  // As if the inputs were mutually orthogonal: Kx_nm = 0 for n != m wherever Kx enters (hidden
  // and cross blocks); the output block depends on Kz only and is kept whole.
  if (opt.orthogonality) {
    r.trace_of_square_if_orthogonal = r.terms.output_square + w * w * diagonal_hidden_cross_square(data);
    r.has_orthogonal = true;
  }
}

void dense_path(const Problem& p, const ForwardCache& cache, const TracesOptions& opt, TracesResult& r,
                const Progress& progress) {
  check_dense_fits(r.parameters, opt.max_dense_bytes);
  std::vector<double> h(r.parameters * r.parameters);
  dense_hessian(p, cache, h.data(), HessianAssembly::Auto, progress);
  dense_traces(h.data(), r.parameters, r.trace, r.trace_of_square);
}

void hutchpp_path(const Problem& p, const ForwardCache& cache, const TracesOptions& opt, TracesResult& r,
                  const Progress& progress) {
  HvpEngine engine(p, cache);
  const LinearOperator op = [&](const double* v, double* out) { engine.apply(v, out); };
  r.hutchpp = hutchpp_traces(op, r.parameters, opt.hutchpp, progress);
  r.trace = r.hutchpp.trace;
  r.trace_of_square = r.hutchpp.trace_of_square;
  r.has_interval = true;
  r.estimated = r.hutchpp.probes > 0;
}

const char* method_name(TraceMethod m) {
  switch (m) {
    case TraceMethod::Dual: return "dual";
    case TraceMethod::Primal: return "primal";
    case TraceMethod::Dense: return "dense";
    case TraceMethod::Hutchpp: return "hutch++";
    default: return "auto";
  }
}

void write_bounds(JsonWriter& w, const WsBounds& b) {
  w.begin();
  w.key("upper").number(b.upper);
  w.key("lowerOfMax").number(b.lower_of_max);
  w.key("lowerOfMin").number(b.lower_of_min);
  w.key("upperOfMin").number(b.upper_of_min);
  w.key("spread").number(b.spread);
  w.end();
}

void write_pair(JsonWriter& w, const char* name, double trace, double square) {
  w.key(name).begin();
  w.key("trace").number(trace);
  w.key("traceOfSquare").number(square);
  w.end();
}

void write_decomposition(JsonWriter& w, const TraceTerms& t, bool sigma_second_vanishes) {
  w.begin();
  w.key("blocks").begin();
  write_pair(w, "output", t.output_trace, t.output_square);
  write_pair(w, "hidden", t.hidden_gn_trace + t.hidden_residual_trace, t.hidden_square());
  w.key("cross").begin();
  w.key("traceOfSquare").number(2 * t.cross_square());
  w.end();
  w.end();
  write_pair(w, "gaussNewton", t.gn_trace(), t.gn_square());
  w.key("residual").begin();
  w.key("trace").number(t.hidden_residual_trace);
  w.key("traceOfSquare").number(t.residual_square());
  write_pair(w, "sigmaSecond", t.hidden_residual_trace, t.hidden_residual_square);
  write_pair(w, "gradientCross", 0.0, 2 * t.cross_residual_square);
  w.end();
  w.key("mixed").number(t.mixed());
  // identity, relu, leaky_relu: sigma'' = 0, so residual.sigmaSecond is exactly 0 and was skipped.
  w.key("sigmaSecondVanishes").boolean(sigma_second_vanishes);
  w.end();
}

}  // namespace

TracesResult compute_traces(const Problem& p, const TracesOptions& opt, const Progress& progress) {
  validate(p);
  std::unique_ptr<BlasSerialScope> serial;
  if (opt.deterministic) serial = std::make_unique<BlasSerialScope>();
  const auto start = std::chrono::steady_clock::now();
  TracesResult r;
  r.deterministic = opt.deterministic;
  r.parameters = p.net.parameter_count();
  r.samples = p.samples;
  r.sigma_second_vanishes = !has_second_derivative(p.net.activation);
  if (p.net.layers() == 2) {
    const int d1 = p.net.sizes[0] + (p.net.has_bias[0] ? 1 : 0), h1 = p.net.sizes[1] + (p.net.has_bias[1] ? 1 : 0);
    const bool has_e = has_second_derivative(p.net.activation);
    r.cost_dual = dual_cost(p.samples, d1, p.net.sizes[1], h1, p.net.classes(), has_e);
    r.cost_primal = primal_cost(p.samples, d1, p.net.sizes[1], h1, p.net.classes(), has_e);
  }
  const TraceMethod method = resolve_method(p, opt, r);
  r.method = method_name(method);
  r.closed_form = method == TraceMethod::Dual || method == TraceMethod::Primal;

  const ForwardCache cache = forward_backward_checked(p);
  const std::vector<double> grad = gradient(p, cache);
  r.loss = cache.loss;
  r.grad_norm = norm2(static_cast<int>(grad.size()), grad.data());
  r.seconds_forward = seconds_since(start);

  const auto traces_start = std::chrono::steady_clock::now();
  const Progress main = sub_progress(progress, 0.0, 0.95);
  if (r.closed_form) closed_form_traces(p, cache, method, opt, r, main);
  else if (method == TraceMethod::Dense) dense_path(p, cache, opt, r, main);
  else hutchpp_path(p, cache, opt, r, main);
  r.seconds_traces = seconds_since(traces_start);

  if (opt.orthogonality) {
    const auto cos_start = std::chrono::steady_clock::now();
    r.cosines = input_cosines(p.x, p.samples, p.net.inputs());
    r.seconds_orthogonality = seconds_since(cos_start);
  } else {
    r.cosines = {std::nan(""), std::nan(""), std::nan("")};
  }

  const double n = static_cast<double>(r.parameters);
  r.bound = ws_bounds(r.trace, std::max(0.0, r.trace_of_square), n);
  if (r.has_orthogonal) r.bound_if_orthogonal = ws_bounds(r.trace, std::max(0.0, r.trace_of_square_if_orthogonal), n);
  r.seconds_total = seconds_since(start);
  report(progress, 1.0);
  return r;
}

std::string to_json(const TracesResult& r) {
  JsonWriter w;
  w.begin();
  w.key("parameters").number(static_cast<double>(r.parameters));
  w.key("samples").number(r.samples);
  w.key("loss").number(r.loss);
  w.key("gradNorm").number(r.grad_norm);
  w.key("trace").number(r.trace);
  w.key("traceOfSquare").number(r.trace_of_square);
  w.key("bound");
  write_bounds(w, r.bound);
  w.key("frobenius").number(r.bound.frobenius);
  w.key("closedForm").boolean(r.closed_form);
  w.key("deterministic").boolean(r.deterministic);
  w.key("estimated").boolean(r.estimated);
  w.key("method").string(r.method);
  w.key("decomposition");
  if (r.has_terms) write_decomposition(w, r.terms, r.sigma_second_vanishes);
  else w.null();
  w.key("orthogonality").begin();
  w.key("meanAbsCosine").number(r.cosines.mean_abs);
  w.key("maxAbsCosine").number(r.cosines.max_abs);
  w.key("pairs").number(r.cosines.pairs);
  if (r.has_orthogonal) {
    w.key("traceOfSquareIfOrthogonal").number(r.trace_of_square_if_orthogonal);
    w.key("boundIfOrthogonal");
    write_bounds(w, r.bound_if_orthogonal);
  } else {
    w.key("traceOfSquareIfOrthogonal").null();
    w.key("boundIfOrthogonal").null();
  }
  w.end();
  w.key("interval");
  if (r.has_interval) {
    w.begin();
    w.key("trace").array({r.hutchpp.trace_interval.low, r.hutchpp.trace_interval.high});
    w.key("traceOfSquare").array({r.hutchpp.square_interval.low, r.hutchpp.square_interval.high});
    w.key("confidence").number(r.hutchpp.confidence);
    w.end();
    w.key("hutchpp").begin();
    w.key("products").number(r.hutchpp.products);
    w.key("sketch").number(r.hutchpp.sketch);
    w.key("probes").number(r.hutchpp.probes);
    w.key("traceOfSketch").number(r.hutchpp.trace_sketch);
    w.key("traceOfSquareOfSketch").number(r.hutchpp.square_sketch);
    w.end();
  } else {
    w.null();
  }
  if (r.cost_dual > 0) {
    w.key("cost").begin();
    w.key("dual").number(r.cost_dual);
    w.key("primal").number(r.cost_primal);
    w.end();
  }
  if (r.threads > 0) w.key("threads").number(r.threads);
  if (r.tile > 0) {
    w.key("tiles").begin();
    w.key("size").number(r.tile);
    w.key("count").number(r.tiles);
    w.key("threads").number(r.threads);
    w.end();
  }
  w.key("seconds").begin();
  w.key("forward").number(r.seconds_forward);
  w.key("traces").number(r.seconds_traces);
  w.key("orthogonality").number(r.seconds_orthogonality);
  w.key("total").number(r.seconds_total);
  w.end();
  w.end();
  return w.str();
}

// What the traces of this problem would cost, without computing them: the method `auto` picks, the
// multiply-add counts of the closed form's two evaluations and the dual's tiles and threads, for
// `samples` samples of this problem's shape (the caller may pass a one-sample problem, so a plan
// for 60,000 samples does not copy them).
std::string traces_plan(const Problem& given, const TracesOptions& opt, int samples) {
  validate(given);
  Problem p = given;  // shapes only from here on: the data pointers are not read
  p.samples = samples;
  TracesResult r;
  r.parameters = p.net.parameter_count();
  JsonWriter w;
  w.begin();
  w.key("parameters").number(static_cast<double>(r.parameters));
  w.key("samples").number(p.samples);
  if (p.net.layers() == 2) {
    const int h = p.net.sizes[1], c = p.net.classes();
    const int d1 = p.net.sizes[0] + (p.net.has_bias[0] ? 1 : 0), h1 = h + (p.net.has_bias[1] ? 1 : 0);
    const bool has_e = has_second_derivative(p.net.activation);
    r.cost_dual = dual_cost(p.samples, d1, h, h1, c, has_e);
    r.cost_primal = primal_cost(p.samples, d1, h, h1, c, has_e);
    const DualPlan plan = dual_plan(p.samples, c, h, opt.work_bytes, sample_chunk_threads(p, kMaxTraceThreads));
    w.key("method").string(method_name(resolve_method(p, opt, r)));
    w.key("cost").begin();
    w.key("dual").number(r.cost_dual);
    w.key("primal").number(r.cost_primal);
    w.end();
    w.key("tiles").begin();
    w.key("size").number(plan.tile);
    w.key("count").number(plan.tiles);
    w.key("threads").number(plan.threads);
    w.end();
  } else {
    w.key("method").string(method_name(resolve_method(p, opt, r)));
  }
  w.end();
  return w.str();
}

std::string traces_command(const Problem& p, const CommandOptions& o, const Progress& progress) {
  TracesOptions opt;
  const int method = o.integer("method", 0);
  if (method < 0 || method > 4)
    fail("BAD_OPTION", "traces: method must be 0 (auto), 1 (dual), 2 (primal), 3 (dense) or 4 (hutch++)");
  opt.method = static_cast<TraceMethod>(method);
  const double max_dense = o.number("maxDenseBytes", static_cast<double>(opt.max_dense_bytes));
  const double work = o.number("workBytes", static_cast<double>(opt.work_bytes));
  if (max_dense < 0 || work < 1) fail("BAD_OPTION", "traces: maxDenseBytes and workBytes must be positive");
  opt.max_dense_bytes = static_cast<std::uint64_t>(max_dense);
  opt.work_bytes = static_cast<std::size_t>(work);
  opt.hutchpp.products = o.integer("probes", opt.hutchpp.products);
  opt.hutchpp.seed = static_cast<std::uint64_t>(o.number("seed", 0));
  opt.hutchpp.confidence = o.number("confidence", opt.hutchpp.confidence);
  const int orthogonality = o.integer("orthogonality", 1);
  if (orthogonality != 0 && orthogonality != 1) fail("BAD_OPTION", "traces: orthogonality must be 0 or 1");
  opt.orthogonality = orthogonality == 1;
  opt.deterministic = o.integer("deterministic", 0) != 0;
  if (o.integer("tileSums", 0) != 0) {
    if (opt.method != TraceMethod::Dual) fail("BAD_OPTION", "traces: tile sums need method 1 (dual)");
    opt.tile_sums_given = true;
    opt.tile_count = o.number("tileCount", -1);
    for (int k = 0; k < kTileSumFields; ++k) {
      const std::string key = "sum" + std::to_string(k);
      const double fallback = std::nan("");
      const double v = o.number(key, fallback);
      if (std::isnan(v)) fail("BAD_OPTION", "traces: tileSums needs sum0 .. sum6");
      *tile_sum_field(opt.tile_sums, k) = v;
    }
  }
  if (o.integer("plan", 0) != 0) {
    const double samples = o.number("planSamples", p.samples);
    if (!(samples >= 1 && samples <= 2147483647.0) || samples != std::floor(samples))
      fail("BAD_OPTION", "traces: planSamples must be a positive integer");
    return traces_plan(p, opt, static_cast<int>(samples));
  }
  return to_json(compute_traces(p, opt, progress));
}

}  // namespace hessbound
