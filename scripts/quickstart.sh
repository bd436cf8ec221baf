#!/usr/bin/env bash
# quickstart.sh — the README's main job: install what is missing, build, then train an MLP on
# Fashion-MNIST with the default recipe and print progress and the final accuracy.
# Extra arguments go to `rumor train` (e.g. --threads 0 --epochs 20).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${RUMOR_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
cd "$root"
exec "$build_dir/src/peer/rumor" train "$@"
