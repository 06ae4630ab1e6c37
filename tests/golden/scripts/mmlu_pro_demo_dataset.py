#!/usr/bin/env python3
"""Writes data/datasets/demo_mmlu_pro/: a small, hand-authored MMLU-Pro-format sample in the layout
of TIGER-Lab/MMLU-Pro on the Hub (data/test-00000-of-00001.parquet and
data/validation-00000-of-00001.parquet; written here as data/test.jsonl and data/validation.jsonl
with the same columns: question_id, question, options, answer, answer_index, cot_content,
category, src). Every sentence is written for qbuild (no dataset content is copied). It exercises:
options lists of 10, 7 and 4 (MMLU-Pro pads fewer than 10), categories in upper/lower case (the
adapter lowercases them), a category absent from the validation split (evalscope then takes the
first subset's examples), cot_content with "The answer is (X)." (rewritten to "ANSWER: X").

Pinned: CPython 3.11 (standard library only).
Run from the repository root:  python3 tests/golden/scripts/mmlu_pro_demo_dataset.py
"""
import json
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUT = os.path.join(ROOT, "data", "datasets", "demo_mmlu_pro", "data")
L = "ABCDEFGHIJ"


def row(qid, question, options, answer_index, category, cot=""):
    return {"question_id": qid, "question": question, "options": options, "answer": L[answer_index],
            "answer_index": answer_index, "cot_content": cot, "category": category, "src": "qbuild-authored"}


def cot(steps, answer_index):
    return f"A: Let's think step by step. {steps} The answer is ({L[answer_index]})."


nums = [str(n) for n in range(10, 20)]
test = [
    row(1, "What is 7 + 6?", nums, 3, "math"),
    row(2, "A train covers 120 km in 2 hours. What is its average speed in km/h?",
        ["40", "50", "60", "70", "80", "90", "100"], 2, "math"),
    row(3, "Which quantity is conserved in a perfectly elastic collision?",
        ["Only momentum", "Only kinetic energy", "Both momentum and kinetic energy", "Neither"], 2, "Physics"),
    row(4, "What is the SI unit of electric charge?",
        ["Volt", "Ampere", "Coulomb", "Ohm", "Tesla", "Weber", "Farad", "Henry", "Joule", "Watt"], 2, "physics"),
    row(5, "Which data structure answers 'is x present?' in expected constant time?",
        ["A sorted array", "A hash set", "A linked list", "A binary heap"], 1, "computer science"),
    row(6, "Ein Würfel hat wie viele Flächen?", ["4", "6", "8", "12", "20"], 1, "math"),
]
validation = []
for i in range(5):
    a, b = 2 + i, 3 + i
    opts = [str(a + b + d) for d in range(-4, 6)]
    validation.append(row(100 + i, f"What is {a} + {b}?", opts, 4, "math", cot(f"{a} + {b} = {a + b}.", 4)))
for i, (q, opts, k, why) in enumerate([
    ("What is the unit of force?", ["Newton", "Joule", "Pascal", "Watt"], 0, "Force is measured in newtons."),
    ("What falls faster in a vacuum, a feather or a hammer?", ["The hammer", "The feather", "Neither"], 2,
     "Without air both fall with the same acceleration."),
    ("What is the speed of light in vacuum, roughly, in km/s?", ["3,000", "30,000", "300,000", "3,000,000"], 2,
     "It is about 300,000 km/s."),
    ("Which wave needs a medium?", ["Light", "Sound", "Radio", "X-rays"], 1, "Sound is a mechanical wave."),
    ("What is the charge of an electron?", ["Positive", "Negative", "Zero"], 1, "Electrons are negative."),
]):
    validation.append(row(200 + i, q, opts, k, "physics", cot(why, k)))
os.makedirs(OUT, exist_ok=True)
for name, rows in (("test", test), ("validation", validation)):
    with open(os.path.join(OUT, f"{name}.jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(f"wrote {len(test)} test and {len(validation)} validation rows under {OUT}")
