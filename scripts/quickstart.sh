#!/usr/bin/env bash
# quickstart.sh — the README's main job: install what is missing, build, then play the
# `quickstart` scenario (scenarios/quickstart.toml): 4 gossiping `rumor peer` processes on this
# machine train an MLP on Fashion-MNIST, each on its quarter of the data, averaging parameters
# with their neighbours. The runner prints progress every 2 s, then each replica's accuracy,
# the accuracy of their average and the expectations it checked; output in
# runs/scenarios/quickstart/ (logs, metrics CSV, plots).
# Extra arguments go to scripts/rumor-scenario (e.g. --out DIR, --quick).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${RUMOR_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
cd "$root"
exec python3 "$root/scripts/rumor-scenario" "$root/scenarios/quickstart.toml" \
  --rumor "$build_dir/src/peer/rumor" "$@"
