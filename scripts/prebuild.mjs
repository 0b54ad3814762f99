// After `cmake-js compile`: copy the addon to prebuilds/<platform>-<arch>/ under the name node-gyp-build
// looks for (tags: napi = any Node with N-API 8, glibc = the C library it needs), but only when it is
// self-contained: its dynamic dependencies must be the C/C++ runtime alone (checked with ldd).
// `--require` (used by prepack) turns a missing or non-self-contained addon into an error.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE = join('build', 'Release', 'hessbound.node');
const DIR = join('prebuilds', `${process.platform}-${process.arch}`);
const TARGET = join(DIR, 'hessbound.napi.glibc.node');
const required = process.argv.includes('--require');
// The libraries every Linux Node.js process already has.
const RUNTIME = /^(linux-vdso|ld-linux|libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|librt)\b/;

function give(message) {
  if (required) {
    console.error(`hessbound prebuild: ${message}`);
    process.exit(1);
  }
  console.warn(`hessbound prebuild: ${message}; no prebuild written (the addon in build/Release still works here)`);
  process.exit(0);
}

if (process.platform !== 'linux') give(`prebuilds are made on Linux only (this is ${process.platform})`);
if (!existsSync(SOURCE)) give(`${SOURCE} is missing (npm run build:native)`);
const ldd = spawnSync('ldd', [SOURCE], { encoding: 'utf8' });
if (ldd.status !== 0) give(`ldd failed on ${SOURCE}: ${ldd.stderr.trim()}`);
const libraries = ldd.stdout
  .split('\n')
  .map((line) => line.trim().split(/\s+/)[0])
  .filter((name) => name);
const foreign = libraries.filter((name) => !RUNTIME.test(name.replace(/^.*\//, '')));
if (foreign.length > 0)
  give(`${SOURCE} needs ${foreign.join(', ')} at run time (the static OpenBLAS/LAPACKE archives were not found: install libopenblas-dev and liblapacke-dev, then rebuild)`);
// Loading is lazy: an unresolved BLAS/LAPACK/Fortran symbol would only fail at its first call.
const nm = spawnSync('nm', ['-D', '--undefined-only', SOURCE], { encoding: 'utf8' });
const unresolved = (nm.stdout ?? '').split('\n').filter((l) => /\b(_gfortran|quadmath|cblas_|LAPACKE_|openblas|[sdcz][a-z]{2,5}_$)/.test(l));
if (nm.status !== 0 || unresolved.length > 0)
  give(`${SOURCE} leaves linear-algebra symbols unresolved: ${unresolved.map((l) => l.trim()).join(', ') || nm.stderr}`);
rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
copyFileSync(SOURCE, TARGET);
console.log(`hessbound prebuild: ${TARGET} (needs only ${libraries.map((n) => n.replace(/^.*\//, '')).join(', ')})`);
