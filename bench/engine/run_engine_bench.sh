#!/usr/bin/env bash
# Engine benchmark (issue "Core 1/6"): a generated project of 10 trans × 10 quant × 2 eval
# configs (200 variant×eval combinations, 312 edges), everything cached, then
#   - wall time of a no-op `qbuild` (median of N runs) and of Ninja alone on the same build.ninja;
#   - first-time content hashing of a multi-GB model file (GB/s), and the same again with the
#     SQLite memo (should be ~0 s);
#   - `qbuild verify` of every (tiny) object: the per-object cost of a full checksum pass (its
#     per-byte cost is the hashing rate above).
# Uses build/tests/e2e/qbuild_testkit (the real front end with instant test-only steps), so it
# measures the engine, not the steps.
#   usage: bench/engine/run_engine_bench.sh [BUILD_DIR] [RUNS] [HASH_GB]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bdir=$(cd "${1:-$root/build}" && pwd)
runs=${2:-21}
gb=${3:-2}
kit="$bdir/tests/e2e/qbuild_testkit"
[ -x "$kit" ] || { echo "build $kit first (ninja -C $bdir qbuild_testkit)"; exit 1; }
work=$(mktemp -d /tmp/qbuild-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
cp -r "$root/rules" .
mkdir -p pipline/1-trans pipline/2-quant pipline/3-eval data/models/m data/datasets/mmlu data/datasets/gsm8k
echo '{"model_type": "qwen3"}' > data/models/m/config.json
echo '{}' > data/datasets/mmlu/test.jsonl; echo '{}' > data/datasets/gsm8k/test.jsonl
for t in $(seq 0 9); do
  printf 'name: t%d\ninput_model: data/models/m\noutput_suffix: -t%d\nquant_modifiers:\n  SpinQuantModifier:\n    rotations: [R1, R2]\n    transform_type: random-hadamard\n    seed: %d\n' $t $t $t > pipline/1-trans/t$t.yaml
done
for q in $(seq 0 9); do
  printf 'name: q%d\noutput_suffix: -q%d\nquant_modifiers:\n  GPTQModifier:\n    config_groups:\n      group_0:\n        targets: [Linear]\n        weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}\n    dampening_frac: 0.0%d\n' $q $q $((q+1)) > pipline/2-quant/q$q.yaml
done
printf 'calibration: {source: data/calib.txt}\n' | tee -a pipline/2-quant/*.yaml > /dev/null
echo "calibration text" > data/calib.txt
for e in 0 1; do
  printf 'dataset_name: e%d\ndatasets:\n  - {name: mmlu, weight: 1.0}\n  - {name: gsm8k, weight: 1.0}\nsampling: {total_samples: %d}\nfidelity: {enabled: false}\n' $e $((10+e)) > pipline/3-eval/e$e.yaml
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms() { local s=$(date +%s%N); "$@" > /dev/null 2>&1; echo $(( ($(date +%s%N) - s) / 1000 )); }

"$kit" -j 8 > build.log 2>&1 || { tail build.log; exit 1; }
edges=$(grep -c '^build ' cache/build.ninja)
for i in $(seq "$runs"); do ms "$kit"; done | median > qb.txt
for i in $(seq "$runs"); do ms ninja -f cache/build.ninja; done | median > nj.txt
echo "edges in build.ninja: $edges"
echo "no-op qbuild (median of $runs): $(awk '{printf "%.1f", $1/1000}' qb.txt) ms"
echo "no-op ninja alone (median of $runs): $(awk '{printf "%.1f", $1/1000}' nj.txt) ms"
if "$kit" verify > /dev/null 2>&1; then
  objects=$(find cache/objects -name qbuild-artifact.json | wc -l)
  for i in $(seq "$runs"); do ms "$kit" verify; done | median > vf.txt
  echo "qbuild verify of $objects objects (median of $runs): $(awk '{printf "%.1f", $1/1000}' vf.txt) ms"
fi
"$kit" -v -n 2>&1 | grep -E '^qbuild: (load|open|plan)' | sed 's/^/  pass /'

# Content hashing of a large source file: first time, then memoized.
head -c $((gb * 1024 * 1024 * 1024)) /dev/urandom > data/models/m/model.safetensors
sync
t1=$(ms "$kit" -n)
t2=$(ms "$kit" -n)
echo "first hash of a ${gb} GiB model file (qbuild -n, page cache warm): $(awk -v t=$t1 -v g=$gb 'BEGIN {printf "%.2f s, %.2f GB/s", t/1e6, g*1.073741824/(t/1e6)}')"
echo "same again with the memo: $(awk -v t=$t2 'BEGIN {printf "%.1f ms", t/1000}')"
