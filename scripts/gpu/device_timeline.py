#!/usr/bin/env python3
"""Reads `qbuild runs --all --json` (argument 1) and prints, for the runs of one invocation that
built something, a timeline: each step's GPU, start and end (seconds from the first start), then
checks what issue 8 asks to show: no GPU ran two steps at once (exit 1 if one did), and how long
two GPUs were busy at the same time. Reading aid for bench/RESULTS.md; not part of qbuild."""
import json
import sys

runs = [r for r in json.load(open(sys.argv[1])) if r["status"] == "ok"]
if not runs:
    sys.exit("no finished runs")
inv = max(runs, key=lambda r: r["ended"])["invocation"]  # the build, not the no-op rerun
runs = sorted((r for r in runs if r["invocation"] == inv), key=lambda r: r["started"])
t0 = runs[0]["started"]
print("| step | name | GPU | start s | end s | wall s |")
print("|---|---|---|---|---|---|")
for r in runs:
    print(f"| {r['kind']} | {r['name']} | {r['gpu'] or '-'} | {r['started'] - t0:.1f} | "
          f"{r['ended'] - t0:.1f} | {r['duration_s']:.1f} |")
by = {}
for r in runs:
    if r["gpu"]:
        by.setdefault(r["gpu"], []).append((r["started"], r["ended"], r["name"]))
bad = 0
for gpu, v in sorted(by.items()):
    v.sort()
    busy = sum(e - s for s, e, _ in v)
    clashes = 0
    for (s1, e1, n1), (s2, e2, n2) in zip(v, v[1:]):
        if s2 < e1:
            print(f"GPU {gpu} ran two steps at once: {n1} and {n2} overlap by {e1 - s2:.1f} s")
            clashes += 1
    bad += clashes
    print(f"GPU {gpu}: {len(v)} steps, busy {busy:.1f} s, never two at once: {'yes' if not clashes else 'NO'}")
gpus = sorted(by)
both = 0.0
pairs = []
for i, a in enumerate(gpus):
    for b in gpus[i + 1:]:
        for s1, e1, n1 in by[a]:
            for s2, e2, n2 in by[b]:
                o = min(e1, e2) - max(s1, s2)
                if o > 0:
                    both += o
                    pairs.append((o, n1, a, n2, b))
pairs.sort(reverse=True)
span = max(r["ended"] for r in runs) - t0
print(f"time with two GPUs busy at once: {both:.1f} s; span of the build's steps: {span:.1f} s")
for o, n1, a, n2, b in pairs[:8]:
    print(f"  {o:6.1f} s  {n1} (GPU {a}) with {n2} (GPU {b})")
sys.exit(1 if bad else 0)
