#include "sample_chunks.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "blas.hpp"

// The kernel's own threads (natively only: the WebAssembly build has no pthreads).
#if !defined(__EMSCRIPTEN__)
#define HESSBOUND_SAMPLE_THREADS 1
#include <exception>
#include <mutex>
#include <thread>
#endif

namespace hessbound {

namespace {

constexpr int kMaxChunks = 8;
constexpr int kMinChunkRows = 32;
constexpr double kMaxPartialBytes = 256.0 * (1 << 20);  // the C - 1 partial P-vectors together

#ifdef HESSBOUND_SAMPLE_THREADS
constexpr double kMinWorkPerThread = 2.0e6;  // samples x parameters per thread (~0.5 ms of work)

int requested_threads() {
  // Read once: getenv races with a setenv on another thread (process.env writes in Node).
  static const int requested = [] {
    const char* s = std::getenv("HESSBOUND_THREADS");
    if (!s || !*s) return 0;
    char* end = nullptr;
    const long n = std::strtol(s, &end, 10);
    return *end == 0 && n >= 1 ? static_cast<int>(std::min<long>(n, 256)) : 0;
  }();
  return requested;
}
#endif

}  // namespace

int sample_chunk_count(const Problem& p) {
  const double P = static_cast<double>(p.net.parameter_count());
  const int by_memory = 1 + static_cast<int>(std::min(1e6, kMaxPartialBytes / (sizeof(double) * P)));
  return std::max(1, std::min({kMaxChunks, p.samples / kMinChunkRows, by_memory}));
}

int sample_chunk_threads(const Problem& p, int chunks) {
#ifdef HESSBOUND_SAMPLE_THREADS
  const int requested = requested_threads();
  if (requested > 0) return std::min(requested, chunks);
  const int hardware = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const double work = static_cast<double>(p.samples) * static_cast<double>(p.net.parameter_count());
  const int by_work = static_cast<int>(std::min(1e6, std::max(1.0, work / kMinWorkPerThread)));
  return std::max(1, std::min({std::max(1, blas_threads()), hardware, by_work, chunks}));
#else
  (void)p, (void)chunks;
  return 1;
#endif
}

void run_sample_threads(int threads, const std::function<void(int)>& work) {
  BlasSerialScope serial;
#ifdef HESSBOUND_SAMPLE_THREADS
  // An exception (a failed allocation, a cancellation seen on the calling thread) must not escape a
  // thread or leave one unjoined, either of which ends the process: the first is rethrown after all
  // have joined.
  std::exception_ptr error;
  std::mutex error_lock;
  auto guarded = [&](int t) {
    try {
      work(t);
    } catch (...) {
      const std::lock_guard<std::mutex> hold(error_lock);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  try {
    for (int t = 1; t < threads; ++t) workers.emplace_back(guarded, t);
  } catch (...) {
    // No more threads to be had: the ones running take all the chunks.
  }
  guarded(0);
  for (std::thread& w : workers) w.join();
  if (error) std::rethrow_exception(error);
#else
  (void)threads;
  work(0);
#endif
}

}  // namespace hessbound
