/**
 * Where the WebAssembly eigensolve (all eigenvalues) goes, against what native runs (issue 15):
 * bench/tridiagonal-profile/tridiagonal_profile.cpp compiled with em++ -O3 -msimd128 (the kernel's
 * blocked tridiagonalization of gemm_vec2.cpp and the QL/QR of tridiagonal_eigenvalues.cpp) and
 * natively against OpenBLAS/LAPACKE on one thread (dsymv, dsyr2k, dsytrd, dsterf: the parts of
 * LAPACKE_dsyevd('N')). Per part: seconds (median over rounds of each run's best of 3) and GFLOP/s,
 * symv and syr2k counted as n^3 * 2/3 flops each (the two halves of a reduction's 4/3 n^3).
 *
 *   node --import tsx bench/wasm-tridiagonal.ts [--n 2051] [--rounds 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR } from './lib/peer.js';
import { median } from './lib/stats.js';

const arg = (name: string, fallback: number) => Number(process.argv[process.argv.indexOf(name) + 1] || fallback) || fallback;
const rounds = process.argv.includes('--rounds') ? arg('--rounds', 3) : 3;
const n = process.argv.includes('--n') ? arg('--n', 2051) : 2051;
const dir = mkdtempSync(join(tmpdir(), 'hb-tridiagonal-'));
const kernel = join(REPO_DIR, 'native', 'kernel');
const source = join(REPO_DIR, 'bench', 'tridiagonal-profile', 'tridiagonal_profile.cpp');
const env = { ...process.env, NODE_PATH: [process.env['NODE_PATH'], '/usr/share/nodejs'].filter(Boolean).join(':'), OPENBLAS_NUM_THREADS: '1' };

execFileSync('g++', ['-O3', '-std=c++17', '-I/usr/include/x86_64-linux-gnu/openblas-pthread', source, '-llapacke', '-lopenblas', '-o', join(dir, 'native')], { env, stdio: 'inherit' });
execFileSync('em++', ['-O3', '-msimd128', '-std=c++17', '-I/usr/include/eigen3', '-DEIGEN_MPL2_ONLY', '-DEIGEN_NO_DEBUG', `-I${kernel}`, source,
  join(kernel, 'linalg/blas.cpp'), join(kernel, 'spectrum/tridiagonal_eigenvalues.cpp'), '-sALLOW_MEMORY_GROWTH=1', '-sENVIRONMENT=node', '-sSINGLE_FILE=1', '-o', join(dir, 'wasm.js')], { env, stdio: 'inherit' });

type Parts = Record<'symv' | 'syr2k' | 'tridiagonal' | 'eigenvalues', number>;
const runs: Record<'native' | 'wasm', Parts[]> = { native: [], wasm: [] };
for (let r = 0; r < rounds; r++) {
  runs.native.push(JSON.parse(execFileSync(join(dir, 'native'), [String(n)], { env, encoding: 'utf8' })) as Parts);
  runs.wasm.push(JSON.parse(execFileSync(process.execPath, [join(dir, 'wasm.js'), String(n)], { env, encoding: 'utf8' })) as Parts);
}
const half = (2 / 3) * n ** 3;
const rows: [keyof Parts, string, number][] = [
  ['symv', 'symmetric mat-vecs (native dsymv; wasm symv_lower), n^3/6 entries', half],
  ['syr2k', 'rank-64 updates of the lower triangle (native dsyr2k; wasm gemm_vec2 by row blocks)', half],
  ['tridiagonal', 'whole tridiagonalization (native dsytrd; wasm tridiagonalize_lower_vec2)', 2 * half],
  ['eigenvalues', 'tridiagonal eigenvalues (native dsterf; wasm tridiagonal_eigenvalues)', Number.NaN],
];
console.log(`Run ${new Date().toISOString()}, n = ${n} (${rounds} round(s); seconds: median over rounds of the best of 3; OPENBLAS_NUM_THREADS=1).\n`);
console.log('| part | native | wasm | wasm / native | native GFLOP/s | wasm GFLOP/s |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [key, label, flops] of rows) {
  const nat = median(runs.native.map((x) => x[key]));
  const was = median(runs.wasm.map((x) => x[key]));
  const gf = (t: number) => (Number.isNaN(flops) ? '–' : (flops / t / 1e9).toFixed(1));
  console.log(`| ${label} | ${(nat * 1000).toFixed(1)} ms | ${(was * 1000).toFixed(1)} ms | ${(was / nat).toFixed(2)}x | ${gf(nat)} | ${gf(was)} |`);
}
