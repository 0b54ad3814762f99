// Which SIMD code path the kernel's hand-written loops take (elementwise passes, training's
// products, the HVP's fused layers), chosen once per process from the CPU's features (not its
// model name: GCC's target_clones("arch=haswell") only ever picked Intel Haswell, so Zen and newer
// Intel CPUs without AVX-512 ran the SSE2 code).
//
// HESSBOUND_SIMD=generic|avx2|avx512 caps the path (a request above what the CPU runs is capped at
// the CPU's), so one AVX-512 machine can measure and test every path. Header-only so the host
// checks in test/native/ compile any kernel file without a further source.
#pragma once

#include <cstdlib>
#include <cstring>

#if !defined(__EMSCRIPTEN__) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HESSBOUND_X86_SIMD 1
#endif

namespace hessbound {

enum class SimdPath : int { Generic = 0, Avx2 = 1, Avx512 = 2 };

inline const char* simd_path_name(SimdPath path) {
  switch (path) {
    case SimdPath::Avx512: return "avx512";
    case SimdPath::Avx2: return "avx2";
    default: return "generic";
  }
}

// The best path this CPU runs: AVX-512F (all such CPUs have FMA), AVX2 with FMA, else generic
// (SSE2 natively; SIMD128 in WebAssembly).
inline SimdPath cpu_simd_path() {
#ifdef HESSBOUND_X86_SIMD
  static const SimdPath path = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma") ? SimdPath::Avx512
                               : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? SimdPath::Avx2
                                                                                                  : SimdPath::Generic;
  return path;
#else
  return SimdPath::Generic;
#endif
}

// HESSBOUND_SIMD as a path; unset, empty, "auto" or unknown: no cap (the TypeScript loaders reject
// unknown values with BAD_OPTION before the kernel runs).
inline SimdPath requested_simd_path() {
  const char* s = std::getenv("HESSBOUND_SIMD");
  if (!s) return SimdPath::Avx512;
  if (std::strcmp(s, "generic") == 0) return SimdPath::Generic;
  if (std::strcmp(s, "avx2") == 0) return SimdPath::Avx2;
  return SimdPath::Avx512;
}

// The path that runs (read once per process).
inline SimdPath simd_path() {
  static const SimdPath path = [] {
    const SimdPath cpu = cpu_simd_path(), asked = requested_simd_path();
    return static_cast<int>(asked) < static_cast<int>(cpu) ? asked : cpu;
  }();
  return path;
}

}  // namespace hessbound
