// Host check of training's evaluation (native/kernel/train/train_eval.cpp) for test/train-eval-simd.test.ts,
// built twice: as the addon runs it on this machine (AVX-512 products when the CPU has them) and
// with -DHESSBOUND_TRAIN_SIMD_LEVEL=0 (the BLAS path every other machine runs). For a few nets
// with edge shapes (one input, two classes, widths off the tiles, two hidden layers, tanh and
// gelu) it prints, as JSON: the evaluator's loss and gradient (%.17g, to compare bits across
// thread counts and builds), the Hessian path's (forward_backward + gradient, what analyze() uses)
// and central differences of the loss along a few coordinates.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "linalg/gemm512.hpp"
#include "model/network.hpp"
#include "linalg/simd_path.hpp"
#include "linalg/elementwise.hpp"
#include "train/train_eval.hpp"

using namespace hessbound;

namespace {

struct Case {
  std::vector<int> sizes;
  Activation activation;
  int samples;
};

// FNV-1a over the bits of doubles: equal hashes for bit-identical outputs across SIMD paths.
std::uint64_t hash_bits(const std::vector<double>& v, std::uint64_t h = 1469598103934665603ULL) {
  for (double x : v) {
    std::uint64_t b;
    std::memcpy(&b, &x, sizeof b);
    for (int i = 0; i < 8; ++i) h = (h ^ ((b >> (8 * i)) & 0xff)) * 1099511628211ULL;
  }
  return h;
}

// Every elementwise pass (elementwise.hpp) on lengths and widths off the vector lanes, with and
// without bias, first and accumulated column sums: one hash of all outputs.
std::uint64_t elementwise_hash(std::mt19937_64& rng) {
  std::normal_distribution<double> gauss(0, 2);
  auto fill = [&](std::size_t n) {
    std::vector<double> v(n);
    for (double& x : v) x = gauss(rng);
    return v;
  };
  std::uint64_t h = 1469598103934665603ULL;
  for (int width : {1, 3, 8, 13, 37, 64}) {
    const int rows = 5;
    const std::size_t n = static_cast<std::size_t>(rows) * width;
    std::vector<double> u = fill(n), b = fill(width), a(n), u2 = u, a2(n);
    bias_tanh(rows, width, b.data(), u.data(), a.data());
    bias_tanh(rows, width, nullptr, u2.data(), a2.data());
    std::vector<double> back = fill(n), delta(n), scaled = fill(n), sums(width);
    tanh_backward(n, a.data(), back.data(), delta.data());
    scale_by(n, back.data(), scaled.data());
    sum_columns(rows, width, delta.data(), true, sums.data());
    sum_columns(rows - 2, width, scaled.data(), false, sums.data());
    for (const auto* v : {&u, &a, &u2, &a2, &delta, &scaled, &sums}) h = hash_bits(*v, h);
  }
  return h;
}

void print_vector(const char* name, const std::vector<double>& v) {
  std::printf("\"%s\": [", name);
  for (std::size_t i = 0; i < v.size(); ++i) std::printf("%s%.17g", i ? ", " : "", v[i]);
  std::printf("]");
}

}  // namespace

int main() {
  const Case cases[] = {
      {{64, 37, 10}, Activation::Tanh, 301},  // digits-like inputs, width off the tiles
      {{1, 5, 2}, Activation::Tanh, 40},      // one input, two classes
      {{7, 70, 3}, Activation::Tanh, 3},      // fewer samples than a tile of rows
      {{9, 24, 12, 4}, Activation::Tanh, 97}, // two hidden layers
      {{9, 33, 17, 4}, Activation::Gelu, 97}, // another activation (sigma' kept in delta)
      {{16, 256, 10}, Activation::Tanh, 1000},// blocks and chunks of the bench's shape
  };
  std::mt19937_64 rng(11);
  std::normal_distribution<double> gauss(0, 1);
  // tanh_values and exp_values against long double references (tanhl, expl: some 11 more bits
  // than double): the largest error in units in the last place of the double result, over 2e6
  // arguments uniform in [-1, 1] and log-uniform in magnitude from 1e-8 to 30 (tanh), and uniform
  // in [-50, 0] and log-uniform in magnitude from 1e-8 to 745 (exp, the softmax's arguments).
  // glibc's tanh on the same arguments, for scale.
  std::vector<double> args(2'000'000), values(args.size());
  std::uniform_real_distribution<double> unit(-1, 1), exponent(-8, std::log10(30.0)), exp_exponent(-8, std::log10(745.0));
  for (std::size_t i = 0; i < args.size(); ++i)
    args[i] = i % 2 ? unit(rng) : std::copysign(std::pow(10.0, exponent(rng)), unit(rng));
  tanh_values(args.data(), static_cast<int>(args.size()), values.data());
  auto ulps = [](double value, long double want) {
    if (want == 0) return value == 0 ? 0.0 : INFINITY;
    const double rounded = static_cast<double>(want);
    const long double ulp = std::nextafter(std::fabs(rounded), INFINITY) - std::fabs(rounded);
    return static_cast<double>(std::fabs(static_cast<long double>(value) - want) / ulp);
  };
  double worst_ulps = 0, libm_ulps = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const long double want = tanhl(static_cast<long double>(args[i]));
    worst_ulps = std::max(worst_ulps, ulps(values[i], want));
    libm_ulps = std::max(libm_ulps, ulps(std::tanh(args[i]), want));
  }
  const std::uint64_t tanh_hash = hash_bits(values);
  for (std::size_t i = 0; i < args.size(); ++i)
    args[i] = i % 2 ? 50 * (unit(rng) - 1) / 2 : -std::pow(10.0, exp_exponent(rng));
  exp_values(args.data(), args.size(), values.data());
  double exp_ulps = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const long double want = expl(static_cast<long double>(args[i]));
    // Below -700 the result is 0 by design (flushed), and the relative error of a subnormal means nothing.
    if (args[i] >= -700) exp_ulps = std::max(exp_ulps, ulps(values[i], want));
    else if (values[i] != 0) exp_ulps = INFINITY;
  }
  const std::uint64_t exp_hash = hash_bits(values);
  std::printf("{\"path\": \"%s\", \"simd\": %s, \"tanhUlps\": %.3f, \"libmTanhUlps\": %.3f, \"expUlps\": %.3f, \"tanhHash\": \"%016llx\", \"expHash\": \"%016llx\", \"elementwiseHash\": \"%016llx\", \"cases\": [",
              simd_path_name(simd_path()), gemm512_available() ? "true" : "false", worst_ulps, libm_ulps, exp_ulps,
              static_cast<unsigned long long>(tanh_hash), static_cast<unsigned long long>(exp_hash),
              static_cast<unsigned long long>(elementwise_hash(rng)));
  bool first_case = true;
  for (const Case& k : cases) {
    Problem p;
    p.net.sizes = k.sizes;
    p.net.has_bias.assign(k.sizes.size() - 1, true);
    p.net.activation = k.activation;
    const int d = k.sizes.front(), c = k.sizes.back(), N = k.samples;
    std::vector<double> x(static_cast<std::size_t>(N) * d), t(static_cast<std::size_t>(N) * c, 0.0), w(p.net.parameter_count());
    for (double& v : x) v = gauss(rng);
    for (int n = 0; n < N; ++n) t[static_cast<std::size_t>(n) * c + (n * 7) % c] = 1;
    for (double& v : w) v = gauss(rng) * 0.4;
    p.params = w.data(), p.x = x.data(), p.targets = t.data(), p.samples = N;
    std::vector<double> grad(w.size());
    TrainEvaluator evaluator(p);
    const double loss = evaluator.evaluate(w.data(), grad.data());
    const ForwardCache cache = forward_backward(p);
    const std::vector<double> reference = gradient(p, cache);
    // Central differences along a few coordinates (first and last weights and biases, some between).
    std::vector<double> fd, fd_index;
    std::vector<double> scratch(w.size());
    for (std::size_t i = 0; i < w.size(); i += std::max<std::size_t>(1, w.size() / 7)) {
      const double h = 1e-5, keep = w[i];
      w[i] = keep + h;
      const double up = evaluator.evaluate(w.data(), scratch.data());
      w[i] = keep - h;
      const double down = evaluator.evaluate(w.data(), scratch.data());
      w[i] = keep;
      fd.push_back((up - down) / (2 * h));
      fd_index.push_back(static_cast<double>(i));
    }
    std::printf("%s{\"loss\": %.17g, \"referenceLoss\": %.17g, ", first_case ? "" : ", ", loss, cache.loss);
    print_vector("grad", grad);
    std::printf(", ");
    print_vector("referenceGrad", reference);
    std::printf(", ");
    print_vector("fd", fd);
    std::printf(", ");
    print_vector("fdIndex", fd_index);
    std::printf(", \"threads\": %d}", evaluator.threads());
    first_case = false;
  }
  std::printf("]}\n");
  return 0;
}
