#!/usr/bin/env bash
# The CUDA tests of the FP8 formats (issue 19) and of the perplexity / multiple-choice paths
# (issue 21) in the shortest call that runs them: a Release build without CUTLASS of the four test
# binaries, built and run in order of importance so that a call cut short still returns what ran
# (each part writes its own log under $OUT):
#   1. test_qmath, test_quant: Fp8Cuda.* (torch._scaled_mm for every scale layout against the
#      exact emulation, FP8 logits on CUDA against the CPU emulation, the FP8-KV decode against
#      the bf16-cache decode) and the other *Fp8* tests;
#   2. test_model, test_kinds: ChoiceGroups.* (the shared-context prefill on CUDA = the CPU = one
#      forward per choice), ScoreOptions.*, LmEvalNumbers.* (lm-eval 0.4.13's numbers on CUDA).
# The benchmarks of both issues are in scripts/gpu/fp8.sh and scripts/gpu/ppl.sh.
#   usage (GPU machine, repo root, .deps carried): OUT=... scripts/gpu/new_cuda_paths.sh
set -uo pipefail
root=$(pwd)
out=${OUT:-/tmp}
t0=$(date +%s)
b=$root/build-gpu
stamp() { echo "[+$(( $(date +%s) - t0 )) s] $*" | tee -a "$out/timeline.txt"; }
build() {
  QB_NO_CUTLASS=1 QB_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Release -DQBUILD_TEST_SUITES=qmath;quant;model;kinds" \
    QB_BUILD_ONLY="$*" scripts/gpu/build_and_test.sh > "$out/build-$1.log" 2>&1
}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/gpu.txt"
stamp "start"
build test_qmath test_quant || { stamp "build failed"; exit 1; }
stamp "built test_qmath test_quant"
export LD_PRELOAD="$(g++ -print-file-name=libstdc++.so.6)"
export LD_LIBRARY_PATH="/tmp/qbdeps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
(cd "$b" && ./tests/quant/test_quant --gtest_filter='*Fp8*' 2>&1 | grep -v '\] \[info\]') > "$out/fp8_quant_tests.log"
stamp "fp8 quant tests: $(grep -E '^\[  (PASSED|FAILED) ' "$out/fp8_quant_tests.log" | tr '\n' ' ')"
(cd "$b" && ./tests/qmath/test_qmath --gtest_filter='*Fp8*' 2>&1 | grep -v '\] \[info\]') > "$out/fp8_qmath_tests.log"
stamp "fp8 qmath tests: $(grep -E '^\[  (PASSED|FAILED) ' "$out/fp8_qmath_tests.log" | tr '\n' ' ')"
build test_model test_kinds || { stamp "build 2 failed"; exit 1; }
stamp "built test_model test_kinds"
(cd "$b" && ./tests/model/test_model --gtest_filter='ChoiceGroups.*:ScoreOptions.*' 2>&1 | grep -v '\] \[info\]') > "$out/ppl_model_tests.log"
stamp "choice tests: $(grep -E '^\[  (PASSED|FAILED) ' "$out/ppl_model_tests.log" | tr '\n' ' ')"
(cd "$b" && ./tests/kinds/test_kinds --gtest_filter='LmEvalNumbers.*' 2>&1 | grep -v '\] \[info\]') > "$out/ppl_kinds_tests.log"
stamp "lm-eval tests: $(grep -E '^\[  (PASSED|FAILED) ' "$out/ppl_kinds_tests.log" | tr '\n' ' ')"
