// Times and profiles training's loss + gradient evaluation alone, without Node (Bench G, issue 14):
// digits-shaped random data (N = 1797, d = 64, 10 classes), a 64-w-10 tanh MLP.
//
//   g++ -O2 -std=c++17 -Inative/kernel bench/native/train-eval-profile.cpp build/libhessbound_kernel.a \
//       /usr/lib/x86_64-linux-gnu/liblapacke.a /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a \
//       -lpthread -lm -lgfortran -o /tmp/train-eval-profile
//   OPENBLAS_NUM_THREADS=1 perf record -o /tmp/p.data /tmp/train-eval-profile 256 50 [old]
//   perf report -i /tmp/p.data --no-children --sort symbol
//
// Arguments: width, evaluations, and "old" for the Hessian path's forward_backward() + gradient()
// (what training called before TrainEvaluator; build against that commit's library to time it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <vector>

#include "linalg/blas.hpp"
#include "model/network.hpp"
#if __has_include("train/train_eval.hpp")
#include "train/train_eval.hpp"
#define HAVE_TRAIN_EVAL 1
#endif

using namespace hessbound;

int main(int argc, char** argv) {
  const int h = argc > 1 ? std::atoi(argv[1]) : 256, reps = argc > 2 ? std::atoi(argv[2]) : 50;
  bool old = argc > 3 && std::strcmp(argv[3], "old") == 0;
#ifndef HAVE_TRAIN_EVAL
  old = true;
#endif
  const int N = 1797, d = 64, c = 10;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> gauss(0, 1);
  Problem p;
  p.net.sizes = {d, h, c};
  p.net.has_bias = {true, true};
  p.net.activation = Activation::Tanh;
  std::vector<double> x(static_cast<std::size_t>(N) * d), t(static_cast<std::size_t>(N) * c, 0.0), w(p.net.parameter_count());
  for (double& v : x) v = gauss(rng);
  for (int n = 0; n < N; ++n) t[static_cast<std::size_t>(n) * c + n % c] = 1;
  for (double& v : w) v = gauss(rng) * 0.1;
  p.params = w.data(), p.x = x.data(), p.targets = t.data(), p.samples = N;
  std::vector<double> grad(w.size());
  double loss = 0;
#ifdef HAVE_TRAIN_EVAL
  TrainEvaluator evaluator(p);
#endif
  auto evaluate = [&] {
    if (old) {
      const ForwardCache cache = forward_backward(p);
      grad = gradient(p, cache);
      loss = cache.loss;
    }
#ifdef HAVE_TRAIN_EVAL
    else loss = evaluator.evaluate(w.data(), grad.data());
#endif
  };
  evaluate();
  // The fastest of batches of 5 (the machine is shared: the minimum is the least disturbed), by
  // the wall clock and by the calling thread's CPU time (which time slices given to other
  // processes do not count; with HESSBOUND_THREADS=1 it is all the evaluation's work).
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  };
  double s = 1e30, cpu = 1e30;
  for (int r = 0; r < reps; r += 5) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_now();
    for (int i = 0; i < 5; ++i) evaluate();
    cpu = std::min(cpu, (cpu_now() - c0) / 5);
    s = std::min(s, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 5);
  }
  std::printf("cpu %.3f ms, ", cpu * 1e3);
  std::printf("width %d, %s: %.3f ms per evaluation (loss %.17g, |grad| %.17g)\n", h, old ? "forward_backward + gradient" : "TrainEvaluator",
              s * 1e3, loss, norm2(static_cast<int>(grad.size()), grad.data()));
}
