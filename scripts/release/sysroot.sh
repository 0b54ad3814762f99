#!/usr/bin/env bash
# Makes (once) and caches a Debian root under ~/.cache/hessbound/: the old-glibc build root for the
# prebuilt addons, or an arm64 root to run them in under qemu-user-static. Needs root and debootstrap.
# The arm64 root is only unpacked (debootstrap --foreign, then every downloaded .deb extracted), never
# configured: nothing in it runs except through `qemu-aarch64-static -L <root>`, so the host needs no
# binfmt_misc registration.
#   sysroot.sh build   -> bullseye amd64 (glibc 2.31) with g++, cmake, static OpenBLAS/LAPACKE for amd64
#                         and, through multiarch, the aarch64 cross compiler and arm64 OpenBLAS/LAPACKE
#   sysroot.sh run-arm64 -> bookworm arm64 with Debian's nodejs, to load the arm64 addon under qemu
set -euo pipefail
kind=${1:?usage: sysroot.sh build|run-arm64}
CACHE=${HESSBOUND_CACHE:-$HOME/.cache/hessbound}
MIRROR=${HESSBOUND_DEBIAN_MIRROR:-http://deb.debian.org/debian}
case "$kind" in
  build) root=$CACHE/bullseye-amd64; suite=bullseye; arch=amd64
         include=g++,make,cmake,libopenblas-dev,liblapacke-dev,libgfortran-10-dev,binutils,ca-certificates ;;
  run-arm64) root=$CACHE/bookworm-arm64; suite=bookworm; arch=arm64; include=nodejs,libstdc++6 ;;
  *) echo "unknown root: $kind" >&2; exit 2 ;;
esac
if [ -f "$root/.hessbound-ready" ]; then echo "$root"; exit 0; fi
command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
mkdir -p "$CACHE"
rm -rf "$root"
if [ "$arch" = amd64 ]; then
  debootstrap --variant=minbase --arch="$arch" --include="$include" "$suite" "$root" "$MIRROR" >&2
else
  debootstrap --foreign --variant=minbase --arch="$arch" --include="$include" "$suite" "$root" "$MIRROR" >&2
  for deb in "$root"/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$root"; done
fi
if [ "$kind" = build ]; then
  # arm64 cross toolchain and arm64 libraries side by side (multiarch).
  chroot "$root" dpkg --add-architecture arm64
  chroot "$root" apt-get update -qq >&2
  chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    g++-aarch64-linux-gnu libopenblas-dev:arm64 liblapacke-dev:arm64 libgfortran-10-dev:arm64 libeigen3-dev >&2
fi
touch "$root/.hessbound-ready"
echo "$root"
