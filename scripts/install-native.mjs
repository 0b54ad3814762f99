// npm "install" hook: try to build the native addon. Never fails the install: without a compiler
// or OpenBLAS the library falls back to its WebAssembly build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (process.env.HESSBOUND_SKIP_NATIVE === '1') {
  console.log('hessbound: HESSBOUND_SKIP_NATIVE=1, not building the native addon (WebAssembly will be used)');
  process.exit(0);
}
const result = spawnSync('npx', ['--no-install', 'cmake-js', 'compile', '--out', 'build'], { stdio: 'inherit' });
if (result.status === 0 && existsSync('build/Release/hessbound.node')) {
  console.log('hessbound: native addon built');
} else {
  console.warn(
    'hessbound: the native addon could not be built (needs cmake, g++, libopenblas-dev, liblapacke-dev); ' +
      'the WebAssembly backend will be used instead.',
  );
}
