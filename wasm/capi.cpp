// Thin C ABI over the kernel for the WebAssembly build (src/backend/wasm.ts is its only caller).
// No numerics here: it converts arguments, calls the same entry points as native/binding/addon.cpp,
// and turns every C++ exception into a status plus a stored (code, message), so a failure never
// aborts the module and the next call works normally.
//
// Conventions:
//  - every hb_* call that computes returns 0 on success and -1 on failure; then hb_error_code()
//    and hb_error_message() describe the failure until the next call;
//  - results stay in module-owned slots (one text, two double arrays, eight scalars) until
//    hb_release() or the next call; the caller copies them out;
//  - a problem is passed as the views of OwnedProblem::from_views (HB_SPEC below), which copies them.
#include <emscripten.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "analysis/analysis.hpp"
#include "linalg/blas.hpp"
#include "closed_form/bounds.hpp"
#include "commands.hpp"
#include "spectrum/eigensolver.hpp"
#include "support/errors.hpp"
#include "curvature/hessian.hpp"
#include "support/json_writer.hpp"
#include "support/owned_problem.hpp"
#include "curvature/sparse_inputs.hpp"
#include "model/sample_chunks.hpp"

// Progress goes to an optional JS function the caller puts on the module object for one call
// (wasm/capi-library.js).
extern "C" void hb_progress_js(double fraction);

namespace {

using hessbound::KernelError;
using hessbound::OwnedProblem;

// The largest dense P x P matrix the kernel may allocate here. The heap ends at 4 GB and Eigen's
// eigensolver keeps its own copy of the matrix, so two must fit with room for the data, the
// forward caches and the glue: 1920 MiB each. It also keeps every P * P below 2^32 in size_t.
constexpr std::uint64_t kMaxDenseBytes = 1920ull << 20;

struct Slots {
  std::string text;
  std::vector<double> arrays[2];
  double scalars[8] = {};
  std::string error_code, error_message;
} g;

void clear_results() {
  g.text.clear();
  g.text.shrink_to_fit();
  for (auto& a : g.arrays) std::vector<double>().swap(a);
  std::fill(std::begin(g.scalars), std::end(g.scalars), 0.0);
}

const char* kWasmNote = " [WebAssembly backend: its heap stops at 4 GB, so dense matrices are limited to 2.01 GB]";

// Runs body; on any exception records (code, message) and returns -1. The module stays usable:
// with -fwasm-exceptions a throw unwinds normally and the allocator is left consistent.
// `clamped` (read after body ran) says the wasm limit, not the caller's, decided a TOO_LARGE.
template <typename F>
int guarded(F body, const bool* clamped = nullptr) {
  g.error_code.clear();
  g.error_message.clear();
  clear_results();
  try {
    body();
    return 0;
  } catch (const KernelError& e) {
    g.error_code = e.code();
    g.error_message = e.what();
    if (clamped && *clamped && e.code() == "TOO_LARGE") g.error_message += kWasmNote;
  } catch (const std::bad_alloc&) {
    g.error_code = "TOO_LARGE";
    g.error_message =
        "out of memory in the WebAssembly kernel (its heap cannot grow past 4 GB, and a browser may allow less); "
        "use the Lanczos method (method 'lanczos') or a smaller problem";
  } catch (const std::length_error&) {
    // On wasm32 a container longer than max_size() means more than the 32-bit address space.
    g.error_code = "TOO_LARGE";
    g.error_message =
        "the request exceeds the 4 GB address space of the WebAssembly kernel; use the Lanczos method "
        "(method 'lanczos') or a smaller problem";
  } catch (const std::exception& e) {
    g.error_code = "KERNEL";
    g.error_message = e.what();
  } catch (...) {
    g.error_code = "KERNEL";
    g.error_message = "unknown error in the WebAssembly kernel";
  }
  clear_results();  // free partial results before the caller retries
  return -1;
}

hessbound::Progress progress_if(int wanted) {
  if (!wanted) return {};
  return [](double f) { hb_progress_js(f); };
}

}  // namespace

#define HB_SPEC                                                                                                 \
  const int *sizes, int size_count, const unsigned char *has_bias, int bias_count, int activation, double leaky_slope, \
      int reduction, \
      const double *params, std::size_t params_len, const double *x, std::size_t x_len, const double *targets,   \
      std::size_t targets_len, int samples
#define HB_SPEC_ARGS                                                                                        \
  sizes, size_count, has_bias, bias_count, activation, leaky_slope, reduction, params, params_len, x, x_len, targets, \
      targets_len, samples

extern "C" {

// Allocation for the JS side's copies; 0 when the heap cannot grow (the caller reports TOO_LARGE).
EMSCRIPTEN_KEEPALIVE void* hb_malloc(std::size_t bytes) { return std::malloc(bytes == 0 ? 1 : bytes); }
EMSCRIPTEN_KEEPALIVE void hb_free(void* p) { std::free(p); }

EMSCRIPTEN_KEEPALIVE const char* hb_error_code() { return g.error_code.c_str(); }
EMSCRIPTEN_KEEPALIVE const char* hb_error_message() { return g.error_message.c_str(); }

EMSCRIPTEN_KEEPALIVE const char* hb_text() { return g.text.c_str(); }
EMSCRIPTEN_KEEPALIVE std::size_t hb_text_length() { return g.text.size(); }
EMSCRIPTEN_KEEPALIVE const double* hb_array(int i) { return g.arrays[i & 1].data(); }
EMSCRIPTEN_KEEPALIVE std::size_t hb_array_length(int i) { return g.arrays[i & 1].size(); }
EMSCRIPTEN_KEEPALIVE double hb_scalar(int i) { return g.scalars[i & 7]; }
EMSCRIPTEN_KEEPALIVE void hb_release() { clear_results(); }

// How layer 0 of a Hessian-vector product reads X (0 auto, 1 dense, 2 sparse), as
// HESSBOUND_SPARSE_INPUTS natively; the host passes the variable at load.
EMSCRIPTEN_KEEPALIVE void hb_set_sparse_inputs(int format) {
  hessbound::set_input_format(static_cast<hessbound::InputFormat>(format < 0 || format > 2 ? 0 : format));
}

#if defined(__EMSCRIPTEN_PTHREADS__)
// The threaded module (hessbound-wasm-mt): the kernel's threads over samples, as HESSBOUND_THREADS
// natively (0 = automatic), at most `cap` (the pthread workers the host started with the module).
EMSCRIPTEN_KEEPALIVE void hb_set_threads(int requested, int cap) { hessbound::set_sample_threads(requested, cap); }
EMSCRIPTEN_KEEPALIVE int hb_threads_started() { return hessbound::sample_threads_used(); }
#endif

// {"linalg": "eigen", "maxDenseBytes": ..., "commands": [...]} (static; valid for the module's life).
EMSCRIPTEN_KEEPALIVE const char* hb_info() {
  static const std::string info = [] {
    hessbound::JsonWriter w;
    w.begin();
    w.key("linalg").string(hessbound::linalg_backend());
#if defined(__wasm_relaxed_simd__)
    w.key("simd").string("relaxed");  // the products use f64x2.relaxed_madd (gemm_vec2.cpp)
#else
    w.key("simd").string("simd128");
#endif
    w.key("maxDenseBytes").number(static_cast<double>(kMaxDenseBytes));
    w.end();
    std::string names;  // JsonWriter has no string arrays; command names are plain identifiers
    for (const std::string& name : hessbound::command_names()) names += (names.empty() ? "\"" : ",\"") + name + "\"";
    std::string text = w.str();
    text.insert(text.size() - 1, ",\"commands\":[" + names + "]");
    return text;
  }();
  return info.c_str();
}

// run(name, spec, options): options are `count` keys joined by '\n' with their values in `values`.
// maxDenseBytes is clamped to what the heap can hold (every command may ignore it). Result: text.
EMSCRIPTEN_KEEPALIVE int hb_run(const char* name, HB_SPEC, const char* keys, const double* values, int count,
                                int progress) {
  bool clamped = false;
  return guarded(
      [&] {
        hessbound::CommandOptions options;
        double max_dense = 8.0 * (1ull << 30);  // the kernel's own default
        std::string all = keys ? keys : "";
        std::size_t start = 0;
        for (int i = 0; i < count; ++i) {
          const std::size_t end = std::min(all.find('\n', start), all.size());
          const std::string key = all.substr(start, end - start);
          start = end + 1;
          if (key == "maxDenseBytes" && std::isfinite(values[i])) max_dense = values[i];
          else options.set(key, values[i]);  // a non-finite maxDenseBytes stays for the kernel to reject
        }
        clamped = !(max_dense <= static_cast<double>(kMaxDenseBytes));
        options.set("maxDenseBytes", std::min(max_dense, static_cast<double>(kMaxDenseBytes)));
        const OwnedProblem problem = OwnedProblem::from_views(HB_SPEC_ARGS);
        g.text = hessbound::run_command(name, problem.problem, options, progress_if(progress));
      },
      &clamped);
}

// The dense Hessian (P x P, row-major) into array 0.
EMSCRIPTEN_KEEPALIVE int hb_hessian(HB_SPEC, int assembly, double max_bytes, int progress) {
  const bool clamped = !(max_bytes <= static_cast<double>(kMaxDenseBytes));
  return guarded(
      [&] {
        const OwnedProblem problem = OwnedProblem::from_views(HB_SPEC_ARGS);
        const auto limit = clamped ? kMaxDenseBytes : static_cast<std::uint64_t>(std::max(max_bytes, 0.0));
        hessbound::check_dense_fits(problem.problem.net.parameter_count(), limit);
        g.arrays[0] = hessbound::hessian_matrix(problem.problem, static_cast<hessbound::HessianAssembly>(assembly),
                                                limit, progress_if(progress));
      },
      &clamped);
}

// H v for k directions (k rows of length P) into array 0.
EMSCRIPTEN_KEEPALIVE int hb_hvp(HB_SPEC, const double* directions, std::size_t directions_len, int k) {
  return guarded([&] {
    const OwnedProblem problem = OwnedProblem::from_views(HB_SPEC_ARGS);
    if (k < 0 || directions_len != problem.problem.net.parameter_count() * static_cast<std::size_t>(k))
      throw KernelError("SHAPE_MISMATCH", "directions must hold k x P values");
    g.arrays[0] = hessbound::hessian_vector_products(problem.problem, directions, k);
  });
}

// Loss into scalar 0, gradient into array 0.
EMSCRIPTEN_KEEPALIVE int hb_loss_grad(HB_SPEC) {
  return guarded([&] {
    const OwnedProblem problem = OwnedProblem::from_views(HB_SPEC_ARGS);
    hessbound::LossGradient lg = hessbound::loss_and_gradient(problem.problem);
    g.scalars[0] = lg.loss;
    g.arrays[0] = std::move(lg.gradient);
  });
}

// Eigenpairs first..last of the symmetric n x n matrix (destroyed): values in array 0, vectors in array 1.
EMSCRIPTEN_KEEPALIVE int hb_eigh(double* matrix, std::size_t matrix_len, int n, int first, int last, int vectors) {
  return guarded([&] {
    if (n <= 0 || matrix_len != static_cast<std::size_t>(n) * static_cast<std::size_t>(n))
      throw KernelError("SHAPE_MISMATCH", "matrix must hold n x n values");
    if (first == 0 && last == n - 1 && !vectors) {
      g.arrays[0] = hessbound::symmetric_eigenvalues(n, matrix);
    } else {
      hessbound::EigenPairs pairs = hessbound::symmetric_eigen_range(n, matrix, first, last, vectors != 0);
      g.arrays[0] = std::move(pairs.values);
      g.arrays[1] = std::move(pairs.vectors);
    }
  });
}

// Scalars 0..5: upper, lowerOfMax, lowerOfMin, upperOfMin, spread, frobenius.
EMSCRIPTEN_KEEPALIVE int hb_ws_bounds(double trace, double trace_of_square, double n) {
  return guarded([&] {
    const hessbound::WsBounds b = hessbound::ws_bounds(trace, trace_of_square, n);
    const double out[6] = {b.upper, b.lower_of_max, b.lower_of_min, b.upper_of_min, b.spread, b.frobenius};
    std::copy(std::begin(out), std::end(out), g.scalars);
  });
}

// For tests: allocates `bytes` inside the guard and frees them, so the out-of-memory path
// (bad_alloc -> TOO_LARGE, module still usable) can be exercised without a huge model.
EMSCRIPTEN_KEEPALIVE int hb_probe_alloc(double bytes) {
  return guarded([&] {
    if (!(bytes >= 0 && bytes < 4294967296.0)) throw KernelError("BAD_OPTION", "probe size must be below 4 GiB");
    std::unique_ptr<char[]> block(new char[static_cast<std::size_t>(bytes)]);
    volatile char* touch = block.get();
    touch[0] = 1;
  });
}

}  // extern "C"
