#!/usr/bin/env python3
"""Golden values for qb::eval::PyRandom: CPython's random.seed(int), getrandbits(32) and
random.sample(range(n), k), including several samples drawn in a row from one generator (as
evalscope's WeightedSampler does across datasets).

Pinned: CPython 3.11 (checked below; random's algorithms have been stable since 3.2, but the
fixture records what was run). Output: tests/golden/eval/py_random.json, deterministic.

  .venv-oracle/bin/python tests/golden/scripts/eval_py_random.py
"""
import json
import os
import random
import sys

if sys.version_info[:2] != (3, 11):
    sys.exit(f"need CPython 3.11, have {sys.version.split()[0]}")

OUT = os.path.join(os.path.dirname(__file__), "..", "eval", "py_random.json")

cases = []
for seed in [0, 1, 42, 12345, 2**31 - 1, 2**32 + 5]:
    r = random.Random(seed)
    bits = [r.getrandbits(32) for _ in range(5)]
    cases.append({"seed": seed, "getrandbits32": bits})

samples = []
for seed, draws in [
    (42, [(10, 3), (5, 5), (1, 1)]),                  # small populations: the pool strategy
    (0, [(100, 10), (1000, 50), (30, 6)]),            # set strategy, then pool again
    (7, [(14042, 100), (1319, 412)]),                 # MMLU-test-sized and GSM8K-test-sized
    (2024, [(40, 20), (40, 20), (64, 64)]),
    (99, [(3, 0), (2, 1)]),
]:
    r = random.Random(seed)
    seq = []
    for n, k in draws:
        seq.append({"n": n, "k": k, "indices": r.sample(range(n), k)})
    samples.append({"seed": seed, "draws": seq})

with open(OUT, "w") as f:
    json.dump({"python": "3.11", "bits": cases, "samples": samples}, f, indent=1)
    f.write("\n")
print("wrote", os.path.normpath(OUT))
