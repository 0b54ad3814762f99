// Progress reporting from long kernel loops; the bindings forward it to JS (fraction in [0, 1]).
// Cancellation rides on the same calls: every report() (and check_cancelled() in loops that report
// rarely) asks the binding's probe whether the caller gave up, and then throws KernelError ABORTED.
// The probe is per thread (the thread running the command), so no kernel signature changes.
#pragma once
#include <functional>

#include "support/errors.hpp"

namespace hessbound {
using Progress = std::function<void(double fraction)>;
using CancelProbe = std::function<bool()>;

// Set by the binding for the duration of one command on the thread that runs it.
inline thread_local const CancelProbe* current_cancel_probe = nullptr;

inline void check_cancelled() {
  if (current_cancel_probe && (*current_cancel_probe)())
    fail("ABORTED", "the computation was cancelled (AbortSignal, Ctrl-C or shutdown)");
}

// Installs a probe for the current scope (RAII; restores the previous one).
class CancelScope {
 public:
  explicit CancelScope(const CancelProbe* probe) : saved_(current_cancel_probe) { current_cancel_probe = probe; }
  ~CancelScope() { current_cancel_probe = saved_; }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  const CancelProbe* saved_;
};

inline void report(const Progress& progress, double fraction) {
  check_cancelled();
  if (progress) progress(fraction);
}
}  // namespace hessbound
