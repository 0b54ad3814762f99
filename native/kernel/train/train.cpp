#include "train/train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "linalg/blas.hpp"
#include "support/errors.hpp"
#include "support/json_writer.hpp"
#include "curvature/views.hpp"
#include "closed_form/ws_gradient.hpp"
#include "closed_form/traces.hpp"
#include "train/train_eval.hpp"
#include "train/train_minibatch.hpp"

namespace hessbound {
namespace {

// The function minimised: cross-entropy plus optional L2 weight decay, plus the optional HSR
// penalty beta * (WS upper or spread bound) with its closed-form gradient.
class Objective {
 public:
  Objective(const Problem& problem, double weight_decay, double hsr_beta = 0, int hsr_target = 0)
      : problem_(problem), weight_decay_(weight_decay), hsr_beta_(hsr_beta), hsr_target_(hsr_target),
        size_(static_cast<int>(problem.net.parameter_count())), evaluator_(problem) {}
  double last_hsr_value() const { return hsr_value_; }

  int size() const { return size_; }
  int evaluations() const { return evaluations_; }

  // Objective at x; fills the gradient g and the plain cross-entropy `loss`.
  double evaluate(const std::vector<double>& x, std::vector<double>& g, double& loss) {
    Problem at = problem_;
    at.params = x.data();
    g.resize(size_);
    loss = evaluator_.evaluate(x.data(), g.data());
    ++evaluations_;
    const double penalty = hsr_beta_ > 0 ? add_hsr(at, g) : 0.0;
    if (weight_decay_ == 0) return loss + penalty;
    axpy(size_, weight_decay_, x.data(), g.data());
    return loss + penalty + 0.5 * weight_decay_ * dot(size_, x.data(), x.data());
  }

 private:
  // beta * WS number, its gradient added into g; non-finite when s = 0 (the line search backs off).
  double add_hsr(const Problem& at, std::vector<double>& g) {
    // Values and gradients from one pass (the primal form's tr(H^2) is a by-product of its adjoint).
    const TraceGradients t = trace_gradients(at, true, {}, AdjointForm::Auto, TracesOptions().work_bytes, true);
    const WsBounds bound = ws_bounds(t.trace, std::max(0.0, t.trace_of_square), static_cast<double>(size_));
    const WsGradients wg = ws_gradients(t, static_cast<double>(size_));
    hsr_value_ = hsr_target_ == 1 ? bound.spread : bound.upper;
    if (!wg.defined) return INFINITY;
    const std::vector<double>& dg = hsr_target_ == 1 ? wg.spread : wg.upper;
    axpy(size_, hsr_beta_, dg.data(), g.data());
    return hsr_beta_ * hsr_value_;
  }

  const Problem& problem_;
  double weight_decay_;
  double hsr_beta_;
  int hsr_target_;
  double hsr_value_ = 0;
  int size_;
  int evaluations_ = 0;
  TrainEvaluator evaluator_;  // its buffers serve every evaluation
};

// A point with everything known about it.
struct Point {
  std::vector<double> x, g;
  double f = 0, loss = 0, grad_norm = 0;
};

bool finite_point(const Point& p) { return std::isfinite(p.f) && std::isfinite(p.grad_norm); }

void evaluate(Objective& objective, Point& p) {
  p.f = objective.evaluate(p.x, p.g, p.loss);
  p.grad_norm = norm2(objective.size(), p.g.data());
}

// Progress as the larger of the step fraction and the log-scale distance travelled toward gradTol,
// reported only when it moved visibly (each report crosses a thread boundary in the bindings).
class TrainProgress {
 public:
  TrainProgress(const Progress& progress, int max_steps, double grad_tol, double start_norm)
      : progress_(progress), max_steps_(max_steps), grad_tol_(grad_tol), start_norm_(start_norm) {}

  void update(int steps, double grad_norm) {
    check_cancelled();  // every step, even when the reported fraction does not move
    if (!progress_) return;
    double f = max_steps_ > 0 ? static_cast<double>(steps) / max_steps_ : 1.0;
    if (grad_tol_ > 0 && start_norm_ > grad_tol_ && grad_norm < start_norm_)
      f = std::max(f, std::log(start_norm_ / grad_norm) / std::log(start_norm_ / grad_tol_));
    f = std::min(f, 0.999);  // 1 is reported once, when training returns
    if (f < last_ + 0.002) return;
    last_ = f;
    progress_(f);
  }

 private:
  const Progress& progress_;
  int max_steps_;
  double grad_tol_, start_norm_;
  double last_ = 0;
};

// Shared bookkeeping of both phases.
struct Run {
  Objective& objective;
  const TrainOptions& options;
  TrainProgress& progress;
  Point current;
  int steps = 0;
  std::vector<TrainRecord> records;

  bool converged() const { return current.grad_norm <= options.grad_tol; }
  // The protocol of sharpness-vs-generalization studies: stop at a fixed training loss.
  bool reached_target() const { return options.target_loss > 0 && current.loss <= options.target_loss; }
  bool done() const { return converged() || reached_target(); }
  bool budget_left() const { return steps < options.max_steps; }
  void record() {
    records.push_back({steps, current.loss, current.grad_norm});
    if (options.observer) options.observer(steps, current.x, current.loss, current.grad_norm);
    progress.update(steps, current.grad_norm);
  }
};

[[noreturn]] void diverged(const char* phase, int step) {
  fail("NON_FINITE", std::string("training diverged (non-finite loss or gradient) at ") + phase + " step " +
                         std::to_string(step) + "; lower the learning rate lr or add weightDecay");
}

// ------------------------------------------------------------------------------------------
// Adam (Kingma & Ba), full batch: robust far from a minimum, where L-BFGS can wander.

// One Adam update of x from the gradient g (moments m, v; bias corrections c1, c2). This file is
// compiled with -fno-math-errno (CMakeLists.txt; sqrt's argument is never negative here), so that
// GCC vectorizes the loop: the same IEEE operations per entry (correctly rounded division and
// square root), the same bits, half the time (110 against 50 us per step at P = 19210 on the bench
// machine, some 2% of a digits-256 step).
void adam_update(int n, const double* g, double beta1, double beta2, double c1, double c2, double lr, double eps, double* m,
                 double* v, double* x) {
  for (int i = 0; i < n; ++i) {
    m[i] = beta1 * m[i] + (1 - beta1) * g[i];
    v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
    x[i] -= lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
  }
}

int run_adam(Run& run) {
  const int n = run.objective.size();
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, lr = run.options.lr;
  std::vector<double> m(n, 0.0), v(n, 0.0);
  int t = 0;
  while (t < run.options.adam_steps && run.budget_left() && !run.done()) {
    ++t;
    const double c1 = 1 - std::pow(beta1, t), c2 = 1 - std::pow(beta2, t);
    Point& p = run.current;
    adam_update(n, p.g.data(), beta1, beta2, c1, c2, lr, eps, m.data(), v.data(), p.x.data());
    evaluate(run.objective, p);
    if (!finite_point(p)) diverged("Adam", t);
    ++run.steps;
    run.record();
  }
  return t;
}

// ------------------------------------------------------------------------------------------
// Mini-batch epochs (train_minibatch.hpp) in place of full-batch Adam. The stopping rules are
// tested on the full-batch loss and gradient, evaluated every check_every epochs and at the end
// (each check costs about one more epoch's forward and backward passes, in one pass).

int run_minibatch(Run& run, const Problem& problem, TrainResult& r) {
  const TrainOptions& o = run.options;
  MinibatchOptions mo;
  mo.batch_size = o.batch_size;
  mo.epochs = o.epochs;
  mo.optimizer = o.optimizer;
  mo.lr = o.lr;
  mo.momentum = o.momentum;
  mo.shuffle_seed = o.shuffle_seed;
  mo.weight_decay = o.weight_decay;
  MinibatchTrainer trainer(problem, mo);
  int epochs = 0;
  while (epochs < o.epochs && run.budget_left() && !run.done()) {
    const auto began = std::chrono::steady_clock::now();
    const std::clock_t cpu_began = std::clock();
    const int made = trainer.run_epoch(run.current.x, o.max_steps - run.steps, run.steps);
    r.minibatch_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    r.minibatch_cpu_seconds += static_cast<double>(std::clock() - cpu_began) / CLOCKS_PER_SEC;
    run.steps += made;
    r.minibatch_steps += made;
    if (made == trainer.batches_per_epoch()) ++epochs;
    const bool last = epochs == o.epochs || !run.budget_left();
    if (last || (o.check_every > 0 && epochs % o.check_every == 0)) {
      evaluate(run.objective, run.current);
      if (!finite_point(run.current)) diverged("mini-batch", run.steps);
      run.record();
    } else {
      run.progress.update(run.steps, run.current.grad_norm);  // the last check's norm
    }
  }
  r.epochs = epochs;
  return epochs;
}

// ------------------------------------------------------------------------------------------
// Line search along d (Nocedal & Wright, Alg. 3.5/3.6: bracketing then zoom with safeguarded
// cubic interpolation). Near a minimum the loss stops changing in float64 long before the gradient
// vanishes, so Hager & Zhang's approximate Wolfe test is accepted too: the slope condition, with
// the loss allowed to rise by 1e-9 relative (its rounding noise when large logits cancel reaches
// ~1e-11 relative). Without it the search stalls around gradient norms of 1e-8.

struct LineSearch {
  Objective& objective;
  const Point& start;
  const std::vector<double>& d;
  double slope0;  // phi'(0) < 0
  static constexpr double kC1 = 1e-4, kC2 = 0.9, kDelta = 0.1;
  static constexpr int kMaxEvaluations = 30;
  int evaluations = 0;

  struct Trial {
    double a = 0, f = 0, slope = 0;
  };

  Trial at(double a, Point& out) {
    out.x = start.x;
    axpy(objective.size(), a, d.data(), out.x.data());
    evaluate(objective, out);
    ++evaluations;
    Trial t{a, out.f, 0};
    if (!finite_point(out)) t.f = INFINITY;
    else t.slope = dot(objective.size(), out.g.data(), d.data());
    return t;
  }

  bool armijo(const Trial& t) const { return t.f <= start.f + kC1 * t.a * slope0; }
  bool accept(const Trial& t) const {
    if (!std::isfinite(t.f)) return false;
    if (armijo(t) && std::fabs(t.slope) <= -kC2 * slope0) return true;  // strong Wolfe
    const double noise = 1e-9 * std::fabs(start.f) + 1e-300;
    return t.f <= start.f + noise && t.slope >= kC2 * slope0 && t.slope <= (2 * kDelta - 1) * slope0;
  }

  static double cubic_min(const Trial& lo, const Trial& hi) {
    const double lower = std::min(lo.a, hi.a), width = std::fabs(hi.a - lo.a);
    const double mid = 0.5 * (lo.a + hi.a);
    if (!std::isfinite(hi.f) || !std::isfinite(lo.f)) return mid;
    const double d1 = lo.slope + hi.slope - 3 * (lo.f - hi.f) / (lo.a - hi.a);
    const double disc = d1 * d1 - lo.slope * hi.slope;
    if (!(disc >= 0)) return mid;
    const double d2 = std::copysign(std::sqrt(disc), hi.a - lo.a);
    const double a = hi.a - (hi.a - lo.a) * (hi.slope + d2 - d1) / (hi.slope - lo.slope + 2 * d2);
    // Stay clear of the ends so the bracket keeps shrinking.
    if (!std::isfinite(a) || a < lower + 0.1 * width || a > lower + 0.9 * width) return mid;
    return a;
  }

  // Returns true with `best` set to the accepted point: a (strong or approximate) Wolfe point, or
  // failing that the lowest point with sufficient decrease (Armijo), which is still progress.
  // Returns false when no step decreased the objective.
  bool search(double a0, Point& best) {
    Point trial, lo_point;  // lo_point: the Point of `lo` once lo.a > 0
    Trial prev{0, start.f, slope0}, lo, hi;
    double a = a0;
    // Bracketing: grow the step until it overshoots the minimum along d.
    while (true) {
      if (evaluations >= kMaxEvaluations) return fallback(prev, lo_point, best);
      const Trial cur = at(a, trial);
      if (accept(cur)) {
        best = std::move(trial);
        return true;
      }
      if (!std::isfinite(cur.f) || !armijo(cur) || (prev.a > 0 && cur.f >= prev.f)) {
        lo = prev, hi = cur;
        break;
      }
      lo_point = trial;
      if (cur.slope >= 0) {
        lo = cur, hi = prev;
        break;
      }
      prev = cur;
      a *= 3;
    }
    // Zoom: lo has sufficient decrease and the lowest value; the minimum lies between lo and hi.
    while (evaluations < kMaxEvaluations &&
           std::fabs(hi.a - lo.a) > 1e-15 * std::max(std::fabs(lo.a), std::fabs(hi.a))) {
      const Trial t = at(cubic_min(lo, hi), trial);
      if (accept(t)) {
        best = std::move(trial);
        return true;
      }
      if (!std::isfinite(t.f) || !armijo(t) || t.f >= lo.f) {
        hi = t;
      } else {
        if (t.slope * (hi.a - lo.a) >= 0) hi = lo;
        lo = t;
        lo_point = trial;
      }
    }
    return fallback(lo, lo_point, best);
  }

  static bool fallback(const Trial& lo, Point& lo_point, Point& best) {
    if (lo.a <= 0) return false;
    best = std::move(lo_point);
    return true;
  }
};

// ------------------------------------------------------------------------------------------
// L-BFGS (two-loop recursion) with memory m.

class LbfgsMemory {
 public:
  LbfgsMemory(int n, int m) : n_(n), m_(m) {}

  void clear() { s_.clear(), y_.clear(), rho_.clear(); }
  bool empty() const { return s_.empty(); }

  // Keeps the pair only when s.y > 0, so the implied inverse Hessian stays positive definite.
  void push(std::vector<double> s, std::vector<double> y) {
    const double sy = dot(n_, s.data(), y.data());
    const double ss = dot(n_, s.data(), s.data()), yy = dot(n_, y.data(), y.data());
    if (!(sy > 1e-12 * std::sqrt(ss * yy))) return;
    if (static_cast<int>(s_.size()) == m_) {
      s_.erase(s_.begin()), y_.erase(y_.begin()), rho_.erase(rho_.begin());
    }
    gamma_ = sy / yy;
    s_.push_back(std::move(s)), y_.push_back(std::move(y)), rho_.push_back(1 / sy);
  }

  // d = -H g.
  std::vector<double> direction(const std::vector<double>& g) const {
    std::vector<double> q = g;
    const int k = static_cast<int>(s_.size());
    std::vector<double> alpha(k);
    for (int i = k - 1; i >= 0; --i) {
      alpha[i] = rho_[i] * dot(n_, s_[i].data(), q.data());
      axpy(n_, -alpha[i], y_[i].data(), q.data());
    }
    if (k > 0)
      for (double& v : q) v *= gamma_;
    for (int i = 0; i < k; ++i) {
      const double beta = rho_[i] * dot(n_, y_[i].data(), q.data());
      axpy(n_, alpha[i] - beta, s_[i].data(), q.data());
    }
    for (double& v : q) v = -v;
    return q;
  }

 private:
  int n_, m_;
  std::vector<std::vector<double>> s_, y_;
  std::vector<double> rho_;
  double gamma_ = 1;
};

int run_lbfgs(Run& run, std::string& stop_reason) {
  const int n = run.objective.size();
  LbfgsMemory memory(n, run.options.memory);
  int iterations = 0;
  while (!run.done() && run.budget_left()) {
    Point& p = run.current;
    std::vector<double> d = memory.direction(p.g);
    double slope = dot(n, p.g.data(), d.data());
    if (!(slope < 0)) {  // not a descent direction (rounding): restart from steepest descent
      memory.clear();
      d = memory.direction(p.g);
      slope = -p.grad_norm * p.grad_norm;
    }
    // Without curvature information, a first step of length ~1 in parameter space.
    const double a0 = memory.empty() ? std::min(1.0, 1.0 / p.grad_norm) : 1.0;
    LineSearch search{run.objective, p, d, slope};
    Point next;
    if (!search.search(a0, next)) {
      if (memory.empty()) {
        stop_reason = "stalled";
        return iterations;
      }
      memory.clear();  // the quasi-Newton model is misleading here; retry from steepest descent
      continue;
    }
    std::vector<double> s(n), y(n);
    for (int i = 0; i < n; ++i) s[i] = next.x[i] - p.x[i], y[i] = next.g[i] - p.g[i];
    memory.push(std::move(s), std::move(y));
    run.current = std::move(next);
    ++iterations;
    ++run.steps;
    run.record();
  }
  return iterations;
}

std::vector<TrainRecord> subsample(const std::vector<TrainRecord>& all, int keep) {
  const int n = static_cast<int>(all.size());
  if (n <= keep) return all;
  std::vector<TrainRecord> out;
  out.reserve(keep);
  for (int i = 0; i < keep; ++i) {
    const long long idx = std::llround(static_cast<double>(i) * (n - 1) / (keep - 1));
    out.push_back(all[static_cast<std::size_t>(idx)]);
  }
  return out;
}

void check_options(const TrainOptions& o) {
  if (!(o.lr > 0)) fail("BAD_OPTION", "lr must be positive");
  if (o.adam_steps < 0) fail("BAD_OPTION", "adamSteps must be >= 0");
  if (o.max_steps < 0) fail("BAD_OPTION", "maxSteps must be >= 0");
  if (!(o.grad_tol >= 0)) fail("BAD_OPTION", "gradTol must be >= 0");
  if (!(o.weight_decay >= 0)) fail("BAD_OPTION", "weightDecay must be >= 0");
  if (!(o.target_loss >= 0) || !std::isfinite(o.target_loss)) fail("BAD_OPTION", "targetLoss must be a finite number >= 0");
  if (o.memory < 1) fail("BAD_OPTION", "memory must be >= 1");
  if (o.max_history < 2) fail("BAD_OPTION", "maxHistory must be >= 2");
  if (!(o.hsr_beta >= 0)) fail("BAD_OPTION", "hsrBeta must be >= 0");
  if (o.hsr_target != 0 && o.hsr_target != 1) fail("BAD_OPTION", "hsrTarget must be 0 (upper) or 1 (spread)");
  if (o.batch_size < 0) fail("BAD_OPTION", "batchSize must be a positive integer (0: full batch)");
  if (o.batch_size == 0) return;
  if (o.epochs < 1) fail("BAD_OPTION", "epochs must be >= 1");
  if (o.check_every < 0) fail("BAD_OPTION", "checkEvery must be >= 0 (0: check at the end only)");
  if (!(o.momentum >= 0 && o.momentum < 1)) fail("BAD_OPTION", "momentum must be in [0, 1)");
  if (o.optimizer != MinibatchOptimizer::Adam && o.optimizer != MinibatchOptimizer::Sgd)
    fail("BAD_OPTION", "optimizer must be 0 (Adam) or 1 (SGD with momentum)");
  if (o.hsr_beta > 0) fail("BAD_OPTION", "HSR training is full-batch only (its penalty is a function of all samples); leave batchSize out with hsrBeta");
}

}  // namespace

TrainResult train(const Problem& problem, const TrainOptions& options, const Progress& progress) {
  validate(problem);
  check_options(options);
  if (options.batch_size > problem.samples)
    fail("BAD_OPTION", "batchSize " + std::to_string(options.batch_size) + " is larger than the " + std::to_string(problem.samples) +
                           " training samples; use a batch size from 1 to " + std::to_string(problem.samples));
  const auto started = std::chrono::steady_clock::now();
  const std::clock_t cpu_started = std::clock();
  if (options.hsr_beta > 0 && problem.net.layers() != 2)
    fail("BAD_MODEL", "HSR training needs exactly one hidden layer (the closed-form gradient of the WS bound)");
  Objective objective(problem, options.weight_decay, options.hsr_beta, options.hsr_target);
  Point start;
  const std::size_t P = problem.net.parameter_count();
  start.x.assign(problem.params, problem.params + P);
  evaluate(objective, start);
  if (!finite_point(start)) diverged("initial", 0);
  const bool minibatch = options.batch_size > 0;
  int planned_steps = options.max_steps;
  if (minibatch) {  // the epochs' updates (a polish typically takes a fraction of them)
    const double updates = static_cast<double>(options.epochs) * ((problem.samples + options.batch_size - 1) / options.batch_size);
    planned_steps = static_cast<int>(std::min<double>(options.max_steps, std::max(1.0, updates * (options.polish ? 1.25 : 1.0))));
  }
  TrainProgress tracker(progress, planned_steps, options.grad_tol, start.grad_norm);
  Run run{objective, options, tracker, std::move(start), 0, {}};
  run.record();

  TrainResult r;
  std::string stop_reason;
  if (minibatch) {
    run_minibatch(run, problem, r);
    if (options.polish) r.lbfgs_steps = run_lbfgs(run, stop_reason);
  } else {
    r.adam_steps = run_adam(run);
    r.lbfgs_steps = run_lbfgs(run, stop_reason);
  }
  r.converged = run.done();
  const bool epochs_ran_out = minibatch && !options.polish && run.budget_left();
  r.stop_reason = run.converged() ? "gradTol" : run.reached_target() ? "targetLoss" : !stop_reason.empty() ? stop_reason : epochs_ran_out ? "epochs" : "maxSteps";
  r.params = std::move(run.current.x);
  r.loss = run.current.loss;
  r.objective = run.current.f;
  r.grad_norm = run.current.grad_norm;
  if (options.hsr_beta > 0) {  // the penalty at the returned point (the last evaluation may be a trial)
    std::vector<double> g;
    double loss = 0;
    Objective at(problem, 0, options.hsr_beta, options.hsr_target);
    at.evaluate(r.params, g, loss);
    r.hsr_value = at.last_hsr_value();
  }
  r.evaluations = objective.evaluations();
  r.history = subsample(run.records, options.max_history);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.cpu_seconds = static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC;
  report(progress, 1.0);
  return r;
}

std::string train_to_json(const TrainResult& r) {
  JsonWriter w;
  w.begin();
  w.key("params").array(r.params);
  w.key("loss").number(r.loss);
  w.key("objective").number(r.objective);
  w.key("gradNorm").number(r.grad_norm);
  w.key("hsrValue").number(r.hsr_value);
  w.key("steps").begin();
  w.key("adam").number(r.adam_steps);
  w.key("lbfgs").number(r.lbfgs_steps);
  w.key("evaluations").number(r.evaluations);
  w.key("minibatch").number(r.minibatch_steps);
  w.key("epochs").number(r.epochs);
  w.end();
  w.key("converged").boolean(r.converged);
  w.key("stopReason").string(r.stop_reason);
  // Columns rather than records: the JSON writer has flat arrays only; the TS side zips them.
  std::vector<double> step, loss, grad_norm;
  for (const TrainRecord& e : r.history) {
    step.push_back(e.step);
    loss.push_back(e.loss);
    grad_norm.push_back(e.grad_norm);
  }
  w.key("history").begin();
  w.key("step").array(step);
  w.key("loss").array(loss);
  w.key("gradNorm").array(grad_norm);
  w.end();
  w.key("seconds").number(r.seconds);
  w.key("cpuSeconds").number(r.cpu_seconds);
  w.key("minibatchSeconds").number(r.minibatch_seconds);
  w.key("minibatchCpuSeconds").number(r.minibatch_cpu_seconds);
  w.end();
  return w.str();
}

std::string train_command(const Problem& problem, const CommandOptions& o, const Progress& progress) {
  // Every BLAS call of the command on one thread: the evaluation's parallelism is the kernel's own
  // threads (sample_chunks.hpp), and the HSR hook's and the tracker's BLAS calls would otherwise
  // change their last bits with OPENBLAS_NUM_THREADS (and with other threads' calls in a pool).
  BlasSerialScope serial;
  TrainOptions opt;
  opt.lr = o.number("lr", opt.lr);
  opt.adam_steps = o.integer("adamSteps", opt.adam_steps);
  opt.max_steps = o.integer("maxSteps", opt.max_steps);
  opt.grad_tol = o.number("gradTol", opt.grad_tol);
  opt.weight_decay = o.number("weightDecay", opt.weight_decay);
  opt.target_loss = o.number("targetLoss", opt.target_loss);
  opt.memory = o.integer("memory", opt.memory);
  opt.max_history = o.integer("maxHistory", opt.max_history);
  opt.hsr_beta = o.number("hsrBeta", opt.hsr_beta);
  opt.hsr_target = o.integer("hsrTarget", opt.hsr_target);
  opt.batch_size = o.integer("batchSize", opt.batch_size);
  opt.epochs = o.integer("epochs", opt.epochs);
  opt.optimizer = static_cast<MinibatchOptimizer>(o.integer("optimizer", static_cast<int>(opt.optimizer)));
  opt.momentum = o.number("momentum", opt.momentum);
  // A double carries integers exactly up to 2^53; seeds are safe integers >= 0 on the TS side.
  const double seed = o.number("shuffleSeed", 0);
  if (!(seed >= 0 && seed <= 9007199254740991.0 && seed == std::floor(seed))) fail("BAD_OPTION", "shuffleSeed must be an integer from 0 to 2^53 - 1");
  opt.shuffle_seed = static_cast<std::uint64_t>(seed);
  opt.polish = o.integer("polish", 0) != 0;
  opt.check_every = o.integer("checkEvery", opt.check_every);
  SharpnessTracker tracker(problem, track_options(o));  // option track = K: lambda_max every K steps
  if (tracker.enabled()) opt.observer = [&tracker](int step, const std::vector<double>& x, double loss, double g) { tracker.observe(step, x, loss, g); };
  const std::string json = train_to_json(train(problem, opt, progress));
  tracker.finish();
  return tracker.append_to(json);
}

}  // namespace hessbound
