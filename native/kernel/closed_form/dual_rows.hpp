// The inner loop of the dual closed form (closed_form_dual.cpp): one row n of a tile against its
// columns m, on the SIMD path this process runs (linalg/simd_path.hpp: HESSBOUND_SIMD caps it).
//
// Per panel of columns it forms Q_nm (the c(c+1)/2 products s_n * W2_r * W2_r' against s_m, and the c
// gradient rows) in a register-tiled product whose output stays in L1, and at once runs the O(c^2)
// per-pair pass over it (which also gives <C_n, C_m>, formerly a GEMM of its own) and adds the
// pair's seven summands into the tile's column sums. Before,
// OpenBLAS formed Q for 8 rows at a time (1 MB: packed both operands and zeroed the output on every
// call, then the pass read it back from L3); that was 30% of the traces' time.
//
// Arithmetic: every Q entry is one running sum over j = 0 .. h-1 in order, and the pass does the
// same operations per column as before, so the result depends on the tile's data only (never on
// threads); fused multiply-adds on the AVX2/AVX-512 paths change last bits between paths.
#pragma once
#include <cstddef>

namespace hessbound {

// Columns per packed panel on this process's path (4 generic, 8 AVX2, 32 AVX-512).
int dual_panel_width();

// Doubles of the packed right operand for bm columns of width h.
std::size_t dual_packed_size(int bm, int h);

// Packs rows m0 .. m0+bm of S (row-major, width h) into panels of dual_panel_width() columns:
// panel p is h x PW, entry (j, u) = S[m0 + p PW + u][j], zero for columns past bm.
void dual_pack_columns(const double* s, int h, int m0, int bm, double* packed);

// One tile row. Arrays over the tile's columns have stride `ld` (>= bm rounded up to the panel
// width; read up to that, written only below bm).
struct DualRow {
  int c = 0, h = 0, pairs = 0;  // rows of `left`: pairs (r <= r'), then c gradient rows
  int bm = 0, ld = 0;
  int j0 = 0;     // first column of the row (the diagonal tile's upper triangle starts at the diagonal)
  int self = -1;  // the column of the pair (n, n), counted once; others twice
  const double* left = nullptr;    // (pairs + c) x h: s_n * W2_r * W2_r', then s_n z_n (W2_k - W2^T p_n)
  const double* packed = nullptr;  // dual_pack_columns of the tile's s_m
  const double *pn = nullptr, *qn = nullptr, *gn = nullptr;    // p, sqrt p, g of sample n (c each)
  int dom_n = -1;               // n's dominant class d (p_d > 1/2), or -1
  const double* bn = nullptr;   // e_d - p_n from its small entries (c; read only when dom_n >= 0)
  const double *pmt = nullptr, *qmt = nullptr, *gmt = nullptr;  // the same of the columns, c x ld
  const double* bmt = nullptr;   // e_d - p_m of the columns' dominant class d (c x ld; zero without one)
  const double* domt = nullptr;  // the columns' dominant class as a double, -1 for none (ld)
  const double* o2 = nullptr;  // c x bm (stride bm): sum_j s_nj s_mj z_mj (W2_k - W2^T p_m)_j
  // Row n of the tile's Grams (stride ld): Kx, Kz, <A_n, A_m>, colnorm.e, e.colnorm, e.e, g.g, s.s.
  const double *kx = nullptr, *kz = nullptr, *aa = nullptr, *de = nullptr, *ed = nullptr, *ee = nullptr;
  const double *gg = nullptr, *ss = nullptr;
  double* scratch = nullptr;  // dual_row_scratch(c, pairs + c) doubles
  double* acc = nullptr;      // 7 x ld: the tile's column sums (TraceTerms' squares in add order)
};

std::size_t dual_row_scratch(int c, int rows);

void dual_row(const DualRow& row);

}  // namespace hessbound
