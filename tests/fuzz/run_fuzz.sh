#!/usr/bin/env bash
# run_fuzz.sh — builds tests/fuzz/fuzz_decode.cc with clang++ and libFuzzer (+ASan, UBSan) and
# runs it for a few seconds, starting from the checked-in corpus. New inputs go to the build
# folder, never into the source tree. Exit 77 (skipped) when clang++ or libFuzzer is missing.
#
# Usage: tests/fuzz/run_fuzz.sh SOURCE_ROOT BUILD_DIR [SECONDS=20]
set -euo pipefail

src=$(cd "$1" && pwd)
out=$2/fuzz
seconds=${3:-20}
clangxx=${CLANGXX:-clang++}

if ! command -v "$clangxx" > /dev/null; then
  echo "run_fuzz: $clangxx not found: skipping the fuzz run"
  exit 77
fi
mkdir -p "$out/new-inputs"

binary=$out/fuzz_decode
sources=("$src/tests/fuzz/fuzz_decode.cc" "$src/net/message.cc" "$src/net/dtype.cc" "$src/net/payload.cc" "$src/net/checksum.cc")
rebuild=0
[ -x "$binary" ] || rebuild=1
for f in "${sources[@]}" "$src"/net/*.h "$src/tests/fuzz/fuzz_input.h" "$0"; do
  [ "$f" -nt "$binary" ] && rebuild=1
done
if [ $rebuild -eq 1 ]; then
  echo "run_fuzz: building $binary"
  if ! "$clangxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=undefined -DMSGPACK_NO_BOOST -I"$src" -I"$src/src" \
      "${sources[@]}" -lxxhash -o "$binary" 2> "$out/build.log"; then
    if grep -q -e "libclang_rt.fuzzer" -e "cannot find -l" "$out/build.log"; then
      cat "$out/build.log"
      echo "run_fuzz: libFuzzer runtime missing (libclang-rt-dev): skipping"
      exit 77
    fi
    cat "$out/build.log"
    exit 1
  fi
fi

exec "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -dict="$src/tests/fuzz/header.dict" -artifact_prefix="$out/" \
  "$out/new-inputs" "$src/tests/fuzz/corpus"
