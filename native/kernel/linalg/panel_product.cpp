#include "linalg/panel_product.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "linalg/blas.hpp"
#include "support/errors.hpp"
#include "model/sample_chunks.hpp"

namespace hessbound {

PackedPairs::PackedPairs(int n, std::size_t first) : n_(n) {
  // Row i holds n - i pairs.
  while (first >= static_cast<std::size_t>(n_ - i_)) {
    first -= static_cast<std::size_t>(n_ - i_);
    ++i_;
  }
  j_ = i_ + static_cast<int>(first);
}

namespace {

// Panel width: as many columns as `doubles` allows for `rows` rows, a multiple of the granularity.
int panel_width(std::size_t columns, int granularity, std::size_t doubles, std::size_t rows) {
  std::size_t w = std::max<std::size_t>(1, doubles / std::max<std::size_t>(1, rows));
  w = std::min(w, columns);
  w = std::max<std::size_t>(granularity, w - w % granularity);
  return static_cast<int>(std::min<std::size_t>(w, 1u << 30));
}

}  // namespace

void for_each_product_block(int rows, const ColumnSource& a, const ColumnSource& b, std::size_t work_bytes, int count,
                            const ProductBlockVisitor& visit, double* totals, const Progress& progress, int threads) {
  if (a.columns % a.granularity || b.columns % b.granularity)
    fail("KERNEL", "panel product: column count not a multiple of its granularity");
  if (a.columns == 0 || b.columns == 0) return;
  const std::size_t third = std::max<std::size_t>(work_bytes / 8 / 3, 1);
  const int wb = panel_width(b.columns, b.granularity, third, rows);
  const int wa = panel_width(a.columns, a.granularity, third, std::max<std::size_t>(rows, wb));
  // Blocks numbered with b outer and a inner (each thread refills a panel only when it changes).
  const std::size_t a_panels = (a.columns + wa - 1) / wa, b_panels = (b.columns + wb - 1) / wb;
  const std::size_t blocks = a_panels * b_panels;
  std::vector<double> partial(blocks * static_cast<std::size_t>(count), 0.0);
  threads = static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(threads, blocks)));
  std::atomic<std::size_t> next{0}, done{0};
  std::atomic<bool> stop{false};
  auto work = [&](int t) {
    try {
      std::vector<double> pa(static_cast<std::size_t>(rows) * wa), pb(static_cast<std::size_t>(rows) * wb),
          y(static_cast<std::size_t>(wa) * wb);
      std::size_t have_a = blocks, have_b = blocks;  // no panel yet
      for (std::size_t k; !stop.load(std::memory_order_relaxed) && (k = next.fetch_add(1)) < blocks;) {
        const std::size_t ai = k % a_panels, bi = k / a_panels;
        const std::size_t a0 = ai * wa, b0 = bi * wb;
        const int na = static_cast<int>(std::min<std::size_t>(wa, a.columns - a0));
        const int nb = static_cast<int>(std::min<std::size_t>(wb, b.columns - b0));
        if (have_b != bi) b.fill(b0, nb, pb.data()), have_b = bi;
        if (have_a != ai) a.fill(a0, na, pa.data()), have_a = ai;
        gemm(true, false, na, nb, rows, 1.0, pa.data(), na, pb.data(), nb, 0.0, y.data(), nb);
        visit(a0, na, b0, nb, y.data(), partial.data() + k * count);
        const std::size_t finished = done.fetch_add(1) + 1;
        if (t == 0) report(progress, static_cast<double>(finished) / blocks);
      }
    } catch (...) {
      stop = true;
      throw;
    }
  };
  run_sample_threads(threads, work);
  check_cancelled();
  for (std::size_t k = 0; k < blocks; ++k)
    for (int s = 0; s < count; ++s) totals[s] += partial[k * count + s];
}

ColumnSource packed_outer(int rows, int n, const double* v) {
  ColumnSource src;
  src.columns = packed_size(n);
  src.fill = [rows, n, v](std::size_t first, int count, double* out) {
    for (int r = 0; r < rows; ++r) {
      const double* vr = v + static_cast<std::size_t>(r) * n;
      double* o = out + static_cast<std::size_t>(r) * count;
      PackedPairs pair(n, first);
      for (int k = 0; k < count; ++k, pair.next())
        o[k] = vr[pair.i()] * vr[pair.j()] * (pair.i() == pair.j() ? 1.0 : kSqrt2);
    }
  };
  return src;
}

}  // namespace hessbound
