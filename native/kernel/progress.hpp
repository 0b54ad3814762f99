// Progress reporting from long kernel loops; the bindings forward it to JS (fraction in [0, 1]).
#pragma once
#include <functional>

namespace hessbound {
using Progress = std::function<void(double fraction)>;
inline void report(const Progress& progress, double fraction) {
  if (progress) progress(fraction);
}
}  // namespace hessbound
