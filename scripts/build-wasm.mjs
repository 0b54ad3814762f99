// Builds the WebAssembly twins of the kernel with Emscripten (emcmake + cmake) into wasm/dist/:
// the SIMD128 modules (build-wasm/) and, when Debian's clang-16 is installed, the relaxed-SIMD ones
// (build-wasm-relaxed/, HESSBOUND_WASM_VARIANT=relaxed; see wasm/wasm.cmake and docs/wasm.md).
// HESSBOUND_WASM_VARIANTS=simd128 builds only the first; =relaxed only the second.
import { spawnSync } from 'node:child_process';

// Debian's emscripten finds its JS dependencies (acorn) only through NODE_PATH.
const env = { ...process.env, NODE_PATH: [process.env.NODE_PATH, '/usr/share/nodejs'].filter(Boolean).join(':') };

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.error?.code === 'ENOENT') {
    console.error(`hessbound: '${cmd}' not found; install Debian's emscripten package to build the WebAssembly backend`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function found(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

const variants = (process.env.HESSBOUND_WASM_VARIANTS ?? 'simd128,relaxed').split(',').map((v) => v.trim());
if (variants.includes('simd128')) {
  run('emcmake', ['cmake', '-S', '.', '-B', 'build-wasm', '-DCMAKE_BUILD_TYPE=Release']);
  run('cmake', ['--build', 'build-wasm', '--parallel', '2']);
}
if (variants.includes('relaxed')) {
  if (!found('clang-16')) {
    console.warn('hessbound: clang-16 not found, so the relaxed-SIMD WebAssembly modules are not built (apt-get install clang-16 lld-16); the SIMD128 modules serve every engine');
  } else {
    run('emcmake', ['cmake', '-S', '.', '-B', 'build-wasm-relaxed', '-DCMAKE_BUILD_TYPE=Release', '-DHESSBOUND_WASM_VARIANT=relaxed']);
    run('cmake', ['--build', 'build-wasm-relaxed', '--parallel', '2']);
  }
}
