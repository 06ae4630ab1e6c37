#!/usr/bin/env python3
"""evalscope 1.12.0 as the oracle for qbuild's GPQA-Diamond: the real GPQAAdapter
(evalscope/benchmarks/gpqa/gpqa_adapter.py: record_to_sample with its sha256-seeded shuffle of
the answers, the zero-shot SINGLE_ANSWER_COT prompt) over the authored sample
data/datasets/demo_gpqa_diamond (tests/golden/scripts/gpqa_demo_dataset.py). Only the download
is replaced: the rows are read from the local JSONL file.

Also qbuild's other shuffle seeds (src/steps/eval/gpqa.h, the dataset arg shuffle_seeds): the
three-line recipe below (gpqa_order) is checked to give the adapter's order for seed 0, and for
every seed of SEEDS its orders, gold letters and the adapter's own prompt over those orders
(process_sample_input of a Sample built as record_to_sample builds it) go to "shuffle_seeds".

Pinned: CPython 3.11, evalscope==1.12.0.
Run from the repository root:
  /work/venv-evalscope/bin/python tests/golden/scripts/gpqa_oracle.py
writes tests/golden/eval/gpqa_oracle.json.
"""
import hashlib
import importlib.metadata as md
import json
import logging
import os
import random
import sys

if md.version("evalscope") != "1.12.0":
    sys.exit(f"need evalscope 1.12.0, have {md.version('evalscope')}")
logging.disable(logging.WARNING)
from evalscope.api.registry import get_benchmark  # noqa: E402
from evalscope.api.dataset import Sample  # noqa: E402
from evalscope.config import TaskConfig  # noqa: E402

SEEDS = [0, 1, 2, 3, 123456789]


def gpqa_order(question, choices, k):
    """qbuild's shuffle seed k (gpqa.h): seed 0 is evalscope's sha256(question) order."""
    text = question.strip() if k == 0 else f"{k}:{question.strip()}"
    random.Random(int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")).shuffle(choices)


def pre(text):  # the adapter's preprocess
    return " " if text is None else text.strip()


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
a = get_benchmark("gpqa_diamond", TaskConfig(model="dummy", datasets=["gpqa_diamond"]))
assert a.few_shot_num == 0
out = []
seeded = {str(k): [] for k in SEEDS}
with open(os.path.join(ROOT, "data", "datasets", "demo_gpqa_diamond", "train.jsonl"), encoding="utf-8") as f:
    for i, line in enumerate(f):
        record = json.loads(line)
        s = a.record_to_sample(record)
        out.append({"index": i, "prompt": a.process_sample_input(s, subset="default"), "target": s.target,
                    "choices": list(s.choices)})
        for k in SEEDS:
            choices = [pre(record[f"Incorrect Answer {n}"]) for n in (1, 2, 3)] + [pre(record["Correct Answer"])]
            gpqa_order(record["Question"], choices, k)
            target = chr(65 + choices.index(pre(record["Correct Answer"])))
            if k == 0:
                assert choices == list(s.choices) and target == s.target, f"row {i}: the recipe is not evalscope's"
            sk = Sample(input=record["Question"], choices=choices, target=target, subset_key=record.get("subset", ""))
            seeded[str(k)].append({"index": i, "choices": choices, "target": target,
                                   "prompt": a.process_sample_input(sk, subset="default")})
with open(os.path.join(ROOT, "tests", "golden", "eval", "gpqa_oracle.json"), "w", encoding="utf-8") as f:
    json.dump({"evalscope": "1.12.0", "subset_list": a.subset_list, "prompts": out, "shuffle_seeds": seeded}, f,
              indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote tests/golden/eval/gpqa_oracle.json")
