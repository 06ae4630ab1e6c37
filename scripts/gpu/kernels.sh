#!/usr/bin/env bash
# One GPU call for the quantized-projection kernels (issue 17; quant_kernels.h): builds
# test_model and bench_model with the CUTLASS sm90 int8 GEMM, runs the CUDA tests of the kernels
# against the CPU reference, then bench_model on the Qwen3-8B shape: bf16 and W8A8 at prefill
# 32 x 512, decode batch 1 and 128; W8A16 and W4A16 at decode batch 1 — every ratio against the
# bf16 run of the same call. Logs and the JSON lines go to OUTDIR.
#   usage (GPU machine, repo root, .deps carried with the .debs and the nvidia-cutlass wheel):
#     scripts/gpu/kernels.sh [OUTDIR]
#   fetch the wheel here: python3 -m pip download --no-deps nvidia-cutlass==4.2.0.0 -d .deps
#   QB_DEPS: the folder holding the .debs and the wheel (default .deps); QB_KERNELS_PARTS:
#   "tests bench" (default) or one of them; QB_PROFILE=1 adds --profile to the decode b1 runs.
set -uo pipefail
root=$(pwd)
out=${1:-${OUT:-/tmp}}
deps=${QB_DEPS:-.deps}
parts=${QB_KERNELS_PARTS:-tests bench}
t0=$(date +%s)
ls "$deps"/nvidia_cutlass-*.whl > /dev/null 2>&1 || { echo "no nvidia_cutlass wheel in $deps"; exit 1; }
export QB_CMAKE_ARGS="-DQBUILD_TEST_SUITES=model"  # build_and_test.sh adds the CUTLASS headers
QB_DEPS="$deps" QB_BUILD_ONLY="test_model bench_model" scripts/gpu/build_and_test.sh
rc=$?
cp build-gpu.configure.log build-gpu.build.log "$out"/ 2>/dev/null
[ $rc -eq 0 ] || exit 1
echo "build: $(( $(date +%s) - t0 )) s"
grep -q "CUTLASS sm90 int8 GEMM" build-gpu.configure.log && echo "CUTLASS GEMM: on" || echo "CUTLASS GEMM: OFF"
export LD_PRELOAD="$(g++ -print-file-name=libstdc++.so.6)"
export LD_LIBRARY_PATH="/tmp/qbdeps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"

if [[ " $parts " == *" tests "* ]]; then
  ./build-gpu/tests/model/test_model \
    --gtest_filter='*QuantKernels*:*WeightOnly*:*Quantized*:CudaFusedDecode.*' --gtest_brief=1 \
    2>&1 | tee "$out/kernel_tests.log" | grep -v "^\[       OK\|^\[ RUN" | tail -40
  echo "tests: $(( $(date +%s) - t0 )) s"
fi

if [[ " $parts " == *" bench "* ]]; then
  bm=./build-gpu/bench/model/bench_model
  json="$out/bench.jsonl"
  : > "$json"
  run() {  # label, args...
    local label=$1; shift
    echo "== $label: $*"
    "$bm" --shape qwen3-8b --device cuda "$@" 2>&1 | tee -a "$out/bench.log" | tail -n 60 > /tmp/run.txt
    grep -v '^{' /tmp/run.txt
    grep '^{' /tmp/run.txt | sed "s/^{/{\"label\": \"$label\", /" >> "$json"
  }
  prof=${QB_PROFILE:+--profile}
  for q in "" --w8a8; do
    run "prefill32x512${q}" $q --batch 32 --ctx 512 --new 1
  done
  for q in "" --w8a8 --w8a16 --w4a16; do
    run "decode_b1${q}" $q --batch 1 --ctx 512 --new 256 --cuda-graph $prof
  done
  for q in "" --w8a8; do
    run "decode_b128${q}" $q --batch 128 --ctx 512 --new 128 --cuda-graph
  done
  echo "bench: $(( $(date +%s) - t0 )) s"
  python3 - "$json" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
base = {}
for r in rows:
    kind = r["label"].split("-")[0].split("--")[0]
    if r["quant"] == "none":
        base[r["label"]] = r
print(f"{'run':28s} {'prefill tok/s':>14s} {'decode tok/s':>13s} {'ms/step':>8s} {'peak GiB':>9s} {'vs bf16':>8s}")
for r in rows:
    lab = r["label"]
    b = base.get(lab.split("--")[0])
    key = "prefill_tok_s" if lab.startswith("prefill") else "decode_tok_s"
    ratio = r[key] / b[key] if b and b[key] else float("nan")
    print(f"{lab:28s} {r['prefill_tok_s']:14.0f} {r['decode_tok_s']:13.1f} {r['decode_ms_per_step']:8.3f} {r['peak_gib']:9.2f} {ratio:7.2f}x")
EOF
fi
echo "total: $(( $(date +%s) - t0 )) s"
