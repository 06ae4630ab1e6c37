#!/usr/bin/env bash
# Engine benchmark (issue "Core 1/6", issue 14 part 7): generated projects, everything cached, then
#   - wall time of a no-op `qbuild` (median of N runs: answered by the no-op memo after the first),
#     of the same no-op through the full path (the memo missed), and of Ninja alone on the same
#     build.ninja,
#     at two sizes: 10 trans × 10 quant × 2 eval configs (513 edges) and 20 × 25 × 2 (2,523
#     edges; every eval is a generate and a score node, plus one check node for the source model);
#   - the per-pass times of the no-op (`qbuild -v`: load, open, plan, generate, run, collect;
#     medians), so a regression shows where it is;
#   - first-time content hashing of a multi-GB model file (GB/s), and the same again with the
#     SQLite memo (should be ~0 s);
#   - `qbuild verify` of every (tiny) object: the per-object cost of a full checksum pass (its
#     per-byte cost is the hashing rate above).
# Uses build/tests/e2e/qbuild_testkit (the real front end with instant test-only steps), so it
# measures the engine, not the steps.
#
# With QB_BENCH_BASELINE=<another qbuild_testkit> (e.g. built from main in build-base/), each size
# also gets an identical project built by that binary, and the no-op runs of the two alternate
# (A B A B …) so that a noisy, shared machine slows both alike; both medians are printed.
#   usage: bench/engine/run_engine_bench.sh [BUILD_DIR] [RUNS] [HASH_GB] [SIZES]
#   SIZES: space-separated TxQxE (default "10x10x2 20x25x2")
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bdir=$(cd "${1:-$root/build}" && pwd)
runs=${2:-21}
gb=${3:-2}
sizes=${4:-"10x10x2 20x25x2"}
kit="$bdir/tests/e2e/qbuild_testkit"
base=${QB_BENCH_BASELINE:-}
[ -x "$kit" ] || { echo "build $kit first (ninja -C $bdir qbuild_testkit)"; exit 1; }
[ -z "$base" ] || [ -x "$base" ] || { echo "QB_BENCH_BASELINE=$base is not an executable"; exit 1; }
work=$(mktemp -d /tmp/qbuild-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# make_project DIR T Q E: T SpinQuant transforms × Q GPTQ recipes × E eval configs.
make_project() {
  local dir=$1 nt=$2 nq=$3 ne=$4
  mkdir -p "$dir" && cd "$dir"
  cp -r "$root/rules" .
  mkdir -p pipline/1-trans pipline/2-quant pipline/3-eval data/models/m data/datasets/mmlu data/datasets/gsm8k
  echo '{"model_type": "qwen3"}' > data/models/m/config.json
  echo '{}' > data/datasets/mmlu/test.jsonl; echo '{}' > data/datasets/gsm8k/test.jsonl
  for t in $(seq 0 $((nt - 1))); do
    printf 'name: t%d\ninput_model: data/models/m\noutput_suffix: -t%d\nquant_modifiers:\n  SpinQuantModifier:\n    rotations: [R1, R2]\n    transform_type: random-hadamard\n    seed: %d\n' $t $t $t > pipline/1-trans/t$t.yaml
  done
  for q in $(seq 0 $((nq - 1))); do
    printf 'name: q%d\noutput_suffix: -q%d\nquant_modifiers:\n  GPTQModifier:\n    config_groups:\n      group_0:\n        targets: [Linear]\n        weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}\n    dampening_frac: 0.%03d\n' $q $q $((q + 1)) > pipline/2-quant/q$q.yaml
  done
  printf 'calibration: {source: data/calib.txt}\n' | tee -a pipline/2-quant/*.yaml > /dev/null
  # The config layer checks that calibration text can fill seq_len (2048) tokens.
  head -c 4096 /dev/zero | tr '\0' 'c' > data/calib.txt
  for e in $(seq 0 $((ne - 1))); do
    printf 'dataset_name: e%d\noutput: {work_dir: outputs/e%d}\ndatasets:\n  - {name: mmlu, weight: 1.0}\n  - {name: gsm8k, weight: 1.0}\nsampling: {total_samples: %d}\nfidelity: {enabled: false}\n' $e $e $((10 + e)) > pipline/3-eval/e$e.yaml
  done
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
us() { local s=$(date +%s%N); "$@" > /dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000 )); }
msf() { awk '{printf "%.1f", $1/1000}' "$1"; }
# Median of each pass over `runs` no-op runs of `qbuild -v` (KIT): "load 2.1 ms, open …".
passes() {
  local k=$1 f=$work/passes.txt out="" name
  for i in $(seq "$runs"); do "$k" -v 2>&1 >/dev/null | grep -E '^qbuild: [a-z]+ +[0-9.]+ ms$'; done > "$f"
  for name in $(awk '!seen[$2]++ {print $2}' "$f"); do
    out+="${out:+, }$name $(awk -v n="$name" '$2 == n {print $3}' "$f" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') ms"
  done
  echo "$out"
}

for size in $sizes; do
  IFS=x read -r nt nq ne <<< "$size"
  echo "== $nt trans × $nq quant × $ne eval"
  make_project "$work/new-$size" "$nt" "$nq" "$ne"
  "$kit" -j 8 > build.log 2>&1 || { tail build.log; exit 1; }
  edges=$(grep -c '^build ' cache/build.ninja)
  echo "edges in build.ninja: $edges"
  if [ -n "$base" ]; then
    make_project "$work/base-$size" "$nt" "$nq" "$ne"
    "$base" -j 8 > build.log 2>&1 || { tail build.log; exit 1; }
    : > "$work/qb.txt"; : > "$work/qb-base.txt"
    for i in $(seq "$runs"); do
      (cd "$work/new-$size" && us "$kit") >> "$work/qb.txt"
      (cd "$work/base-$size" && us "$base") >> "$work/qb-base.txt"
    done
    median < "$work/qb.txt" > "$work/qb.m"; median < "$work/qb-base.txt" > "$work/qb-base.m"
    echo "no-op qbuild (median of $runs, interleaved): $(msf "$work/qb.m") ms; baseline $(msf "$work/qb-base.m") ms"
    echo "  passes (qbuild -v, medians):  $(cd "$work/new-$size" && passes "$kit")"
    echo "  baseline passes:              $(cd "$work/base-$size" && passes "$base")"
  else
    for i in $(seq "$runs"); do us "$kit"; done | median > "$work/qb.m"
    echo "no-op qbuild (median of $runs): $(msf "$work/qb.m") ms"
    echo "  passes (qbuild -v, medians): $(passes "$kit")"
  fi
  cd "$work/new-$size"
  # The same no-op with the no-op memo missed (runner/noop_memo.h): a config touched (same
  # bytes, new stat), so the full path runs (load, plan, generate, collect, report) and finds
  # nothing to do.
  for i in $(seq "$runs"); do touch pipline/3-eval/e0.yaml; us "$kit"; done | median > "$work/full.m"
  echo "no-op through the full path (memo missed: a config touched; median of $runs): $(msf "$work/full.m") ms"
  for i in $(seq "$runs"); do us ninja -f cache/build.ninja; done | median > "$work/nj.m"
  echo "no-op ninja alone (median of $runs): $(msf "$work/nj.m") ms"
done

cd "$work/new-${sizes%% *}"
if "$kit" verify > /dev/null 2>&1; then
  objects=$(find cache/objects -name qbuild-artifact.json | wc -l)
  for i in $(seq "$runs"); do us "$kit" verify; done | median > "$work/vf.m"
  echo "qbuild verify of $objects objects (median of $runs): $(msf "$work/vf.m") ms"
fi

# Content hashing of a large source file: first time, then memoized.
if [ "$gb" -gt 0 ]; then
  head -c $((gb * 1024 * 1024 * 1024)) /dev/urandom > data/models/m/model.safetensors
  sync
  t1=$(us "$kit" -n)
  t2=$(us "$kit" -n)
  echo "first hash of a ${gb} GiB model file (qbuild -n, page cache warm): $(awk -v t=$t1 -v g=$gb 'BEGIN {printf "%.2f s, %.2f GB/s", t/1e6, g*1.073741824/(t/1e6)}')"
  echo "same again with the memo: $(awk -v t=$t2 'BEGIN {printf "%.1f ms", t/1000}')"
fi
