/**
 * The ceiling of the GEMM-bound kernels in WebAssembly (issue 15): GFLOP/s of the kernel's own
 * gemm() (blas.hpp) on square n x n x n products, compiled twice from bench/gemm-peak/gemm_peak.cpp:
 * natively against OpenBLAS on one thread (OPENBLAS_NUM_THREADS=1; AVX2 with FMA under
 * OPENBLAS_CORETYPE=Haswell), and with em++ -O3 -msimd128 (the f64x2 microkernels of gemm_vec2.cpp,
 * run by Node's V8). SIMD128 has no fused multiply-add and 2 lanes, so its peak per cycle is about
 * half of AVX2 FMA's (8 against 16 flops a cycle on 2 FMA pipes). Runs alternate, `rounds` each;
 * reported: the median GFLOP/s (each run takes the best of its repetitions) and the ratio. The
 * program warms gemm() up first (2000 small products) so V8 runs its optimized code, as in the kernel.
 *
 *   node --import tsx bench/wasm-gemm-peak.ts [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR } from './lib/peer.js';
import { median } from './lib/stats.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 3) || 3;
const dir = mkdtempSync(join(tmpdir(), 'hb-gemm-peak-'));
const kernel = join(REPO_DIR, 'native', 'kernel');
const source = join(REPO_DIR, 'bench', 'gemm-peak', 'gemm_peak.cpp');
const env = { ...process.env, NODE_PATH: [process.env['NODE_PATH'], '/usr/share/nodejs'].filter(Boolean).join(':'), OPENBLAS_NUM_THREADS: '1' };

execFileSync('g++', ['-O3', '-std=c++17', '-DHESSBOUND_USE_BLAS', '-I/usr/include/x86_64-linux-gnu/openblas-pthread', `-I${kernel}`, source,
  join(kernel, 'linalg/blas.cpp'), '-lopenblas', '-o', join(dir, 'native')], { env, stdio: 'inherit' });
execFileSync('em++', ['-O3', '-msimd128', '-std=c++17', '-I/usr/include/eigen3', '-DEIGEN_MPL2_ONLY', '-DEIGEN_NO_DEBUG', `-I${kernel}`, source,
  join(kernel, 'linalg/blas.cpp'), join(kernel, 'linalg/gemm_vec2.cpp'), '-sALLOW_MEMORY_GROWTH=1', '-sENVIRONMENT=node', '-sSINGLE_FILE=1', '-o', join(dir, 'wasm.js')], { env, stdio: 'inherit' });

const runs: Record<'native' | 'wasm', Record<string, number>[]> = { native: [], wasm: [] };
for (let r = 0; r < rounds; r++) {
  runs.native.push(JSON.parse(execFileSync(join(dir, 'native'), { env, encoding: 'utf8' })) as Record<string, number>);
  runs.wasm.push(JSON.parse(execFileSync(process.execPath, [join(dir, 'wasm.js')], { env, encoding: 'utf8' })) as Record<string, number>);
}
console.log(`Run ${new Date().toISOString()} (${rounds} round(s); GFLOP/s, median over rounds of the best repetition).\n`);
console.log('| n | native OpenBLAS, 1 thread | wasm SIMD128 (gemm_vec2) | native / wasm |');
console.log('| --- | --- | --- | --- |');
for (const n of Object.keys(runs.native[0]!)) {
  const nat = median(runs.native.map((x) => x[n]!));
  const was = median(runs.wasm.map((x) => x[n]!));
  console.log(`| ${n} | ${nat.toFixed(1)} | ${was.toFixed(1)} | ${(nat / was).toFixed(2)}x |`);
}
