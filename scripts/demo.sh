#!/usr/bin/env bash
# The main job: set up, build, and run qbuild on the embedded default pipeline (pipline/) in this
# checkout. Arguments go to qbuild, e.g. `scripts/demo.sh --dry-run` or `scripts/demo.sh -j 2`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/build.sh" qbuild
cd "$root"
exec "${QB_BUILD_DIR:-$root/build}/src/cli/qbuild" "$@"
