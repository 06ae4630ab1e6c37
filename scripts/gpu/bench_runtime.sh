#!/usr/bin/env bash
# Runtime + evaluate-stage benchmarks on the GPU machine, in one call so that every ratio compares
# like with like (repo root, after build_and_test.sh):
#   1. bench_eval on a full Qwen3-8B-shaped random model: 512 MMLU-like + 512 GSM8K-like items,
#      256 new tokens each, batch 128 (the model is written once to $MODEL by `qbuild random-model`);
#   2. bench_model's ceilings on the same shape: prefill 32 × 512, decode at batch 1/32/128
#      (512-token prompts, 256 new tokens, CUDA graphs);
#   (SKIP_EVAL=1 skips step 1)
#   3. transformers' generate on the same shape (bench/model/hf_generate_bench.py), when installed.
set -uo pipefail
root=$(pwd)
b=${QB_BUILD_DIR:-$root/build-gpu}
model=${MODEL:-/tmp/q8b}
new=${NEW:-256}
if [ -z "${SKIP_EVAL:-}" ]; then
[ -f "$model/config.json" ] || "$b/src/cli/qbuild" random-model --shape qwen3-8b --device cuda --seed 0 \
  --tokenizer "$root/data/tokenizers/qwen3" --out "$model"
echo "== bench_eval"
"$b/bench/eval/bench_eval" --model "$model" --device cuda --items "${ITEMS:-512}" --max-new "$new" --batch 128 2>&1 | tail -1
fi
echo "== bench_model"
"$b/bench/model/bench_model" --shape qwen3-8b --device cuda --batch 32 --ctx 512 --new 2 2>&1 | tail -1
for bs in 1 32 128; do
  "$b/bench/model/bench_model" --shape qwen3-8b --device cuda --batch $bs --ctx 512 --new "$new" --cuda-graph 2>&1 | tail -1
done
echo "== transformers"
if python3 -c 'import transformers' 2>/dev/null; then
  python3 "$root/bench/model/hf_generate_bench.py" --new "${HF_NEW:-64}" 2>&1 | tail -1
else
  echo "transformers is not installed on this machine: no reference run"
fi
