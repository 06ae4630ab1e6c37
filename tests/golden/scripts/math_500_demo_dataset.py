#!/usr/bin/env python3
"""Writes data/datasets/demo_math_500/test.jsonl: a small, hand-authored MATH-500-format sample in
the layout of HuggingFaceH4/MATH-500 (AI-ModelScope/MATH-500) on the Hub: one test.jsonl with
columns problem, solution, answer, subject, level (an integer 1..5), unique_id. Every problem is
written for qbuild (no dataset content is copied); the answers use the LaTeX forms MATH uses
(\\frac, \\sqrt, intervals, \\text{} units, degrees, tuples).

Pinned: CPython 3.11 (standard library only).
Run from the repository root:  python3 tests/golden/scripts/math_500_demo_dataset.py
"""
import json
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUT = os.path.join(ROOT, "data", "datasets", "demo_math_500")

rows = [
    ("What is $\\frac{1}{2} + \\frac{1}{3}$?", "Add with a common denominator.", "\\frac{5}{6}", "Prealgebra", 1),
    ("Solve $x^2 = 8$ for $x > 0$.", "Take the square root.", "2\\sqrt{2}", "Algebra", 2),
    ("For which $x$ is $x^2 < 4$?", "Between the roots.", "(-2, 2)", "Algebra", 3),
    ("What is the midpoint of $(0,0)$ and $(4,6)$?", "Average the coordinates.", "(2,3)", "Geometry", 2),
    ("An angle and its supplement differ by $40^\\circ$. What is the larger angle?", "Solve.", "110^\\circ",
     "Geometry", 4),
    ("How many positive divisors does $36$ have?", "$36 = 2^2 3^2$.", "9", "Number Theory", 1),
    ("What is $\\log_2 1024$?", "$2^{10} = 1024$.", "10", "Intermediate Algebra", 5),
    ("A box holds $3$ red and $5$ blue balls. What is the chance of red?", "Count.", "\\frac{3}{8}",
     "Counting & Probability", 3),
]
os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "test.jsonl"), "w", encoding="utf-8") as f:
    for i, (problem, solution, answer, subject, level) in enumerate(rows):
        f.write(json.dumps({"problem": problem, "solution": solution + f" The answer is $\\boxed{{{answer}}}$.",
                            "answer": answer, "subject": subject, "level": level,
                            "unique_id": f"qbuild/{subject.lower().replace(' ', '_')}/{i}.json"},
                           ensure_ascii=False) + "\n")
print(f"wrote {len(rows)} rows to {OUT}/test.jsonl")
