#!/usr/bin/env bash
# One GPU call for issue 20 (SmoothQuant / AWQ): builds qbuild, test_quant and bench_quant, runs
# the CUDA tests of the smooth step (the stages on CUDA against the CPU: SmoothQuant's scales to
# fp32 rounding, AWQ's chosen scales, codes within one step), the demo pipeline on CUDA (with its
# SmoothQuant variant: the smooth node on the GPU), then the benchmark: on a random Qwen3-8B-shaped
# model of 8 layers (bf16) with SAMPLES x 2048 calibration tokens (default 256), SmoothQuant+GPTQ
# W8A8 static and AWQ W4A16 by qbuild (bench_quant model --method sq-gptq,awq) and by
# llm-compressor 0.14.0.1 (bench/quant/llmc_smooth_bench.py), same model, same tokens, same call.
#
# llm-compressor comes from wheels carried in .deps/llmc/ (the GPU machine has no network; fetch
# them here with scripts/gpu/fetch_llmc_wheels.sh): pip installs into a venv over the machine's
# packages (its CUDA torch) only what is missing, unless `import llmcompressor` already works.
# Without them the llm-compressor half says why it did not run.
#   usage (GPU machine, repo root, .deps carried): scripts/gpu/smooth_awq.sh [OUTDIR]
#   PARTS="tests demo bench" (default: all three), SAMPLES=256, LAYERS=8
# Writes under OUTDIR: smooth_cuda_tests.log, demo_cuda.log, smooth_bench.log.
set -uo pipefail
root=$(pwd)
out=${1:-${OUT:-/tmp}}
parts=${PARTS:-tests demo bench}
samples=${SAMPLES:-256}
layers=${LAYERS:-8}
QB_BUILD_ONLY="qbuild test_quant bench_quant" scripts/gpu/build_and_test.sh || exit 1
b=$root/build-gpu
export LD_PRELOAD="$(g++ -print-file-name=libstdc++.so.6)"
export LD_LIBRARY_PATH="/tmp/qbdeps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
for part in $parts; do
  case $part in
    tests)
      "$b/tests/quant/test_quant" --gtest_filter='SmoothGolden.*:*SmoothQuantPipeline*:*AwqPipeline*' \
        2>&1 | grep -v '^\[20' | tee "$out/smooth_cuda_tests.log" | tail -40 ;;
    demo)
      QB_BUILD_DIR="$b" bash scripts/gpu/demo_cuda.sh /tmp/demo-cuda 2>&1 | tee "$out/demo_cuda.log" | tail -40 ;;
    bench)
      model=/tmp/q8b-${layers}l
      if [ ! -f "$model/config.json" ]; then
        "$b/src/cli/qbuild" random-model --shape qwen3-8b --layers "$layers" --device cuda --seed 0 \
          --tokenizer "$root/data/tokenizers/qwen3" --out "$model" || exit 1
      fi
      {
        echo "== qbuild ($layers layers, $samples x 2048 tokens)"
        "$b/bench/quant/bench_quant" model --device cuda --model "$model" --samples "$samples" \
          --seq 2048 --method sq-gptq,awq 2>&1 | grep -v '^\['
        echo "== llm-compressor 0.14.0.1"
        # A venv over the machine's packages (its CUDA torch): pip installs from the carried
        # wheels only what is missing or at another version.
        py=python3
        if ! python3 -c 'import llmcompressor' 2>/dev/null; then
          [ -x /tmp/llmc-venv/bin/python ] || python3 -m venv --system-site-packages /tmp/llmc-venv
          /tmp/llmc-venv/bin/python -m pip install --quiet --no-index --find-links .deps/llmc --find-links .deps \
            llmcompressor==0.14.0.1 compressed-tensors==0.19.0 transformers==5.17.0 \
            || echo "llm-compressor could not be installed from .deps/llmc (scripts/gpu/fetch_llmc_wheels.sh)"
          py=/tmp/llmc-venv/bin/python
        fi
        "$py" -c 'import llmcompressor' 2>/dev/null &&
          /usr/bin/time -v "$py" bench/quant/llmc_smooth_bench.py --model "$model" --samples "$samples" \
            --seq 2048 --method sq-gptq,awq 2>&1 | grep -E '^llmc|Maximum resident|Error|error' 
      } 2>&1 | tee "$out/smooth_bench.log" ;;
  esac
done
