#include "model/sample_chunks.hpp"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "linalg/blas.hpp"

// The kernel's own threads: natively, and in the threaded WebAssembly build (-pthread), where the
// single-threaded module has none.
#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)
#define HESSBOUND_SAMPLE_THREADS 1
#include <exception>
#include <mutex>
#include <thread>
#endif
#if defined(__EMSCRIPTEN_PTHREADS__)
#include <condition_variable>
#include <cstdint>
#endif

namespace hessbound {

namespace {

constexpr int kMaxChunks = 8;
constexpr int kMinChunkRows = 32;
constexpr double kMaxPartialBytes = 256.0 * (1 << 20);  // the C - 1 partial P-vectors together

#ifdef HESSBOUND_SAMPLE_THREADS
constexpr double kMinWorkPerThread = 2.0e6;  // samples x parameters per thread (~0.5 ms of work)

#if defined(__EMSCRIPTEN_PTHREADS__)
// Set by the host (wasm/capi.cpp hb_set_threads): Emscripten's getenv does not see process.env, and
// a browser has none. 0 = automatic; the cap is the number of threads the module can run at once.
int host_requested = 0;
int host_cap = 1;
#else
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
#endif

}  // namespace

int sample_chunk_count(const Problem& p) {
  const double P = static_cast<double>(p.net.parameter_count());
  const int by_memory = 1 + static_cast<int>(std::min(1e6, kMaxPartialBytes / (sizeof(double) * P)));
  return std::max(1, std::min({kMaxChunks, p.samples / kMinChunkRows, by_memory}));
}

int sample_chunk_threads(const Problem& p, int chunks) {
#if defined(__EMSCRIPTEN_PTHREADS__)
  // No BLAS threads to follow here: the request, else the work, within the host's cap.
  if (host_requested > 0) return std::max(1, std::min({host_requested, host_cap, chunks}));
  const double work = static_cast<double>(p.samples) * static_cast<double>(p.net.parameter_count());
  const int by_work = static_cast<int>(std::min(1e6, std::max(1.0, work / kMinWorkPerThread)));
  return std::max(1, std::min({host_cap, by_work, chunks}));
#elif defined(HESSBOUND_SAMPLE_THREADS)
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

#if defined(__EMSCRIPTEN_PTHREADS__)
namespace {

// A threaded call from inside another (none today) runs on its own thread instead of waiting for itself.
thread_local bool inside_threaded_call = false;

// WebAssembly threads are Web Workers from a pool the host starts with the module. A thread that
// ends goes back to that pool only through the host's event loop, which a kernel call (a Lanczos
// run: hundreds of products) never yields to, so starting threads per product would find the pool
// empty after the first. Instead the kernel keeps its threads: started at the first threaded call
// and then woken for each one. Which thread runs which chunk still does not matter (see the header).
class PersistentThreads {
 public:
  // Runs work(t) for t = 1 .. threads - 1 on the kept threads (as many as could be started) and
  // work(0) here; returns when all have finished. The first exception is rethrown.
  void run(int threads, const std::function<void(int)>& work) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (static_cast<int>(workers_.size()) < threads - 1) {
      try {
        const int index = static_cast<int>(workers_.size());
        workers_.emplace_back([this, index] { loop(index); });
      } catch (...) {
        break;  // the pool has no more workers: the ones running take all the chunks
      }
    }
    const int helpers = std::min(threads - 1, static_cast<int>(workers_.size()));
    job_ = &work;
    helpers_ = helpers;
    pending_ = helpers;
    error_ = nullptr;
    ++generation_;
    lock.unlock();
    start_.notify_all();
    guarded(work, 0);
    lock.lock();
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
    most_ = std::max(most_, helpers + 1);
    if (error_) std::rethrow_exception(error_);
  }

  // The most threads one call has run on so far (1 before any threaded call).
  int most() {
    const std::lock_guard<std::mutex> hold(mutex_);
    return most_;
  }

 private:
  void guarded(const std::function<void(int)>& work, int t) {
    try {
      work(t);
    } catch (...) {
      const std::lock_guard<std::mutex> hold(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }

  void loop(int index) {
    inside_threaded_call = true;
    std::uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      start_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (index >= helpers_) continue;
      const std::function<void(int)>* work = job_;
      lock.unlock();
      guarded(*work, index + 1);
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::mutex error_mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;  // never joined: they live as long as the module
  const std::function<void(int)>* job_ = nullptr;
  std::uint64_t generation_ = 0;
  int helpers_ = 0;
  int pending_ = 0;
  int most_ = 1;
  std::exception_ptr error_;
};

PersistentThreads& persistent_threads() {
  static PersistentThreads* threads = new PersistentThreads();  // never destroyed (threads outlive exit)
  return *threads;
}

}  // namespace

void set_sample_threads(int requested, int cap) {
  host_requested = std::max(0, std::min(requested, 256));
  host_cap = std::max(1, std::min(cap, 256));
}

int sample_threads_used() { return persistent_threads().most(); }
#endif

void run_sample_threads(int threads, const std::function<void(int)>& work) {
  BlasSerialScope serial;
#if defined(__EMSCRIPTEN_PTHREADS__)
  if (threads <= 1 || inside_threaded_call) {
    work(0);
    return;
  }
  inside_threaded_call = true;
  try {
    persistent_threads().run(threads, work);
  } catch (...) {
    inside_threaded_call = false;
    throw;
  }
  inside_threaded_call = false;
#elif defined(HESSBOUND_SAMPLE_THREADS)
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
