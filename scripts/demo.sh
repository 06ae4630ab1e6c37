#!/usr/bin/env bash
# The main job: set up, build, and run qbuild on the embedded default pipeline (pipline/) in this
# checkout. The demo's source model is generated once, deterministically (`qbuild random-model`:
# a 2-layer Qwen3 with the real Qwen3 tokenizer, ~40 MB, not in git). Arguments go to qbuild,
# e.g. `scripts/demo.sh --dry-run` or `scripts/demo.sh -j 2`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/build.sh" qbuild
cd "$root"
qbuild="${QB_BUILD_DIR:-$root/build}/src/cli/qbuild"
if [ ! -f data/models/demo/qwen3-demo/config.json ]; then
  "$qbuild" random-model --shape demo --seed 0 --tokenizer data/tokenizers/qwen3 --out data/models/demo/qwen3-demo
fi
exec "$qbuild" "$@"
