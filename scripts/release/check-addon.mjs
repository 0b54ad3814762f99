// Checks a prebuilt addon before it is packed, and fails (exit 1) otherwise:
//  - an ELF shared object for the expected machine, stripped;
//  - self-contained: its dynamic dependencies are glibc's own libraries alone (no libstdc++,
//    OpenBLAS, LAPACK or gfortran) and no linear-algebra or Fortran symbol is left undefined;
//  - no versioned glibc symbol newer than GLIBC_2.31 (Ubuntu 20.04, Debian 11, RHEL 9 / glibc 2.34).
// readelf reads any architecture's ELF, so the same check covers the cross-compiled arm64 addon.
// --no-glibc-floor skips the last check (a local build's addon, packed only to test the layout).
//   node check-addon.mjs FILE x86_64-linux-gnu|aarch64-linux-gnu [--no-glibc-floor]
import { spawnSync } from 'node:child_process';

const [file, triple, flag] = process.argv.slice(2);
const GLIBC_FLOOR = [2, 31];
const MACHINE = { 'x86_64-linux-gnu': /X86-64/, 'aarch64-linux-gnu': /AArch64/ };
const GLIBC_LIBS = /^(libc|libm|libpthread|libdl|librt|ld-linux-x86-64|ld-linux-aarch64)\.so/;

function readelf(...args) {
  const r = spawnSync('readelf', ['-W', ...args, file], { encoding: 'utf8' });
  if (r.status !== 0) fail(`readelf ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}
function fail(message) {
  console.error(`hessbound check-addon: ${file}: ${message}`);
  process.exit(1);
}

if (!file || !MACHINE[triple]) fail('usage: check-addon.mjs FILE x86_64-linux-gnu|aarch64-linux-gnu');
const header = readelf('-h');
if (!/Type:\s+DYN/.test(header)) fail('not a shared object');
if (!MACHINE[triple].test(header.match(/Machine:.*$/m)?.[0] ?? '')) fail(`not built for ${triple}`);
if (/\.symtab\b/.test(readelf('-S'))) fail('not stripped (.symtab present)');

const needed = [...readelf('-d').matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
const foreign = needed.filter((lib) => !GLIBC_LIBS.test(lib));
if (foreign.length > 0) fail(`needs ${foreign.join(', ')} at run time (only glibc's libraries may stay dynamic)`);

const symbols = readelf('--dyn-syms');
const undefinedLinalg = symbols
  .split('\n')
  .filter((l) => /\bUND\b/.test(l) && /(_gfortran|quadmath|cblas_|LAPACKE_|openblas|\b[sdcz][a-z]{2,5}_\b)/.test(l));
if (undefinedLinalg.length > 0) fail(`leaves linear-algebra symbols undefined: ${undefinedLinalg.map((l) => l.trim()).join('; ')}`);

const versions = [...new Set([...symbols.matchAll(/@GLIBC_(\d+)\.(\d+)(?:\.(\d+))?/g)].map((m) => `${m[1]}.${m[2]}${m[3] ? `.${m[3]}` : ''}`))];
const newer = versions.filter((v) => {
  const [major, minor] = v.split('.').map(Number);
  return major > GLIBC_FLOOR[0] || (major === GLIBC_FLOOR[0] && minor > GLIBC_FLOOR[1]);
});
if (newer.length > 0 && flag !== '--no-glibc-floor') fail(`needs GLIBC_${newer.join(', GLIBC_')} (newer than the GLIBC_${GLIBC_FLOOR.join('.')} floor)`);
const newest = versions.sort((a, b) => {
  const [am, an] = a.split('.').map(Number), [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}).at(-1);
console.log(`hessbound check-addon: ${file}: ${triple}, stripped, needs only ${needed.join(', ')}, newest glibc symbol GLIBC_${newest}`);
