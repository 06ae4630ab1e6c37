#!/usr/bin/env bash
# Builds bench_model where a CUDA PyTorch is installed but none of qbuild's system packages are
# (the lent GPU machines): g++ straight against the wheel's libtorch, with QB_MODEL_CUDA (CUDA-
# graph decoding) and QB_BENCH_CUDA (allocator statistics) on. Only what bench_model links is
# compiled: util (status, fs, progress), model_io, qmath, hadamard, model (not tools.cc, which
# needs the tokenizer's PCRE2).
#
#   bench/model/gpu_build.sh --stage-headers   # here: copy nlohmann/spdlog/fmt headers to
#                                              # build-model/gpu-include (carry that folder)
#   bench/model/gpu_build.sh                   # there: build build-gpu/bench_model
set -euo pipefail
cd "$(dirname "$0")/../.."
INC=build-model/gpu-include
if [[ "${1:-}" == "--stage-headers" ]]; then
  mkdir -p "$INC"
  cp -r /usr/include/nlohmann /usr/include/spdlog /usr/include/fmt "$INC"/
  echo "staged headers in $INC"
  exit 0
fi
PY=${PYTHON:-python3}
TORCH=$("$PY" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
CUDA_INC=$("$PY" -c 'import os, nvidia.cuda_runtime as r; print(os.path.join(list(r.__path__)[0], "include"))' 2>/dev/null || echo /usr/local/cuda/include)
OUT=build-gpu
mkdir -p "$OUT/obj"
FLAGS=(-std=c++20 -O2 -g0 -fPIC -D_GLIBCXX_USE_CXX11_ABI=1 -DQB_MODEL_CUDA=1 -DQB_BENCH_CUDA=1
       -DFMT_HEADER_ONLY -Isrc -I"$INC" -isystem "$TORCH/include"
       -isystem "$TORCH/include/torch/csrc/api/include" -isystem "$CUDA_INC"
       -isystem /usr/local/cuda/include -Wno-deprecated-declarations)
SRCS=(src/util/status.cc src/util/fs.cc src/util/progress.cc
      src/steps/model_io/log/log.cc src/steps/qmath/log/log.cc
      $(ls src/steps/model_io/*.cc src/steps/qmath/*.cc src/steps/hadamard/*.cc)
      $(ls src/steps/model/*.cc | grep -v '/tools.cc$')
      bench/model/bench_model.cc)
printf '%s\n' "${SRCS[@]}" | xargs -P "$(nproc)" -I{} sh -c \
  'o='"$OUT"'/obj/$(echo {} | tr / _).o; [ "$o" -nt {} ] || g++ '"${FLAGS[*]}"' -c {} -o "$o"'
# The CUDA runtime the wheel ships (nvidia/cu*/lib), for the graph and event calls.
CUDART=$(ls "$TORCH"/../nvidia/*/lib/libcudart.so* /usr/local/cuda/lib64/libcudart.so 2>/dev/null | head -1)
g++ -o "$OUT/bench_model" "$OUT"/obj/*.o -L"$TORCH/lib" -Wl,-rpath,"$TORCH/lib" \
  -Wl,-rpath,"$(dirname "$CUDART")" -Wl,--no-as-needed -ltorch -ltorch_cpu -ltorch_cuda -lc10 \
  -lc10_cuda "$CUDART" -Wl,--as-needed -lpthread
echo "built $OUT/bench_model against $TORCH"
