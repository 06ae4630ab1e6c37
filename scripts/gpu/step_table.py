#!/usr/bin/env python3
"""Prints one Markdown row per artifact of a qbuild project: kind, name, device, wall seconds,
peak GPU and host memory (from each artifact's manifest, cache/objects/*/*/qbuild-artifact.json).
Reading aid for bench/RESULTS.md; not part of qbuild."""
import glob
import json
import sys

proj = sys.argv[1] if len(sys.argv) > 1 else "."
rows = []
for f in glob.glob(f"{proj}/cache/objects/*/*/qbuild-artifact.json"):
    d = json.load(open(f))
    m = d.get("meta", {})
    rows.append((d["kind"], d.get("name", ""), m.get("device", ""), m.get("duration_s", 0.0),
                 m.get("peak_gpu_gib"), m.get("peak_rss_gib")))
order = {"check": 0, "sample": 1, "trans": 2, "quant": 3, "generate": 4, "score": 5}
rows.sort(key=lambda r: (order.get(r[0], 9), r[1]))
print("| step | name | device | wall s | peak GPU GiB | peak host GiB |")
print("|---|---|---|---|---|---|")
for k, n, dev, t, g, h in rows:
    gs = f"{g:.2f}" if g is not None else "-"
    hs = f"{h:.2f}" if h is not None else "-"
    print(f"| {k} | {n} | {dev} | {t:.1f} | {gs} | {hs} |")
print(f"| total | | | {sum(r[3] for r in rows):.1f} | | |")
