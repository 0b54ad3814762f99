// Builds the WebAssembly twin of the kernel with Emscripten (emcmake + cmake) into wasm/dist/.
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

run('emcmake', ['cmake', '-S', '.', '-B', 'build-wasm', '-DCMAKE_BUILD_TYPE=Release']);
run('cmake', ['--build', 'build-wasm', '--parallel', '2']);
