#include "panel_product.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "blas.hpp"
#include "errors.hpp"

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

void for_each_product_block(int rows, const ColumnSource& a, const ColumnSource& b, std::size_t work_bytes,
                            const ProductBlockVisitor& visit, const Progress& progress) {
  if (a.columns % a.granularity || b.columns % b.granularity)
    fail("KERNEL", "panel product: column count not a multiple of its granularity");
  if (a.columns == 0 || b.columns == 0) return;
  const std::size_t third = std::max<std::size_t>(work_bytes / 8 / 3, 1);
  const int wb = panel_width(b.columns, b.granularity, third, rows);
  const int wa = panel_width(a.columns, a.granularity, third, std::max<std::size_t>(rows, wb));
  std::vector<double> pa(static_cast<std::size_t>(rows) * wa), pb(static_cast<std::size_t>(rows) * wb),
      y(static_cast<std::size_t>(wa) * wb);
  const bool a_whole = static_cast<std::size_t>(wa) >= a.columns;
  if (a_whole) a.fill(0, static_cast<int>(a.columns), pa.data());
  const double blocks = std::ceil(static_cast<double>(a.columns) / wa) * std::ceil(static_cast<double>(b.columns) / wb);
  double done = 0;
  for (std::size_t b0 = 0; b0 < b.columns; b0 += wb) {
    const int nb = static_cast<int>(std::min<std::size_t>(wb, b.columns - b0));
    b.fill(b0, nb, pb.data());
    for (std::size_t a0 = 0; a0 < a.columns; a0 += wa) {
      const int na = static_cast<int>(std::min<std::size_t>(wa, a.columns - a0));
      if (!a_whole) a.fill(a0, na, pa.data());
      gemm(true, false, na, nb, rows, 1.0, pa.data(), na, pb.data(), nb, 0.0, y.data(), nb);
      visit(a0, na, b0, nb, y.data());
      report(progress, ++done / blocks);
    }
  }
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
