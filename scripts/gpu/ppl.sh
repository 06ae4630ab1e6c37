#!/usr/bin/env bash
# Issue 21 on the GPU machine in one call (repo root, .deps carried; outputs under $OUT):
#   1. builds qbuild, test_model, test_kinds, bench_model and bench_eval (build_and_test.sh);
#   2. the CUDA tests of the perplexity / multiple-choice paths: ChoiceGroups.OnCudaEqualsTheCpu
#      (the shared-context prefill on CUDA = the CPU = one forward per choice) and
#      LmEvalNumbers.OnCudaMatchesTheHarness (lm-eval 0.4.13's log-likelihoods and WikiText
#      perplexities of the golden fixture, fp32 on CUDA), plus the rest of those suites;
#   3. the demo pipeline on CUDA (demo_cuda.sh): its eval now has a WikiText perplexity column;
#      then scripts/gpu/recovery_suite.yaml added to it: the generative recovery tasks and two
#      log-likelihood tasks on the authored samples, for every variant, on CUDA;
#   4. the benchmarks, every ratio from the same call:
#      a. bench_model's prefill ceiling on the Qwen3-8B shape at the window length (BATCH × CTX);
#      b. bench_eval --mode perplexity: lm-eval's rolling windows over ~300k tokens (WikiText-2's
#         test split in Qwen3 tokens), CTX-token windows, BATCH windows per forward;
#      c. bench_eval --mode choices: 1,000 HellaSwag-like items (4 endings), the shared-context
#         prefill and one forward per choice in the same call (items/s of each).
# CTX (default 2048) is lm-eval's max_length (2048: the usual WikiText-2 setting; 0 would be the
# model's 40,960). The 8B model is written once to $MODEL by `qbuild random-model`.
#   usage: scripts/gpu/ppl.sh [OUTDIR]
set -uo pipefail
root=$(pwd)
out=${1:-${OUT:-/tmp}}
QB_BUILD_ONLY="qbuild test_model test_kinds bench_model bench_eval" scripts/gpu/build_and_test.sh || exit 1
b=${QB_BUILD_DIR:-$root/build-gpu}
export LD_PRELOAD="$(g++ -print-file-name=libstdc++.so.6)"
export LD_LIBRARY_PATH="/tmp/qbdeps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"

echo "== CUDA tests" | tee "$out/ppl_tests.log"
(cd "$b" &&
  ./tests/model/test_model --gtest_filter='ChoiceGroups.*:ScoreOptions.*' --gtest_brief=1 2>&1 | tail -15 &&
  ./tests/kinds/test_kinds --gtest_filter='LmEvalNumbers.*' --gtest_brief=1 2>&1 | tail -15) | tee -a "$out/ppl_tests.log"

echo "== demo on CUDA"
QB_BUILD_DIR="$b" bash scripts/gpu/demo_cuda.sh /tmp/demo-cuda 2>&1 | tee "$out/demo_cuda.log" | tail -40
echo "== the recovery suite on CUDA (MMLU-Pro, MATH-500, GPQA-Diamond, HellaSwag, ARC on the authored samples)"
cp scripts/gpu/recovery_suite.yaml /tmp/demo-cuda/pipline/3-eval/
(cd /tmp/demo-cuda && "$b/src/cli/qbuild" && cat results/recovery_suite.csv &&
  python3 "$root/scripts/gpu/step_table.py" /tmp/demo-cuda) 2>&1 | tee "$out/recovery_cuda.log" | tail -30

model=${MODEL:-/tmp/q8b}
ctx=${CTX:-2048}
batch=${BATCH:-8}
[ -f "$model/config.json" ] || "$b/src/cli/qbuild" random-model --shape qwen3-8b --device cuda --seed 0 \
  --tokenizer "$root/data/tokenizers/qwen3" --out "$model"
{
  echo "== bench_model prefill ceiling ($batch x $ctx)"
  "$b/bench/model/bench_model" --shape qwen3-8b --device cuda --batch "$batch" --ctx "$ctx" --new 2 2>&1 | tail -1
  echo "== bench_eval perplexity (~${TOKENS:-300000} tokens, max_length $ctx, $batch windows per forward)"
  "$b/bench/eval/bench_eval" --mode perplexity --model "$model" --device cuda --tokens "${TOKENS:-300000}" \
    --max-length "$ctx" --batch "$batch" 2>&1 | tail -1
  echo "== bench_eval choices (${ITEMS:-1000} items x 4 endings)"
  "$b/bench/eval/bench_eval" --mode choices --model "$model" --device cuda --items "${ITEMS:-1000}" \
    --batch "${CHOICE_BATCH:-64}" 2>&1 | tail -1
} | tee "$out/ppl_bench.log"
