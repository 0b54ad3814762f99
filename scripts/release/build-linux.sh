#!/usr/bin/env bash
# Builds the prebuilt addon for linux-x64 or linux-arm64 (glibc) inside the Debian bullseye root that
# sysroot.sh makes (glibc 2.31, gcc 10, static OpenBLAS with DYNAMIC_ARCH), strips it and checks
# that it is self-contained and needs no glibc newer than 2.31. arm64 is cross-compiled there with
# Debian's aarch64 toolchain against arm64 OpenBLAS/LAPACKE (multiarch). Needs root (chroot).
#   build-linux.sh x64|arm64 OUT_FILE
set -euo pipefail
arch=${1:?usage: build-linux.sh x64|arm64 OUT_FILE}
out=${2:?usage: build-linux.sh x64|arm64 OUT_FILE}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
root=$(bash "$here/sysroot.sh" build)
work=/hessbound-build/$arch
rm -rf "$root$work"
mkdir -p "$root$work/src/node-api" "$root$work/src/node-addon-api"
# The sources the addon needs, and Node's headers from our node_modules (the root has no Node).
cp -r "$repo/CMakeLists.txt" "$repo/native" "$root$work/src/"
cp -r "$repo/node_modules/node-api-headers/include" "$root$work/src/node-api/"
cp "$repo"/node_modules/node-addon-api/*.h "$root$work/src/node-addon-api/"
toolchain=()
case "$arch" in
  x64) triple=x86_64-linux-gnu; strip=strip ;;
  arm64) triple=aarch64-linux-gnu; strip=aarch64-linux-gnu-strip
    cat > "$root$work/aarch64.cmake" <<'CMAKE'
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Multiarch: arm64 libraries live in /usr/lib/aarch64-linux-gnu of the same root; never take amd64 ones.
set(CMAKE_FIND_ROOT_PATH /)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /usr/include/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
CMAKE
    toolchain=(-DCMAKE_TOOLCHAIN_FILE="$work/aarch64.cmake") ;;
  *) echo "unknown arch: $arch" >&2; exit 2 ;;
esac
jobs=${HESSBOUND_BUILD_JOBS:-2}
chroot "$root" /bin/sh -c "cd $work && cmake -S src -B build -DCMAKE_BUILD_TYPE=Release ${toolchain[*]} \
  -DCMAKE_JS_VERSION=prebuild -DCMAKE_JS_INC=$work/src/node-api/include -DNODE_ADDON_API_DIR=$work/src/node-addon-api \
  -DCMAKE_CXX_FLAGS=-DBUILDING_NODE_EXTENSION -DCMAKE_LIBRARY_OUTPUT_DIRECTORY=$work/out >&2 \
  && cmake --build build --target hessbound_addon -j $jobs >&2 \
  && $strip --strip-unneeded out/hessbound.node"
mkdir -p "$(dirname "$out")"
cp "$root$work/out/hessbound.node" "$out"
node "$here/check-addon.mjs" "$out" "$triple"
