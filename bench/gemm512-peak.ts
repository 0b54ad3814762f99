/**
 * One core's limits next to the products training's evaluation runs (issue 14): the FMA peak with
 * 512-bit and 256-bit registers, OpenBLAS's DGEMM as this environment runs it (OPENBLAS_CORETYPE as
 * set; on the bench machine Haswell, i.e. AVX2 kernels) and, for comparison, with
 * OPENBLAS_CORETYPE=SkylakeX (its AVX-512 kernels), and each of the five products of a digits
 * evaluation (N = 1797 rows at once) by OpenBLAS and by native/kernel/linalg/gemm512.cpp.
 *
 *   node --import tsx bench/gemm512-peak.ts [--md FILE]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { measureCorePeaks } from './lib/core-peak.js';

const { values } = parseArgs({ options: { md: { type: 'string' } } });
const lines: string[] = [];
const say = (s = ''): void => {
  console.log(s);
  lines.push(s);
};

const asGiven = measureCorePeaks();
const skylake = measureCorePeaks({ OPENBLAS_CORETYPE: 'SkylakeX' });
say(`Run ${new Date().toISOString()}, \`node --import tsx bench/gemm512-peak.ts\`; OPENBLAS_CORETYPE=${process.env['OPENBLAS_CORETYPE'] ?? '(unset)'}; ` +
  `load average at the start ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}. One thread, float64, GFLOP/s (best of 5-7).`);
say();
say(`| | GFLOP/s |`);
say(`| --- | ---: |`);
say(`| FMA peak, 512-bit registers (AVX-512) | **${asGiven.peak512.toFixed(1)}** |`);
say(`| FMA peak, 256-bit registers (AVX2) | ${asGiven.peak256.toFixed(1)} |`);
say(`| OpenBLAS DGEMM 1024³, OPENBLAS_CORETYPE as given | ${asGiven.dgemm1024.toFixed(1)} |`);
say(`| OpenBLAS DGEMM 1024³, OPENBLAS_CORETYPE=SkylakeX | ${skylake.dgemm1024.toFixed(1)} |`);
say();
say(`Training's products on digits (N = 1797, d = 64, 10 classes): OpenBLAS on all rows in one call; gemm512.cpp per block of rows (512 KB per array) with padded row strides, as the evaluation calls it:`);
say();
say(`| width | product | Mflop | OpenBLAS (as given) | OpenBLAS (SkylakeX) | gemm512.cpp | gemm512 / AVX-512 peak |`);
say(`| ---: | --- | ---: | ---: | ---: | ---: | ---: |`);
asGiven.shapes.forEach((s, i) => {
  const k = skylake.shapes[i]!;
  say(`| ${s.width} | ${s.product} | ${(s.flops / 1e6).toFixed(1)} | ${s.openblas.toFixed(1)} | ${k.openblas.toFixed(1)} | ${s.gemm512.toFixed(1)} | ${(100 * s.gemm512 / asGiven.peak512).toFixed(0)}% |`);
});
say();
if (values.md) writeFileSync(values.md, lines.join('\n') + '\n');
