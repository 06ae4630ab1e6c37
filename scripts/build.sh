#!/usr/bin/env bash
# Set up (scripts/setup.sh), configure and build qbuild into build/. Extra arguments go to ninja.
#   QB_BUILD_DIR   build folder (default: build)
#   QB_SETUP_DONE  set to 1 when the caller has just run scripts/setup.sh (test.sh does)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "${QB_SETUP_DONE:-}" = 1 ] || "$root/scripts/setup.sh"
bdir="${QB_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$bdir" -G Ninja -DQBUILD_PYTHON="$(cat "$root/.venv-python")" >/dev/null
ninja -C "$bdir" "$@"
