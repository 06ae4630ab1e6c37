#!/usr/bin/env bash
# The embedded demo pipeline on CUDA (GPU machine, repo root, after build_and_test.sh): a copy of
# the project in $1 with `devices: [0]`, built twice (the second must do nothing). Prints the
# results CSV and each step's device, wall time and peak memory.
set -euo pipefail
root=$(pwd)
proj=${1:-/tmp/qbuild-demo-cuda}
qbuild=${QB_BUILD_DIR:-$root/build-gpu}/src/cli/qbuild
rm -rf "$proj"
mkdir -p "$proj/data/models/demo"
cp -r "$root/rules" "$root/pipline" "$proj/"
cp -r "$root/data/datasets" "$root/data/calibration" "$root/data/tokenizers" "$proj/data/"
printf 'resources: {devices: [0]}\n' > "$proj/pipline/project.yaml"
cd "$proj"
"$qbuild" random-model --shape demo --seed 0 --tokenizer data/tokenizers/qwen3 --out data/models/demo/qwen3-demo
"$qbuild"
"$qbuild"
cat results/*.csv
python3 "$root/scripts/gpu/step_table.py" "$proj"
