#!/usr/bin/env bash
# Issue 8's run on a two-GPU machine (nvidia-h200-x2): the Qwen3-8B-shaped pipeline of run.sh
# (original + spinquant-r1r2 × rtn-w8a8-dynamic + gptq-w8a8-static × a 64-item eval: 2 trans,
# 4 quant, 2 base_eval + 4 eval steps) built with `qbuild -j 4`, first with devices [0, 1], then
# from scratch in a second project with devices [0]. Per build it keeps the index's runs, the
# step logs' device lines, a timeline with the per-device overlap check (device_timeline.py),
# nvidia-smi samples of both GPUs, and the wall times; the last line is their ratio. Everything
# lands in OUTDIR/multigpu.tar.gz (the device tool returns only a few loose files).
#   usage (GPU machine, repo root): QB_BUILD_ONLY=qbuild scripts/gpu/build_and_test.sh &&
#         bench/pipeline8b/multigpu.sh WORKDIR OUTDIR [LAYERS]
set -euo pipefail
root=$(pwd)
work=$1
final=$2
out=$work/evidence
layers=${3:-8}
# NVLink multicast stays off in every process started here (KINDS.md); the steps inherit it.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
rm -rf "$out"; mkdir -p "$out" "$final"
nvidia-smi --query-gpu=index,name,memory.total --format=csv > "$out/gpus.csv"
for devs in "0,1" "0"; do
  tag=devices-${devs/,/-}
  proj=$work/$tag
  rm -rf "$proj"
  nvidia-smi --query-gpu=timestamp,index,utilization.gpu,memory.used --format=csv -l 1 > "$out/$tag.smi.csv" &
  smi=$!
  DEVICES=$devs bench/pipeline8b/run.sh "$proj" "$layers" > "$out/$tag.log" 2>&1 || { kill $smi; tail -30 "$out/$tag.log"; exit 1; }
  kill $smi
  for f in runs.json build1.time pipline/project.yaml; do cp "$proj/$f" "$out/$tag.$(basename "$f")"; done
  grep -h "running on GPU" "$proj"/logs/*/*.log > "$out/$tag.device-lines.txt" || true
  python3 "$root/scripts/gpu/device_timeline.py" "$out/$tag.runs.json" > "$out/$tag.timeline.md" || echo "OVERLAP ON ONE DEVICE" >> "$out/$tag.timeline.md"
  echo "== $tag"; cat "$out/$tag.timeline.md"; grep -E "Elapsed" "$out/$tag.build1.time"
  cp "$proj"/results/*.csv "$out/$tag.results.csv" 2>/dev/null || true
  rm -rf "$proj/cache/objects"  # ~35 GB each at 8 layers; the disk holds one project at a time
done
wall() { grep -E "Elapsed" "$1" | awk '{print $NF}' | awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }'; }
w2=$(wall "$out/devices-0-1.build1.time"); w1=$(wall "$out/devices-0.build1.time")
python3 -c "print(f'wall: devices [0,1] {$w2:.1f} s, devices [0] {$w1:.1f} s, ratio [0]/[0,1] = {$w1/$w2:.2f}x')" | tee "$out/ratio.txt"
tar -czf "$final/multigpu.tar.gz" -C "$out" .
