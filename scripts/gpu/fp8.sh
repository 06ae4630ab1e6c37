#!/usr/bin/env bash
# FP8 (issue 19) on the GPU machine, in one call (repo root, .deps carried; see build_and_test.sh):
#   1. builds qbuild, test_qmath, test_quant, bench_model and bench_quant into build-gpu/;
#   2. the FP8 CUDA tests: torch._scaled_mm against the exact emulation for every scale layout
#      (Fp8Cuda.ScaledMmMatchesTheExactGemm), FP8 logits on CUDA against the CPU emulation
#      (Fp8Cuda.LogitsMatchTheCpuEmulation), the FP8-KV decode against the bf16-cache decode
#      (Fp8Cuda.KvFp8DecodeMatchesTheBf16CacheDecode), plus the CPU FP8 suites on that machine;
#   3. the benchmarks, bf16 in the same call (Qwen3-8B shape, random weights):
#        prefill 32 x 512 and decode (CUDA graphs, 512-token prompts) at batch 1 / 128:
#          bf16, FP8_DYNAMIC (and FP8 static, FP8_BLOCK);
#        decode at batch 128 with 2,048-token contexts: bf16 KV vs FP8 KV (fused kernels, and op
#        by op), and FP8_DYNAMIC with FP8 KV;
#        the quantize step on the 36-layer model: FP8_DYNAMIC (RTN) and GPTQ-FP8 (512 x 2048).
# Everything goes to $OUT (or the first argument): fp8_tests.log, fp8_bench.log, fp8_quant.log,
# and bench.jsonl (bench_model's JSON lines).
#   PARTS="tests runtime kv quant" (default: all, in that order; each part alone fits a 600 s
#   call after the build)
set -uo pipefail
root=$(pwd)
out=${1:-${OUT:-/tmp}}
mkdir -p "$out"
parts=${PARTS:-tests runtime kv quant}
QB_BUILD_ONLY="qbuild test_qmath test_quant bench_model bench_quant" \
  scripts/gpu/build_and_test.sh || exit 1
b=$root/build-gpu
export LD_PRELOAD="$(g++ -print-file-name=libstdc++.so.6)"
export LD_LIBRARY_PATH="/tmp/qbdeps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
model=${MODEL:-/tmp/q8b}
bench() {  # bench_model with a label; the JSON line goes to bench.jsonl
  local label=$1; shift
  echo "-- $label"
  "$b/bench/model/bench_model" --shape qwen3-8b --device cuda "$@" 2>&1 | tee /tmp/fp8_bench_one.log | tail -4
  tail -1 /tmp/fp8_bench_one.log | sed "s/^{/{\"label\": \"$label\", /" >> "$out/bench.jsonl"
}
for part in $parts; do
  case $part in
    tests)
      ( cd "$b"
        ./tests/qmath/test_qmath --gtest_filter='*Fp8*' 2>&1 | grep -v '\] \[info\]'
        ./tests/quant/test_quant --gtest_filter='*Fp8*' 2>&1 | grep -v '\] \[info\]'
      ) | tee "$out/fp8_tests.log" ;;
    runtime)
      {
        for q in bf16 dynamic static block; do
          args=(); [ "$q" != bf16 ] && args=(--fp8 "$q")
          bench "prefill 32x512 $q" --batch 32 --ctx 512 --new 2 "${args[@]}"
          for bs in 1 128; do
            [ "$q" = static ] || [ "$q" = block ] && [ "$bs" = 128 ] && continue
            bench "decode b$bs ctx512 $q" --batch $bs --ctx 512 --new 256 --cuda-graph "${args[@]}"
          done
        done
      } 2>&1 | tee "$out/fp8_bench.log" ;;
    kv)
      {
        bench "decode b128 ctx2048 bf16 KV (fused)" --batch 128 --ctx 2048 --new 128 --cuda-graph
        bench "decode b128 ctx2048 fp8 KV (fused)" --batch 128 --ctx 2048 --new 128 --cuda-graph --fp8-kv
        bench "decode b128 ctx2048 bf16 KV (op by op)" --batch 128 --ctx 2048 --new 128 --cuda-graph --unfused
        bench "decode b128 ctx2048 fp8 KV (op by op)" --batch 128 --ctx 2048 --new 128 --cuda-graph --unfused --fp8-kv
        bench "decode b128 ctx2048 fp8-dynamic + fp8 KV (fused)" --batch 128 --ctx 2048 --new 128 --cuda-graph --fp8 dynamic --fp8-kv
      } 2>&1 | tee -a "$out/fp8_bench.log" ;;
    quant)
      {
        if [ ! -f "$model/config.json" ]; then
          "$b/src/cli/qbuild" random-model --shape qwen3-8b --device cuda --seed 0 \
            --tokenizer "$root/data/tokenizers/qwen3" --out "$model" || exit 1
        fi
        for m in fp8 gptq-fp8; do
          echo "== quantize $m"
          "$b/bench/quant/bench_quant" model --device cuda --model "$model" --samples "${SAMPLES:-512}" \
            --seq 2048 --method "$m" 2>&1 | grep -v '^\['
        done
      } 2>&1 | tee "$out/fp8_quant.log" ;;
    *) echo "unknown part '$part' (tests runtime kv quant)"; exit 2 ;;
  esac
done
