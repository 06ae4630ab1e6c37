#!/usr/bin/env python3
"""Writes data/datasets/demo_gpqa_diamond/train.jsonl: a small, hand-authored GPQA-Diamond-format
sample in the layout of AI-ModelScope/gpqa_diamond (evalscope's source; its only split is
"train"), columns Question, Correct Answer, Incorrect Answer 1..3 (and a few others the adapter
ignores). Every question is written for qbuild (no dataset content is copied). Answers carry
stray whitespace (the adapter strips them), one row has a null incorrect answer (the adapter's
' '), one question has trailing whitespace (hashed after strip()).

Pinned: CPython 3.11 (standard library only).
Run from the repository root:  python3 tests/golden/scripts/gpqa_demo_dataset.py
"""
import json
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUT = os.path.join(ROOT, "data", "datasets", "demo_gpqa_diamond")
rows = [
    ("Which particle mediates the electromagnetic force?", "The photon", "The gluon", "The W boson", "The graviton"),
    ("What is the oxidation state of manganese in permanganate, MnO4-?", "+7", "+6", "+4", "+2"),
    ("In a diploid organism, how many alleles of an autosomal gene does a somatic cell carry?  ", " Two",
     "One ", "Four", "It depends on dominance"),
    ("Which orbital hybridization gives a linear geometry?", "sp", "sp2", "sp3", None),
    ("What does a Carnot engine's efficiency depend on?", "Only the two reservoir temperatures",
     "The working substance", "The engine's size", "The cycle's duration"),
]
os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "train.jsonl"), "w", encoding="utf-8") as f:
    for i, (q, c, i1, i2, i3) in enumerate(rows):
        f.write(json.dumps({"Question": q, "Correct Answer": c, "Incorrect Answer 1": i1, "Incorrect Answer 2": i2,
                            "Incorrect Answer 3": i3, "Record ID": f"qbuild-{i}", "High-level domain": "Science"},
                           ensure_ascii=False) + "\n")
print(f"wrote {len(rows)} rows to {OUT}/train.jsonl")
