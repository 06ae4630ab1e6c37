#!/usr/bin/env bash
# Issue 18 part 4 on a GPU machine with 2+ GPUs (repo root, .deps carried): one small project
# (a bf16 random demo-shaped model and its RTN variant, the demo MMLU + GSM8K sets) evaluated
# with gpu_resources.data_parallel 1 and then 2, through the real qbuild binary. Reports:
#   - whether the two runs' predictions are the same item for item (output text, finish,
#     extracted answer) — on the CPU they are (tests/pipeline); on a GPU each worker's batches
#     differ, so bf16 may differ; this measures by how much (count of differing items);
#   - each generate run's wall time and the GPUs it held (qbuild runs --json).
# Results under $OUT (or $1): runs_dp1.json, runs_dp2.json, diff.txt, summary.txt.
#   usage: scripts/gpu/data_parallel.sh [OUTDIR]    env: TOTAL (eval items, default 64)
set -uo pipefail
root=$(pwd)
out=${1:-${OUT:-/tmp/qb-dp-out}}
mkdir -p "$out"
QB_BUILD_ONLY="qbuild test_generate qbuild-generate-worker" scripts/gpu/build_and_test.sh || exit 1
b=$root/build-gpu
export LD_PRELOAD="$(g++ -print-file-name=libstdc++.so.6)"
export LD_LIBRARY_PATH="/tmp/qbdeps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ngpu=$(nvidia-smi -L | wc -l)
[ "$ngpu" -ge 2 ] || { echo "needs 2 GPUs, found $ngpu" | tee "$out/summary.txt"; exit 1; }
"$b/tests/generate/test_generate" --gtest_brief=1 2>&1 | tail -5 | tee "$out/generate_tests.log"

p=/tmp/qb-dp-project
rm -rf "$p" && mkdir -p "$p/data/models" "$p/pipline/1-trans" "$p/pipline/2-quant" "$p/pipline/3-eval"
cp -r "$root/rules" "$p/rules"
cp -r "$root/data/datasets" "$p/data/datasets"
q() { "$b/src/cli/qbuild" --project "$p" "$@"; }
q random-model --shape demo --seed 3 --dtype bfloat16 --tokenizer "$root/data/tokenizers/qwen3" \
  --out "$p/data/models/demo" > "$out/random_model.log" 2>&1 || exit 1
printf 'resources:\n  devices: [0, 1]\n' > "$p/pipline/project.yaml"
printf 'name: original\ninput_model: data/models/demo\noutput_suffix: null\n' > "$p/pipline/1-trans/original.yaml"
printf 'name: rtn-w8a8-dynamic\noutput_suffix: -rtn\nquant_modifiers:\n  QuantizationModifier:\n    config_groups:\n      group_0:\n        targets: [Linear]\n        weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}\n        input_activations: {num_bits: 8, type: int, symmetric: true, strategy: token, dynamic: true}\n    ignore: [lm_head]\n' \
  > "$p/pipline/2-quant/rtn.yaml"
eval_yaml() {
  printf 'dataset_name: mini\ndatasets:\n  - {name: mmlu, dataset_dir: data/datasets/demo_mmlu, few_shot_num: 0}\n  - {name: gsm8k, dataset_dir: data/datasets/demo_gsm8k, few_shot_num: 1}\nsampling: {total_samples: %s, seed: 7}\noutput: {work_dir: outputs/dp%s}\ngeneration: {max_new_tokens: 64, batch_size: 8}\ngpu_resources: {data_parallel: %s}\n' \
    "${TOTAL:-64}" "$1" "$1" > "$p/pipline/3-eval/mini.yaml"
}
for n in 1 2; do
  eval_yaml $n
  q -j 2 > "$out/qbuild_dp$n.log" 2>&1 || { tail -30 "$out/qbuild_dp$n.log"; exit 1; }
  q runs --json > "$out/runs_dp$n.json"
done
python3 - "$p" "$out" <<'PY' | tee "$out/summary.txt"
import json, sys, pathlib
p, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
diff = []
for v in ["demo", "demo-rtn"]:
    for ds in ["mmlu", "gsm8k"]:
        a = [json.loads(l) for l in open(p / f"outputs/dp1/predictions/{v}/{ds}.jsonl")]
        b = [json.loads(l) for l in open(p / f"outputs/dp2/predictions/{v}/{ds}.jsonl")]
        for x, y in zip(a, b):
            if any(x.get(k) != y.get(k) for k in ("output", "finish", "extracted")):
                diff.append(f"{v}/{ds} #{x['index']}")
        print(f"{v}/{ds}: {len(a)} items")
(out / "diff.txt").write_text("\n".join(diff) + "\n")
print(f"items whose output differs between data_parallel 1 and 2: {len(diff)}")
for n in (1, 2):
    for r in json.load(open(out / f"runs_dp{n}.json")):
        if r.get("kind") == "generate" and r.get("status") == "ok":
            print(f"data_parallel {n}: generate {r['name']} on GPU(s) {r['gpu']}: {r['ended'] - r['started']:.1f}s")
PY
