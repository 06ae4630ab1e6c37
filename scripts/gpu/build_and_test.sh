#!/usr/bin/env bash
# Builds qbuild on a lent GPU machine (CUDA PyTorch installed; no SQLite/xxHash/PCRE2/utf8proc
# headers, no CLI11) and runs the tests there. The missing Debian packages travel as .debs in
# .deps/ (git-ignored; fetch them here with scripts/gpu/fetch_debs.sh) and are unpacked into a
# private prefix, never into /.
#   usage (on the GPU machine, repo root): scripts/gpu/build_and_test.sh [ctest args...]
#   QB_BUILD_ONLY=qbuild builds just that Ninja target and runs no tests (a benchmark's call).
#   QB_DEPS: the folder of the .debs (default .deps); QB_CMAKE_ARGS: extra CMake arguments.
set -euo pipefail
root=$(pwd)
prefix=/tmp/qbdeps
mkdir -p "$prefix"
for f in "${QB_DEPS:-.deps}"/*.deb; do dpkg -x "$f" "$prefix"; done
lib="$prefix/usr/lib/x86_64-linux-gnu"
export PKG_CONFIG_PATH="$lib/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_SYSROOT_DIR="$prefix"   # the .pc files say prefix=/usr
export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# Their libtorch exports std::filesystem symbols of its own; binding to them crashes
# (seen in TempDir's remove_all): make the system libstdc++ win.
export LD_PRELOAD="$(g++ -print-file-name=libstdc++.so.6)"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
# The CUTLASS headers of the W8A8 int8 GEMM (src/steps/model/int8_gemm_kernels.cu) come from the
# nvidia-cutlass wheel when one is in the deps folder (`python3 -m pip download --no-deps
# nvidia-cutlass==4.2.0.0 -d .deps`); without it the int8 GEMM runs on the GPU only for <= 16 rows.
# QB_NO_CUTLASS=1 leaves it out (a shorter build for calls that need no int8 GEMM).
wheel=$(ls "${QB_DEPS:-.deps}"/nvidia_cutlass-*.whl 2>/dev/null | head -1 || true)
[ -n "${QB_NO_CUTLASS:-}" ] && wheel=
if [ -n "$wheel" ] && python3 -m zipfile -e "$wheel" /tmp/cutlass; then
  QB_CMAKE_ARGS="-DQBUILD_CUTLASS_DIR=/tmp/cutlass/cutlass_library/source ${QB_CMAKE_ARGS:-}"
fi
bdir=${QB_BUILD_DIR:-$root/build-gpu}
cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQBUILD_PYTHON=python3 \
  -DCMAKE_PREFIX_PATH="$prefix/usr" -DSQLite3_INCLUDE_DIR="$prefix/usr/include" \
  -DSQLite3_LIBRARY="$lib/libsqlite3.so" -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
  -DCMAKE_BUILD_RPATH="$lib" ${QB_CMAKE_ARGS:-} > "$bdir.configure.log" 2>&1 || { tail -40 "$bdir.configure.log"; exit 1; }
ninja -C "$bdir" -j "$(nproc)" ${QB_BUILD_ONLY:-} > "$bdir.build.log" 2>&1 || { grep -E 'error|FAILED' -A3 "$bdir.build.log" | head -60; exit 1; }
echo "built in $bdir"
[ -n "${QB_BUILD_ONLY:-}" ] && exit 0
cd "$bdir"
ctest -j 8 --output-on-failure "$@"
