/**
 * One Hessian-vector product with layer 0 reading X densely (OpenBLAS GEMMs) or by its nonzeros
 * (native/kernel/curvature/sparse_inputs.cpp), on the seeded synthetic digit set (24% nonzero),
 * 784-WIDTH-10 tanh, one thread, each SIMD path this CPU runs; the formats alternate within a
 * round (bench/lib/hvp-products.ts: per-product wall and CPU time, without conversion and forward
 * pass). Ratios within a round are what to read on a shared machine. Under HESSBOUND_SIMD=avx2 only
 * hessbound's own loops are capped: the dense GEMMs stay OpenBLAS's (SkylakeX kernels on an
 * AVX-512 CPU), so that row compares AVX2 sparse loops against AVX-512 GEMMs.
 *
 *   node --import tsx bench/sparse-inputs.ts [--n 10000] [--width 256] [--rounds 3] [--md bench/sparse-inputs-results.md]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { BENCH_DIR } from './lib/peer.js';
import { cpuDescription, runnableSimdPaths } from './lib/simd.js';
import { median } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    width: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '3' },
    md: { type: 'string' },
  },
});
const lines: string[] = [];
const say = (s = ''): void => {
  console.log(s);
  lines.push(s);
};
interface Product {
  wallPerProduct: number;
  cpuPerProduct: number;
  checksum: number;
  simd: string | null;
}
function product(path: string, format: string): Product {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', HESSBOUND_THREADS: '1', HESSBOUND_SIMD: path, HESSBOUND_SPARSE_INPUTS: format };
  delete env['OPENBLAS_CORETYPE'];
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'lib', 'hvp-products.ts'), values.n!, values.width!, '8'], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const out = r.stdout.trim().split('\n');
  return JSON.parse(out[out.length - 1]!) as Product;
}

say(`# Layer 0 by its nonzeros: one Hessian-vector product`);
say();
say(`Run ${new Date().toISOString()}, \`node --import tsx bench/sparse-inputs.ts --rounds ${values.rounds} --md ...\`.`);
say(`CPU: ${cpuDescription()}. One thread (OPENBLAS_NUM_THREADS = HESSBOUND_THREADS = 1; OPENBLAS_CORETYPE unset: OpenBLAS picks its own kernels, ` +
  `also on the avx2 rows, so there the sparse AVX2 loops race OpenBLAS's AVX-512 GEMMs when the CPU has AVX-512).`);
say(`Load average at the start: ${loadavg().map((x) => x.toFixed(2)).join(' / ')} on 2 shared cores (other jobs ran meanwhile).`);
say(`Problem: bench/lib/synthetic-digits.ts, n = ${values.n}, 24.4% nonzero, 784-${values.width}-10 tanh, 8 products timed per child.`);
say();
say(`| round | SIMD path | dense: ms a product (CPU) | sparse: ms a product (CPU) | dense / sparse (CPU) | dense / sparse (wall) |`);
say(`| ---: | --- | ---: | ---: | ---: | ---: |`);
const ratios = new Map<string, number[]>();
for (let round = 1; round <= Number(values.rounds); round++)
  for (const path of runnableSimdPaths().filter((p) => p !== 'generic')) {
    const dense = product(path, 'dense');
    const sparse = product(path, 'sparse');
    if (Math.abs(dense.checksum - sparse.checksum) > 1e-12 * Math.abs(dense.checksum)) throw new Error(`checksums differ: ${dense.checksum} ${sparse.checksum}`);
    const cpu = dense.cpuPerProduct / sparse.cpuPerProduct;
    ratios.set(sparse.simd ?? path, [...(ratios.get(sparse.simd ?? path) ?? []), cpu]);
    say(`| ${round} | ${sparse.simd ?? '?'} | ${(dense.cpuPerProduct * 1e3).toFixed(0)} | ${(sparse.cpuPerProduct * 1e3).toFixed(0)} | ${cpu.toFixed(2)}x | ` +
      `${(dense.wallPerProduct / sparse.wallPerProduct).toFixed(2)}x |`);
  }
say();
for (const [path, r] of ratios) say(`- ${path}: dense / sparse CPU time a product, median ${median(r).toFixed(2)}x.`);
say(`Load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' / ')}.`);
if (values.md) writeFileSync(values.md, lines.join('\n') + '\n');
