#!/usr/bin/env bash
# bench.sh — build rumor and run its benchmark programs; each prints a table whose figures are
# ratios against a reference measured in the same run (memcpy, OpenBLAS, raw ZeroMQ, PyTorch).
# Installs Debian's python3-torch (for the PyTorch reference rows) when it is missing.
#
# Usage: scripts/bench.sh [--quick]     --quick: one repetition (seed) each, shorter training runs
# Record results and the command in docs/PERFORMANCE.md. Run on a quiet machine.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${RUMOR_BUILD_DIR:-$root/build}
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument '$arg' (valid: --quick, --help)" >&2; exit 2 ;;
  esac
done

"$root/scripts/setup.sh"

if ! dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q 'install ok installed'; then
  echo "bench: installing python3-torch for the PyTorch reference rows"
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
             --no-install-recommends python3-torch; } \
      || echo "bench: python3-torch could not be installed; PyTorch rows will be skipped"
  else
    echo "bench: not root; PyTorch rows will be skipped unless python3-torch is installed"
  fi
fi

cores=$(nproc)
bench_args=()
((quick)) && bench_args=(--quick)

for program in bench_kernels bench_transport bench_gossip bench_failure_detector bench_local_group \
    bench_cuda; do
  exe="$build_dir/tests/bench/$program"
  [ -x "$exe" ] || continue
  echo
  echo "== $program"
  if [ "$program" = bench_kernels ]; then
    "$exe" --threads 1 "${bench_args[@]}"
    [ "$cores" -gt 1 ] && "$exe" --threads "$cores" "${bench_args[@]}"
  else
    "$exe" "${bench_args[@]}"
  fi
done

echo
echo "== training: rumor vs PyTorch"
if ((quick)); then
  python3 "$root/scripts/bench_train.py" --rumor "$build_dir/src/peer/rumor" --epochs 1 --repeats 1
else
  python3 "$root/scripts/bench_train.py" --rumor "$build_dir/src/peer/rumor" --epochs 5 \
    --threads 1 "$cores" --repeats 3
fi

echo
echo "== 4 rumor peers vs 4-rank PyTorch DDP: seconds to 0.87 test accuracy"
peer_configs=(--config "defaults=" --config "push-sum=--rule push-sum --topology exponential --catch-up-lag 0 --publish-every 1")
if ((quick)); then
  python3 "$root/scripts/bench_peers.py" --rumor "$build_dir/src/peer/rumor" --seeds 1 \
    --max-wait 10 "${peer_configs[@]}"
else
  python3 "$root/scripts/bench_peers.py" --rumor "$build_dir/src/peer/rumor" --seeds 1 2 3 \
    "${peer_configs[@]}"
fi

echo
echo "== rumor peer processes: training samples/s with gossip against without"
if ((quick)); then
  python3 "$root/scripts/bench_overlap.py" --rumor "$build_dir/src/peer/rumor" --epochs 1 \
    --repeats 1
else
  python3 "$root/scripts/bench_overlap.py" --rumor "$build_dir/src/peer/rumor" --repeats 5
  python3 "$root/scripts/bench_overlap.py" --rumor "$build_dir/src/peer/rumor" --repeats 5 \
    --slowdown 2
fi
