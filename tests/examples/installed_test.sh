#!/usr/bin/env bash
# installed_test.sh — the installed artefacts work for a user. Installs the build into a
# temporary DESTDIR, points pkg-config at the rumor.pc found there, then with only the
# installed headers and libraries:
#   1. builds the C example (C99) against librumor.so, runs it as two processes over ipc://,
#      and checks it loaded the installed library;
#   2. builds installed_api.cc (every public header, C++17) and runs it;
#   3. builds the C++ example;
#   4. links the C example against librumor.a and runs it as one process.
# Exit status 0 on success, 1 on a failure, 77 (skipped) when a needed tool is missing.
# Usage: installed_test.sh BUILD_DIR SOURCE_DIR [MESON]
set -euo pipefail
build=$1
source=$2
meson=${3:-meson}

for tool in pkg-config cc c++ "$meson"; do
  if ! command -v "$tool" > /dev/null; then
    echo "SKIP: $tool is not installed"
    exit 77
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rumor-installed-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

step() { echo "--- $*"; }
die() { echo "FAILED: $*"; exit 1; }

step "meson install --destdir $root"
"$meson" install -C "$build" --destdir "$root" --no-rebuild --quiet

pc=$(find "$root" -name rumor.pc -print -quit)
[ -n "$pc" ] || die "no rumor.pc under $root"
export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$root
cflags=$(pkg-config --cflags rumor)
libs=$(pkg-config --libs rumor)
# pkgconf prefixes variables with the sysroot, pkg-config does not.
in_root() { case $1 in "$root"*) echo "$1" ;; *) echo "$root$1" ;; esac; }
libdir=$(in_root "$(pkg-config --variable=libdir rumor)")
includedir=$(in_root "$(pkg-config --variable=includedir rumor)")
echo "pkg-config: $cflags $libs"
for header in config.h device.h engine.h error.h rumor.h; do
  [ -f "$includedir/rumor/$header" ] || die "rumor/$header is not installed in $includedir"
done
[ -f "$libdir/librumor.a" ] || die "librumor.a is not installed in $libdir"

step "C example against librumor.so"
cc -std=c99 -Wall -Wextra -Werror -o "$tmp/linear_regression" \
  "$source/examples/c/linear_regression.c" $cflags $libs -lm
export LD_LIBRARY_PATH=$libdir
# (ldd's output is kept: `ldd | grep -q` fails under pipefail when grep stops reading early.)
loaded=$(ldd "$tmp/linear_regression")
[[ $loaded == *"$libdir/librumor.so"* ]] ||
  die "the program does not load the installed librumor.so: $loaded"
peers="ipc://$tmp/peer0,ipc://$tmp/peer1"
"$tmp/linear_regression" --rank 1 --peers "$peers" --steps 500 > "$tmp/rank1.out" &
rank1=$!
"$tmp/linear_regression" --rank 0 --peers "$peers" --steps 500 > "$tmp/rank0.out" ||
  die "rank 0 exited with status $?"
wait "$rank1" || die "rank 1 exited with status $?"
cat "$tmp/rank0.out" "$tmp/rank1.out"
grep -q "weight error" "$tmp/rank0.out" || die "rank 0 printed no weight error"

step "installed_api.cc (C++17) against librumor.so"
c++ -std=c++17 -Wall -Wextra -Werror -o "$tmp/installed_api" \
  "$source/tests/examples/installed_api.cc" $cflags $libs
[ "$("$tmp/installed_api" "ipc://$tmp/api")" = ok ] || die "installed_api did not print ok"

step "C++ example against librumor.so"
c++ -std=c++20 -Wall -Wextra -Werror -o "$tmp/softmax_regression" \
  "$source/examples/cpp/softmax_regression.cc" $cflags $libs -lz

step "C example against librumor.a"
# librumor.a plus what it needs, linked dynamically: the C++ runtime and the libraries of
# Requires.private. (`pkg-config --static` would also expand libzmq's own private
# dependencies, whose Debian .pc names a file that is not there.)
private=$(sed -n 's/^Libs.private: //p' "$pc")
cc -std=c99 -o "$tmp/linear_regression_static" "$source/examples/c/linear_regression.c" \
  $cflags "$libdir/librumor.a" $private $(pkg-config --libs libzmq libxxhash openblas) -lm
loaded=$(ldd "$tmp/linear_regression_static")
[[ $loaded != *librumor* ]] || die "the static build still loads librumor.so: $loaded"
out=$("$tmp/linear_regression_static" --rank 0 --peers "ipc://$tmp/static0" --steps 200)
echo "$out"
[[ $out == *"weight error"* ]] || die "the static build printed no weight error"
echo "installed library: all checks passed"
