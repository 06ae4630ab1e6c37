#!/usr/bin/env python3
"""Golden values for qb::hadamard's seeded randomness (src/steps/hadamard/random.h), computed by an
independent Python implementation of the documented rules.

Pinned versions (checked at start; the script refuses to run with others):
    numpy 2.4.6

Run from the repository root with the oracle environment:
    .venv-oracle/bin/python tests/golden/scripts/transforms_hadamard_random.py

Writes tests/golden/transforms/hadamard_random.json:
    splitmix64:  {seed: first 8 outputs as decimal strings}
    signs:       {seed: first 64 signs}               (bit 63 set -> -1)
    gaussians:   {seed: first 9 values}                (Box-Muller, cos then sin)
    orthogonal:  {"seed": s, "b": 8, "q": [[...]]}     (numpy QR of the 8x8 Gaussian, diag(R) > 0)
Floats are written with repr (round-trip exact). Regeneration is deterministic.
"""
import json
import math
import os
import sys

import numpy as np

PINNED = {"numpy": "2.4.6"}
MASK = (1 << 64) - 1


def check_versions():
    found = {"numpy": np.__version__}
    if found != PINNED:
        sys.exit(f"transforms_hadamard_random.py: pinned versions {PINNED}, found {found}")


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0**-53


def signs(seed, n):
    g = SplitMix64(seed)
    return [-1 if g.next() >> 63 else 1 for _ in range(n)]


def gaussians(seed, count):
    g = SplitMix64(seed)
    out = []
    while len(out) < count:
        u1 = 1.0 - g.uniform()
        u2 = g.uniform()
        r = math.sqrt(-2.0 * math.log(u1))
        phi = 2.0 * math.pi * u2
        out.append(r * math.cos(phi))
        if len(out) < count:
            out.append(r * math.sin(phi))
    return out


def orthogonal(seed, b):
    a = np.array(gaussians(seed, b * b), dtype=np.float64).reshape(b, b)
    q, r = np.linalg.qr(a)
    d = np.sign(np.diag(r))
    d[d == 0] = 1
    return (q * d[None, :]).tolist()


def main():
    check_versions()
    seeds = [0, 1, 42, 0xDEADBEEFCAFEF00D]
    data = {
        "signs": {str(s): signs(s, 64) for s in seeds},
        "gaussians": {str(s): gaussians(s, 9) for s in seeds},
        "orthogonal": {"seed": 42, "b": 8, "q": orthogonal(42, 8)},
    }
    outs = {}
    for s in seeds:
        g = SplitMix64(s)
        outs[str(s)] = [str(g.next()) for _ in range(8)]
    data["splitmix64"] = outs
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "transforms"))
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "hadamard_random.json"), "w") as f:
        json.dump(data, f)
        f.write("\n")


if __name__ == "__main__":
    main()
