#!/usr/bin/env bash
# Quantize-step and transform-step benchmarks on a Qwen3-8B-shaped random model (GPU machine,
# repo root, after build_and_test.sh). The model (36 layers, bf16, ~16 GB) is written once to
# $MODEL by `qbuild random-model`; each part can be run alone (the 600 s call limit):
#   PARTS="gptq"            bench_quant model: GPTQ W8A8 static, 512 x 2048 calibration tokens
#   PARTS="rtn static"      bench_quant model: RTN W8A8 dynamic; RTN W8A8 static, 512 x 2048
#   PARTS="spinquant"       bench_transforms spinquant: R1+R2 on the model (fp32 output, ~33 GB)
#   PARTS="r4"              bench_transforms r4 / fwht: online R4 per call, eager
#   PARTS="r4decode"        bench_model decode (CUDA graphs) at batch 1/32/128, without and with
#                           the online R4 before every down_proj
#   PARTS="w8a8"            bench_model prefill 32 x 512 and decode (CUDA graphs) at batch
#                           1/32/128: bf16 against random int8 W8A8 projections, same call
# Default: all of them, in that order.
set -uo pipefail
root=$(pwd)
b=${QB_BUILD_DIR:-$root/build-gpu}
model=${MODEL:-/tmp/q8b}
parts=${PARTS:-gptq rtn static spinquant r4}
samples=${SAMPLES:-512}
if [ ! -f "$model/config.json" ]; then
  t0=$(date +%s)
  "$b/src/cli/qbuild" random-model --shape qwen3-8b --device cuda --seed 0 \
    --tokenizer "$root/data/tokenizers/qwen3" --out "$model" || exit 1
  echo "random model written in $(( $(date +%s) - t0 )) s"
fi
for part in $parts; do
  echo "== $part"
  case $part in
    rtn|static|gptq)
      "$b/bench/quant/bench_quant" model --device cuda --model "$model" --samples "$samples" \
        --seq 2048 --method "$part" 2>&1 | grep -v '^\[' ;;
    spinquant)
      "$b/bench/transforms/bench_transforms" spinquant --device cuda --model "$model" 2>&1 | grep -v '^\[' ;;
    r4)
      for t in 1 32 128; do
        "$b/bench/transforms/bench_transforms" r4 --device cuda --tokens $t 2>&1 | tail -4
      done
      "$b/bench/transforms/bench_transforms" fwht --device cuda 2>&1 | tail -12 ;;
    w8a8)
      for q in "" --w8a8; do
        echo "prefill 32 x 512 ${q:-(bf16)}"
        "$b/bench/model/bench_model" --shape qwen3-8b --device cuda --batch 32 --ctx 512 --new 2 $q 2>&1 | tail -1
        for bs in 1 32 128; do
          echo "decode batch $bs ${q:-(bf16)}"
          "$b/bench/model/bench_model" --shape qwen3-8b --device cuda --batch $bs --ctx 512 \
            --new 256 --cuda-graph $q 2>&1 | tail -1
        done
      done ;;
    r4decode)
      for bs in 1 32 128; do
        for r4 in "" --r4; do
          echo "batch $bs ${r4:-(no R4)}"
          "$b/bench/model/bench_model" --shape qwen3-8b --device cuda --batch $bs --ctx 512 \
            --new 256 --cuda-graph $r4 2>&1 | tail -1
        done
      done ;;
  esac
done
