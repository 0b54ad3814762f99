// The kernel's own threads over a fixed partition of the samples, shared by the Hessian-vector
// products (hvp.cpp) and training's evaluation (train_eval.cpp).
//
// The samples are split into a fixed number of chunks, [N c / C, N (c+1) / C) for c < C, that
// depends on the problem only. Each chunk sums its samples' contributions into a P-vector of its
// own, and the result is their sum in chunk order. Threads take chunks as they come, so a thread
// the scheduler holds back (a shared machine) leaves its next chunks to the others. The arithmetic
// depends neither on which thread runs which chunk nor on how many threads there are: results are
// bit-identical for any HESSBOUND_THREADS.
#pragma once

#include <functional>

#include "model/network.hpp"

namespace hessbound {

// C: at most 8, at least 32 samples each, and the C - 1 partial P-vectors within 256 MB.
int sample_chunk_count(const Problem& p);

// Threads for `chunks` chunks. HESSBOUND_THREADS=n asks for n; without it min(BLAS threads,
// hardware threads, work, chunks): OPENBLAS_NUM_THREADS=1, which the sweep pool sets when it runs
// several workers in one process, keeps the work on the calling thread. Automatic threads also need
// enough work each to pay for starting them (some 20-50 us). Always 1 in the single-threaded
// WebAssembly build; in the threaded one (-pthread) the host sets the request (set_sample_threads).
int sample_chunk_threads(const Problem& p, int chunks);

#if defined(__EMSCRIPTEN_PTHREADS__)
// The threaded WebAssembly build: `requested` threads (0 = automatic, as without HESSBOUND_THREADS),
// never more than `cap`, the threads the host's worker pool can run at once.
void set_sample_threads(int requested, int cap);
// The most threads one call has run on so far (tests and the browser example show it).
int sample_threads_used();
#endif

// Runs work(t) for t = 0 .. threads - 1, t = 0 on the calling thread, with a single-threaded BLAS
// meanwhile (BlasSerialScope: a multithreaded BLAS inside each thread would oversubscribe the cores
// and wait for all its threads at every call). Fewer threads when the system has none to give: the
// ones running then take all the chunks.
void run_sample_threads(int threads, const std::function<void(int)>& work);

}  // namespace hessbound
