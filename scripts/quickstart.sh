#!/usr/bin/env bash
# quickstart.sh — the README's main job: install what is missing, build, then train an MLP on
# Fashion-MNIST with 4 gossiping peers on this machine (scripts/local_cluster.py): each peer
# trains on its quarter of the data and averages parameters with its neighbours; the script
# prints the cluster's progress, each replica's accuracy and the accuracy of their average.
# Extra arguments go to every `rumor peer` (e.g. --epochs 20 --rule robust-push-sum).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${RUMOR_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
cd "$root"
exec python3 "$root/scripts/local_cluster.py" --peers "${RUMOR_PEERS:-4}" \
  --rumor "$build_dir/src/peer/rumor" -- "$@"
