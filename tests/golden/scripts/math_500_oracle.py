#!/usr/bin/env python3
"""evalscope 1.12.0 as the oracle for qbuild's MATH-500: the real Math500Adapter
(evalscope/benchmarks/math_500/math_500_adapter.py) over the authored sample
data/datasets/demo_math_500 (tests/golden/scripts/math_500_demo_dataset.py): record_to_sample,
the subsets "Level 1".."Level 5" (DatasetDict.from_dataset in subset_list order, items in file
order), the zero-shot prompt; and the extraction table: model outputs in the forms MATH answers
take, scored by the adapter as a finished generation is (calculate_metrics: extract_answer, then
the numeric `acc`: math_equal against strip_answer_string(target)), through
tests/golden/scripts/evalscope_oracle.py's score(). Only the download is replaced.

Pinned: those of evalscope_oracle.py (CPython 3.11, evalscope==1.12.0, sympy==1.14.0,
latex2sympy2_extended==1.11.0, antlr4-python3-runtime==4.9.3, word2number==1.1).
Run from the repository root:
  /work/venv-evalscope/bin/python tests/golden/scripts/math_500_oracle.py
writes tests/golden/eval/math_500_oracle.json.
"""
import json
import logging
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import evalscope_oracle  # noqa: E402  (pins, score())

evalscope_oracle.check_pins()
logging.disable(logging.WARNING)

from evalscope.api.dataset import DatasetDict, MemoryDataset  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DATA = os.path.join(ROOT, "data", "datasets", "demo_math_500", "test.jsonl")

get = evalscope_oracle.make_adapters()
a = get("math_500")
with open(DATA, encoding="utf-8") as f:
    records = [json.loads(line) for line in f if line.strip()]
test = DatasetDict.from_dataset(MemoryDataset([a.record_to_sample(r) for r in records]), a.subset_list)
prompts = []
for subset in test.keys():
    for i, s in enumerate(test[subset]):
        prompts.append({"subset": subset, "subset_id": i, "question_id": s.metadata["question_id"],
                        "prompt": a.process_sample_input(s, subset=subset), "target": s.target})

# (output, gold): MATH-style final answers, right and wrong, in the notations models write.
CASES = [
    ("So the sum is $\\boxed{\\frac{5}{6}}$.", "\\frac{5}{6}"),
    ("The answer is \\boxed{\\dfrac{5}{6}}", "\\frac{5}{6}"),
    ("\\boxed{5/6}", "\\frac{5}{6}"),
    ("\\boxed{0.8333}", "\\frac{5}{6}"),
    ("\\boxed{\\frac{6}{5}}", "\\frac{5}{6}"),
    ("x = \\boxed{2\\sqrt{2}}", "2\\sqrt{2}"),
    ("\\boxed{\\sqrt{8}}", "2\\sqrt{2}"),
    ("\\boxed{2.828}", "2\\sqrt{2}"),
    ("\\boxed{(-2,2)}", "(-2, 2)"),
    ("\\boxed{(-2, 2]}", "(-2, 2)"),
    ("The midpoint is \\boxed{(2, 3)}.", "(2,3)"),
    ("\\boxed{110^\\circ}", "110^\\circ"),
    ("\\boxed{110}", "110^\\circ"),
    ("\\boxed{110^{\\circ}}", "110^\\circ"),
    ("There are \\boxed{9} divisors.", "9"),
    ("The final answer is 9", "9"),
    ("\\boxed{\\text{nine}}", "9"),
    ("So $\\log_2 1024 = \\boxed{10}$", "10"),
    ("\\boxed{10.0}", "10"),
    ("\\boxed{3/8}", "\\frac{3}{8}"),
    ("\\boxed{37.5\\%}", "\\frac{3}{8}"),
    ("\\boxed{0.375}", "\\frac{3}{8}"),
    ("no final answer", "\\frac{3}{8}"),
    ("\\boxed{\\frac{3}{8}} or \\boxed{\\frac{1}{2}}", "\\frac{3}{8}"),
]
table = [evalscope_oracle.score(get, "math_500", {"output": o, "gold": g}) for o, g in CASES]
out = {"evalscope": "1.12.0", "prompts": prompts, "extraction": table}
with open(os.path.join(ROOT, "tests", "golden", "eval", "math_500_oracle.json"), "w", encoding="utf-8") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote tests/golden/eval/math_500_oracle.json")
