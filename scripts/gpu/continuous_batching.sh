#!/usr/bin/env bash
# Issue 18 on one GPU call (GPU machine, repo root, .deps carried): builds what it needs, runs
# the CUDA tests of continuous batching (fused decode kernels with per-row slots; the graph pool
# equal to static batching on the fixtures, fp32 and bf16) and the generate engine's tests, then
# on a Qwen3-8B-shaped random model:
#   1. bench_eval, realistic lengths (log-normal, median 150, sigma 0.8, capped at 1,024, seed
#      0): static vs continuous batching on the same items (items/s, slot occupancy);
#   2. bench_eval, MMLU-5-shot / GSM8K-4-shot-like prompts: continuous with vs without shared
#      prefixes;
#   3. bench_model's decode ceiling at batch 128 (CUDA graphs), for the achieved decode rates.
# Results under $OUT (or $1): cuda_tests.log, generate_tests.log, realistic.jsonl,
# shared_prefix.jsonl, ceiling.jsonl, and summary.txt (the summary lines).
#   usage: scripts/gpu/continuous_batching.sh [OUTDIR]
#   env: ITEMS (per dataset, realistic run; default 256), FEWSHOT_ITEMS (default 256),
#        BATCH (default 128), MODEL (default /tmp/q8b), SKIP_BENCH=1 (build and tests only)
# A fresh machine spends minutes on the build: if one call's 10 minutes do not suffice, run it
# with SKIP_BENCH=1 first, then again on the warm machine (the build is then incremental).
set -uo pipefail
root=$(pwd)
out=${1:-${OUT:-/tmp/qb-cb-out}}
mkdir -p "$out"
QB_BUILD_ONLY="qbuild test_model test_generate qbuild-generate-worker bench_eval bench_model" \
  scripts/gpu/build_and_test.sh || exit 1
b=$root/build-gpu
export LD_PRELOAD="$(g++ -print-file-name=libstdc++.so.6)"
export LD_LIBRARY_PATH="/tmp/qbdeps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"

echo "== CUDA tests"
"$b/tests/model/test_model" --gtest_filter='*FusedDecode*:*CudaContinuous*:*Continuous*:*KvCacheRows*:*SharedPrefix*' \
  --gtest_brief=1 2>&1 | tail -25 | tee "$out/cuda_tests.log"
"$b/tests/generate/test_generate" --gtest_brief=1 2>&1 | tail -15 | tee "$out/generate_tests.log"
[ -n "${SKIP_BENCH:-}" ] && exit 0

model=${MODEL:-/tmp/q8b}
batch=${BATCH:-128}
[ -f "$model/config.json" ] || "$b/src/cli/qbuild" random-model --shape qwen3-8b --device cuda --seed 0 \
  --tokenizer "$root/data/tokenizers/qwen3" --out "$model" > "$out/random_model.log" 2>&1

echo "== realistic lengths: static vs continuous"
"$b/bench/eval/bench_eval" --model "$model" --device cuda --items "${ITEMS:-256}" --max-new 1024 --batch "$batch" \
  --lengths lognormal --median 150 --sigma 0.8 --seed 0 --runs static,continuous --no-logits \
  2> "$out/realistic.err" | grep '^{' | tee "$out/realistic.jsonl" | tail -1 | tee "$out/summary.txt"

echo "== few-shot prompts: shared prefixes vs none"
"$b/bench/eval/bench_eval" --model "$model" --device cuda --items "${FEWSHOT_ITEMS:-256}" --max-new 1024 \
  --batch "$batch" --prompts few-shot --lengths lognormal --median 150 --sigma 0.8 --seed 0 \
  --runs continuous,continuous-unshared --no-logits \
  2> "$out/shared_prefix.err" | grep '^{' | tee "$out/shared_prefix.jsonl" | tail -1 | tee -a "$out/summary.txt"

echo "== bench_model decode ceiling (batch $batch, 512-token prompts, 256 new, CUDA graphs)"
"$b/bench/model/bench_model" --shape qwen3-8b --device cuda --batch "$batch" --ctx 512 --new 256 --cuda-graph \
  2>&1 | tail -1 | tee "$out/ceiling.jsonl"
