// Tests the cross-compiled linux-arm64 addon and kernel under qemu-user-static (no arm64 machine needed):
//  1. the kernel's C++ checks (test/native/*.cpp), cross-compiled in the bullseye root with the same
//     sources and flags as test/gemm-vec2.test.ts and test/train-eval-simd.test.ts, linked statically,
//     run under qemu-aarch64-static, held to the same limits as those tests;
//  2. the addon loaded by Debian's arm64 Node (bookworm root from sysroot.sh run-arm64), computing
//     reference fixtures (fixture-probe.mjs): within 1e-12 of the x64 addon on this host, and within
//     1e-9 of the fixtures' independent float64 autodiff values.
// Exits 1 on any failure.   node test-arm64.mjs ARM64_ADDON [X64_ADDON]
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const arm64Addon = resolve(process.argv[2] ?? '');
const x64Addon = resolve(process.argv[3] ?? join(dirname(arm64Addon), 'hessbound.linux-x64-gnu.node'));
const failures = [];
const check = (ok, what) => {
  console.log(`test-arm64: ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
const sh = (cmd, args, options = {}) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...options });
const buildRoot = sh('bash', [join(here, 'sysroot.sh'), 'build']).trim().split('\n').at(-1);
const runRoot = sh('bash', [join(here, 'sysroot.sh'), 'run-arm64']).trim().split('\n').at(-1);
const qemu = 'qemu-aarch64-static';

// 1. The kernel's C++ checks.
const work = '/hessbound-build/arm64-checks';
sh('rm', ['-rf', join(buildRoot, work)]);
sh('mkdir', ['-p', join(buildRoot, work)]);
sh('cp', ['-r', join(repo, 'native'), join(repo, 'test'), join(buildRoot, work)]);
const kernel = `${work}/native/kernel`;
const LINALG = '-llapacke -L/usr/lib/aarch64-linux-gnu/openblas-pthread -lopenblas -L/usr/lib/gcc/aarch64-linux-gnu/10 -lgfortran -Wl,--whole-archive -lpthread -Wl,--no-whole-archive -lm';
// (a static glibc 2.31 program needs all of libpthread.a, or std::thread throws at its first thread)
// (multiarch puts arm64's libgfortran.a under gcc/aarch64-linux-gnu, which the cross gcc does not search)
function crossCompile(name, sources, flags) {
  sh('chroot', [buildRoot, '/bin/sh', '-c', `aarch64-linux-gnu-g++ ${flags} -std=c++17 -static -I/usr/include/eigen3 -I${kernel} ${sources.join(' ')} ${LINALG} -o ${work}/${name}`]);
  return join(buildRoot, work, name);
}
const vec2 = JSON.parse(sh(qemu, [crossCompile('gemm_vec2', [`${work}/test/native/gemm_vec2_check.cpp`, ...['linalg/gemm_vec2', 'linalg/blas', 'spectrum/tridiagonal_eigenvalues'].map((f) => `${kernel}/${f}.cpp`)], '-O1')]));
for (const key of ['gemm', 'gemv', 'dot', 'eigenvalues', 'tridiagonalVsLapack', 'sterfVsLapack']) check(vec2[key] < 1e-12, `gemm_vec2_check ${key} ${vec2[key]} < 1e-12`);
check(vec2.paddingKept === true && vec2.tridiagonalCases > 80 && vec2.sterfCases > 60, 'gemm_vec2_check covers its cases');
const g512 = JSON.parse(sh(qemu, [crossCompile('gemm512', [`${work}/test/native/gemm512_check.cpp`, `${kernel}/linalg/gemm512.cpp`], '-O2')]));
check(g512.available === false, 'gemm512_check: the AVX-512 products report unavailable on arm64');
const trainSources = ['train/train_eval', 'linalg/elementwise', 'linalg/gemm512', 'model/sample_chunks', 'model/network', 'model/activation', 'linalg/blas'].map((f) => `${kernel}/${f}.cpp`);
const trainExe = crossCompile('train_eval', [`${work}/test/native/train_eval_check.cpp`, ...trainSources], '-O2');
const runTrain = (threads) => sh(qemu, [trainExe], { env: { ...process.env, HESSBOUND_THREADS: String(threads) } });
const one = runTrain(1), three = runTrain(3);
const withoutThreads = (text) => text.replace(/"threads": \d+/g, '');
check(withoutThreads(one) === withoutThreads(three), 'train_eval_check: bit-identical for 1 and 3 threads');
const te = JSON.parse(one);
check(te.simd === false && te.tanhUlps <= 2.5 && te.expUlps <= 2 && te.cases.length === 6, `train_eval_check: BLAS path, tanh within ${te.tanhUlps} ulp, 6 cases`);
const maxAbs = (v) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const maxDiff = (a, b) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
for (const [i, c] of te.cases.entries()) {
  check(Math.abs(c.loss - c.referenceLoss) <= 1e-12 * c.referenceLoss && maxDiff(c.grad, c.referenceGrad) <= 1e-12 * maxAbs(c.referenceGrad) &&
    c.fdIndex.every((at, j) => Math.abs(c.fd[j] - c.grad[at]) <= 1e-6 * Math.max(1, maxAbs(c.grad))), `train_eval_check case ${i}: loss, gradient and finite differences`);
}

// 2. The addon in an arm64 Node, against the x64 addon here and the fixtures.
const probe = (command, args, addon) => {
  const r = spawnSync(command, args, { encoding: 'utf8', cwd: repo, env: { ...process.env, HESSBOUND_ADDON: addon, HESSBOUND_BACKEND: 'native' }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`fixture probe (${command}) failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
};
const started = Date.now();
const arm = probe(qemu, ['-L', runRoot, join(runRoot, 'usr/bin/node'), join(here, 'fixture-probe.mjs')], arm64Addon);
console.log(`test-arm64: arm64 Node ${arm.node} (${arm.arch}) under qemu computed the fixtures in ${((Date.now() - started) / 1000).toFixed(0)} s`);
const x64 = probe(process.execPath, [join(here, 'fixture-probe.mjs')], x64Addon);
check(arm.arch === 'arm64', 'the probe ran in an arm64 Node');
const rel = (a, b, floor) => Math.abs(a - b) / Math.max(Math.abs(b), floor);
for (const [name, a] of Object.entries(arm.fixtures)) {
  const b = x64.fixtures[name], e = a.expected;
  const radius = Math.max(Math.abs(b.lambdaMax), Math.abs(b.lambdaMin));
  let vsX64 = 0, vsFixture = 0;
  for (const key of ['loss', 'gradNorm', 'trace', 'traceOfSquare', 'lambdaMax', 'lambdaMin']) {
    vsX64 = Math.max(vsX64, rel(a[key], b[key], 1e-300));
    vsFixture = Math.max(vsFixture, rel(a[key], e[key], 1e-300));
  }
  for (const key of ['upper', 'lowerOfMax', 'lowerOfMin', 'upperOfMin', 'spread']) {
    vsX64 = Math.max(vsX64, rel(a.bound[key], b.bound[key], 1e-300));
    vsFixture = Math.max(vsFixture, rel(a.bound[key], e.bound[key], 1e-300));
  }
  a.eigenvalues.forEach((v, i) => {
    vsX64 = Math.max(vsX64, rel(v, b.eigenvalues[i], radius));
    vsFixture = Math.max(vsFixture, rel(v, e.eigenvalues[i], radius));
  });
  a.lanczosTop.forEach((v, i) => (vsX64 = Math.max(vsX64, rel(v, b.lanczosTop[i], radius))));
  check(a.backend === 'native' && a.eigenvalues.length === e.eigenvalues.length, `${name}: native backend, all ${e.eigenvalues.length} eigenvalues`);
  check(vsX64 <= 1e-12, `${name}: arm64 vs x64 addon, worst relative difference ${vsX64.toExponential(2)} <= 1e-12`);
  check(vsFixture <= 1e-9, `${name}: arm64 vs the float64 autodiff fixture ${vsFixture.toExponential(2)} <= 1e-9`);
}
if (failures.length > 0) {
  console.error(`test-arm64: ${failures.length} check(s) failed`);
  process.exit(1);
}
console.log(`test-arm64: all checks passed`);
