#!/usr/bin/env bash
# The Qwen3-8B-shaped pipeline through qbuild itself on a GPU machine (issue "Core 6/6"):
# original + spinquant-r1r2 × rtn-w8a8-dynamic + gptq-w8a8-static × a 64-item eval, then a
# second invocation that must do nothing. Every step's wall time and peak memory come from the
# index (`qbuild runs --json`) and the step logs.
#   usage (GPU machine, repo root, after scripts/gpu/build_and_test.sh):
#     [DEVICES=0,1] bench/pipeline8b/run.sh PROJECT_DIR [LAYERS]
# LAYERS (default 36) sets the model's depth: a 36-layer run keeps ~92 GB of artifacts (bf16
# source, fp32 rotated model, four int8 models), more than a 64 GiB disk holds.
set -euo pipefail
root=$(pwd)
proj=$1
layers=${2:-36}
qbuild=${QB_BUILD_DIR:-$root/build-gpu}/src/cli/qbuild
mkdir -p "$proj/data/models" "$proj/data/calibration" "$proj/data/datasets"
cp -r "$root/rules" "$root/bench/pipeline8b/pipline" "$proj/"
# DEVICES="0,1" lists several GPUs (the multi-GPU run); default: one GPU, device 0.
[ -n "${DEVICES:-}" ] && printf 'resources: {devices: [%s]}\n' "$DEVICES" > "$proj/pipline/project.yaml"
cp -r "$root/data/datasets/demo_mmlu" "$root/data/datasets/demo_gsm8k" "$proj/data/datasets/"
# Calibration text: this repository's prose and code (~1M tokens), cut into 512 windows of 2048.
git -C "$root" ls-files '*.md' '*.cc' '*.h' '*.yaml' '*.py' 2>/dev/null | (cd "$root" && xargs cat) > "$proj/data/calibration/calib.txt" \
  || find "$root/src" "$root/tests" "$root/bench" -name '*.cc' -o -name '*.h' -o -name '*.md' | xargs cat > "$proj/data/calibration/calib.txt"
wc -c "$proj/data/calibration/calib.txt"
cd "$proj"
t0=$SECONDS
"$qbuild" random-model --shape qwen3-8b --layers "$layers" --device cuda --seed 0 \
  --tokenizer "$root/data/tokenizers/qwen3" --out data/models/q8b
echo "random model: $((SECONDS - t0)) s"
/usr/bin/time -v "$qbuild" -j 4 2> build1.time
tail -n 20 build1.time | grep -E "Elapsed|Maximum resident"
/usr/bin/time -v "$qbuild" 2> build2.time | tail -3
echo "second invocation:"; tail -1 build2.time >/dev/null
grep -E "Elapsed" build2.time
"$qbuild" runs --all --json > runs.json
df -h . | tail -1
python3 "$root/scripts/gpu/step_table.py" "$proj"
cat results/*.csv
