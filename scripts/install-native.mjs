// npm "install" hook. Never fails the install, and says what will actually be used.
//  - A prebuilt addon that loads (the platform package @hessbound/<platform>-<arch>-gnu that npm installed
//    as an optional dependency, or prebuilds/<platform>-<arch>/ in a checkout): nothing to do.
//  - `npm install --build-from-source` or HESSBOUND_BUILD_FROM_SOURCE=1: build it with cmake-js.
//  - A development checkout (a .git here): build from source too, and make the prebuild from it.
//  - Otherwise: the WebAssembly backend will be used; the message says how to build natively.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const say = (text) => console.log(`hessbound: ${text}`);
const truthy = (v) => v !== undefined && v !== '' && v !== '0' && v !== 'false';
const fromSource =
  truthy(process.env.HESSBOUND_BUILD_FROM_SOURCE) ||
  truthy(process.env.npm_config_build_from_source) ||
  process.argv.includes('--build-from-source');
const devCheckout = existsSync('.git');
const NEEDS =
  'cmake >= 3.18, a C++17 compiler (g++), OpenBLAS and LAPACKE headers and libraries ' +
  '(Debian/Ubuntu: apt-get install cmake g++ libopenblas-dev liblapacke-dev), and the dev packages ' +
  'cmake-js, node-addon-api and node-api-headers (npm install --no-save cmake-js node-addon-api node-api-headers)';

/** The addon the library would load (src/backend/native.ts addonPath, same order). */
function addonPath() {
  if (process.env.HESSBOUND_ADDON) return process.env.HESSBOUND_ADDON;
  const local = join(process.cwd(), 'build', 'Release', 'hessbound.node');
  if (existsSync(local)) return local;
  if (process.platform === 'linux' && process.report?.getReport().header.glibcVersionRuntime) {
    try {
      return require.resolve(`@hessbound/linux-${process.arch}-gnu`);
    } catch {
      // not installed (or no package for this CPU): fall through to a local prebuild
    }
  }
  return require('node-gyp-build').path(process.cwd());
}

/** Tries to load the addon the library would load; returns the path or the reason it failed. */
function probe() {
  try {
    const path = addonPath();
    const addon = require(path);
    return { ok: true, path, linalg: addon.info().linalg };
  } catch (e) {
    return { ok: false, reason: String(e?.message ?? e).split('\n')[0] };
  }
}

function wasmAvailable() {
  return existsSync('wasm/dist/hessbound-wasm.wasm');
}

function fallbackMessage(reason) {
  const wasm = wasmAvailable()
    ? 'the WebAssembly backend will be used (same results, slower on large problems)'
    : 'the WebAssembly module is not built either (npm run build:wasm), so no backend is ready';
  say(`native addon not available (${reason}); ${wasm}.`);
  say(`to build the native addon: npm install --build-from-source (or HESSBOUND_BUILD_FROM_SOURCE=1); it needs ${NEEDS}.`);
}

function buildFromSource() {
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    return { ok: false, reason: 'cmake-js is not installed' };
  }
  say('building the native addon from source (cmake-js) ...');
  const result = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build'], { stdio: 'inherit' });
  if (result.status !== 0) return { ok: false, reason: `cmake-js exited with ${result.status ?? result.signal}` };
  if (devCheckout) spawnSync(process.execPath, ['scripts/prebuild.mjs'], { stdio: 'inherit' });
  const loaded = probe();
  return loaded.ok ? loaded : { ok: false, reason: `built, but it does not load: ${loaded.reason}` };
}

try {
  if (fromSource || devCheckout) {
    const built = buildFromSource();
    if (built.ok) say(`native addon built from source (${built.path}, ${built.linalg})`);
    else fallbackMessage(`the build from source failed: ${built.reason}`);
  } else {
    const found = probe();
    if (found.ok) say(`using the native addon ${found.path} (${found.linalg})`);
    else fallbackMessage(found.reason);
  }
} catch (e) {
  // Never fail the install.
  say(`install check failed unexpectedly (${e?.message ?? e}); run \`npx hessbound info\` to see which backend loads.`);
}
