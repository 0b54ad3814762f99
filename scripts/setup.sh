#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for hessbound development: system packages, npm dependencies,
# the native addon, the WebAssembly module and the TypeScript build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ libopenblas-dev liblapacke-dev libeigen3-dev emscripten chromium)
packages+=(redis-server) # distributed sweeps: test/queue*.test.ts start their own server (docs/distributed.md)
packages+=(clang-16) # the relaxed-SIMD WebAssembly modules: emcc 3.1.6's clang-14 lacks the final relaxed opcodes (docs/wasm.md)
packages+=(python3-torch) # interop: test/io-roundtrip.test.ts loads our safetensors into nn.Sequential strictly
packages+=(python3-scipy) # the study: test/cli-study-gap.test.ts recomputes tau and granulated tau with scipy (bench/peers/study_tau.py)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "hessbound setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci runs our install script (native addon) and prepare (WebAssembly + TypeScript).
npm ci --no-audit --no-fund
test -f prebuilds/linux-x64/hessbound.napi.glibc.node || { echo "hessbound setup: the self-contained prebuilt addon was not made" >&2; exit 1; }
test -f build/Release/hessbound.node || { echo "hessbound setup: the native addon did not build" >&2; exit 1; }
test -f wasm/dist/hessbound-wasm-mt.worker.js || { echo "hessbound setup: the threaded WebAssembly module did not build" >&2; exit 1; }
test -f wasm/dist/hessbound-wasm-mt-relaxed.worker.js || { echo "hessbound setup: the relaxed-SIMD WebAssembly modules did not build" >&2; exit 1; }
test -f dist/src/cli/main.js || { echo "hessbound setup: the TypeScript build is missing" >&2; exit 1; }
echo "hessbound setup: done (native addon, WebAssembly module and TypeScript build are ready)"
