#!/usr/bin/env bash
# setup.sh — install what rumor needs (Debian 12 packages, only those missing), configure a
# release-with-debug-info build in build/ and compile it. Idempotent: a second run on a ready
# machine installs nothing and only rebuilds what changed.
#
# Usage: scripts/setup.sh [--no-build]
#   RUMOR_BUILD_DIR   build folder (default: build)
#   RUMOR_MESON_ARGS  extra arguments for the first `meson setup` (e.g. -Dcuda=disabled)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${RUMOR_BUILD_DIR:-$root/build}
do_build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) do_build=0 ;;
    -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown argument '$arg' (valid: --no-build, --help)" >&2; exit 2 ;;
  esac
done

packages=(
  g++ pkg-config meson ninja-build
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev
  libopenblas-dev zlib1g-dev libxxhash-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  libcli11-dev libtomlplusplus-dev libcpp-httplib-dev nlohmann-json3-dev
  dataset-fashion-mnist
  iproute2 iptables python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: installing packages needs root (run as root, or install: ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

((do_build)) || exit 0

if [ ! -f "$build_dir/build.ninja" ]; then
  echo "setup: configuring $build_dir"
  # CI builds with warnings as errors (STYLE.md); CUDA is built whenever nvcc is found.
  werror=false
  [ "${CI:-}" = "true" ] && werror=true
  meson setup "$build_dir" "$root" --buildtype=debugoptimized -Dwerror=$werror ${RUMOR_MESON_ARGS:-}
fi
echo "setup: compiling"
ninja -C "$build_dir"
