#!/usr/bin/env bash
# One GPU call that checks the CUDA paths the spec/step changes touch (GPU machine, repo root,
# .deps carried): builds qbuild and the torch test binaries, runs their CUDA tests (quantize on
# CUDA vs the CPU, two CUDA quantize runs byte-identical, eager calibration, fused decode,
# generate/check steps), then the demo pipeline on CUDA through qbuild (check, trans, quant,
# generate on the GPU; sample and score on the CPU), twice (the second must do nothing).
#   usage: scripts/gpu/cuda_checks.sh [OUTDIR]
set -uo pipefail
root=$(pwd)
out=${1:-${OUT:-/tmp}}
QB_BUILD_ONLY="qbuild test_quant test_qmath test_model test_kinds test_transforms" \
  scripts/gpu/build_and_test.sh || exit 1
cd build-gpu
export LD_PRELOAD="$(g++ -print-file-name=libstdc++.so.6)"
export LD_LIBRARY_PATH="/tmp/qbdeps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
for t in quant qmath model kinds transforms; do
  ./tests/$t/test_$t --gtest_filter='*Cuda*:*OnCuda*:*TwoRuns*:*Eager*:*FusedDecode*:CheckStep.*' \
    --gtest_brief=1 2>&1 | tail -15
done | tee "$out/cuda_tests.log"
cd "$root"
QB_BUILD_DIR="$root/build-gpu" bash scripts/gpu/demo_cuda.sh /tmp/demo-cuda 2>&1 | tee "$out/demo_cuda.log" | tail -50
