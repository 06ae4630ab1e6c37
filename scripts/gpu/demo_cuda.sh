#!/usr/bin/env bash
# The embedded demo pipeline on CUDA (GPU machine, repo root, after build_and_test.sh): a copy of
# the project in $1 with `devices: [0]`, built twice (the second must do nothing). Prints the
# results CSV and each step's device, wall time and peak memory. With $OUT set, the CSV, the HTML
# report (results/<dataset_name>.html: speed and memory measured on this GPU) and the model
# cards are copied there.
set -euo pipefail
root=$(pwd)
proj=${1:-/tmp/qbuild-demo-cuda}
qbuild=${QB_BUILD_DIR:-$root/build-gpu}/src/cli/qbuild
rm -rf "$proj"
mkdir -p "$proj/data/models/demo"
cp -r "$root/rules" "$root/pipline" "$proj/"
cp -r "$root/data/datasets" "$root/data/calibration" "$root/data/tokenizers" "$proj/data/"
printf 'resources: {devices: [0]}\n' > "$proj/pipline/project.yaml"
# The report's charting library: Debian's, else the .deb that fetch_debs.sh fetched.
if [ ! -f /usr/share/javascript/vega/vega-util.min.js ] && [ -f /tmp/qbdeps/usr/share/javascript/vega/vega-util.min.js ]; then
  export QBUILD_VEGA_DIR=/tmp/qbdeps/usr/share/javascript/vega
fi
cd "$proj"
"$qbuild" random-model --shape demo --seed 0 --tokenizer data/tokenizers/qwen3 --out data/models/demo/qwen3-demo
"$qbuild"
"$qbuild"
cat results/*.csv
python3 "$root/scripts/gpu/step_table.py" "$proj"
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT/demo-results"
  cp results/*.csv results/*.html "$OUT/demo-results/" 2>/dev/null || true
  for card in results/models/*/README.md; do
    [ -f "$card" ] && install -D -m 644 "$card" "$OUT/demo-results/$card"
  done
fi
