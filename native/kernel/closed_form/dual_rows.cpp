#include "closed_form/dual_rows.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "linalg/simd_path.hpp"

#ifdef HESSBOUND_X86_SIMD
// The vector helpers are always inlined into their path's function, so no 32/64-byte vector
// crosses a call (GCC's -Wpsabi note on that ABI does not apply).
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#define HB_DUAL_INLINE inline __attribute__((always_inline))

namespace hessbound {

namespace {

// Panel widths and register tiles per path: AVX-512 4 vectors x 6 rows (24 of 32 registers),
// AVX2 2 x 6 (12 of 16), generic (SSE2, WebAssembly SIMD128) 2 x 6.
constexpr int kNv512 = 4, kNv256 = 2, kNv128 = 2, kRows = 6;

namespace path_generic {
typedef double V __attribute__((vector_size(16)));
typedef std::int64_t VI __attribute__((vector_size(16)));
#include "closed_form/dual_rows_body.inc"
void row(const DualRow& w) { row_body<kNv128, kRows>(w); }
}  // namespace path_generic

#ifdef HESSBOUND_X86_SIMD
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace path_avx2 {
typedef double V __attribute__((vector_size(32)));
typedef std::int64_t VI __attribute__((vector_size(32)));
#include "closed_form/dual_rows_body.inc"
void row(const DualRow& w) { row_body<kNv256, kRows>(w); }
}  // namespace path_avx2
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f,fma")
namespace path_avx512 {
typedef double V __attribute__((vector_size(64)));
typedef std::int64_t VI __attribute__((vector_size(64)));
#include "closed_form/dual_rows_body.inc"
void row(const DualRow& w) { row_body<kNv512, kRows>(w); }
}  // namespace path_avx512
#pragma GCC pop_options
#endif

}  // namespace

int dual_panel_width() {
  switch (simd_path()) {
    case SimdPath::Avx512: return 8 * kNv512;
    case SimdPath::Avx2: return 4 * kNv256;
    default: return 2 * kNv128;
  }
}

std::size_t dual_packed_size(int bm, int h) {
  const int pw = dual_panel_width();
  return static_cast<std::size_t>((bm + pw - 1) / pw) * pw * h;
}

void dual_pack_columns(const double* s, int h, int m0, int bm, double* packed) {
  const int pw = dual_panel_width();
  const int panels = (bm + pw - 1) / pw;
  for (int p = 0; p < panels; ++p) {
    double* out = packed + static_cast<std::size_t>(p) * pw * h;
    for (int u = 0; u < pw; ++u) {
      const int m = p * pw + u;
      if (m < bm) {
        const double* sm = s + static_cast<std::size_t>(m0 + m) * h;
        for (int j = 0; j < h; ++j) out[static_cast<std::size_t>(j) * pw + u] = sm[j];
      } else {
        for (int j = 0; j < h; ++j) out[static_cast<std::size_t>(j) * pw + u] = 0.0;
      }
    }
  }
}

// The widest path: rows x 32 Q entries, then 3 c vectors of 8 after up to 7 doubles of alignment.
std::size_t dual_row_scratch(int c, int rows) { return static_cast<std::size_t>(rows) * 32 + 3 * static_cast<std::size_t>(c) * 8 + 8; }

void dual_row(const DualRow& w) {
#ifdef HESSBOUND_X86_SIMD
  switch (simd_path()) {
    case SimdPath::Avx512: return path_avx512::row(w);
    case SimdPath::Avx2: return path_avx2::row(w);
    default: return path_generic::row(w);
  }
#else
  path_generic::row(w);
#endif
}

}  // namespace hessbound
