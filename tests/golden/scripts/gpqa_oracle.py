#!/usr/bin/env python3
"""evalscope 1.12.0 as the oracle for qbuild's GPQA-Diamond: the real GPQAAdapter
(evalscope/benchmarks/gpqa/gpqa_adapter.py: record_to_sample with its sha256-seeded shuffle of
the answers, the zero-shot SINGLE_ANSWER_COT prompt) over the authored sample
data/datasets/demo_gpqa_diamond (tests/golden/scripts/gpqa_demo_dataset.py). Only the download
is replaced: the rows are read from the local JSONL file.

Pinned: CPython 3.11, evalscope==1.12.0.
Run from the repository root:
  /work/venv-evalscope/bin/python tests/golden/scripts/gpqa_oracle.py
writes tests/golden/eval/gpqa_oracle.json.
"""
import importlib.metadata as md
import json
import logging
import os
import sys

if md.version("evalscope") != "1.12.0":
    sys.exit(f"need evalscope 1.12.0, have {md.version('evalscope')}")
logging.disable(logging.WARNING)
from evalscope.api.registry import get_benchmark  # noqa: E402
from evalscope.config import TaskConfig  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
a = get_benchmark("gpqa_diamond", TaskConfig(model="dummy", datasets=["gpqa_diamond"]))
assert a.few_shot_num == 0
out = []
with open(os.path.join(ROOT, "data", "datasets", "demo_gpqa_diamond", "train.jsonl"), encoding="utf-8") as f:
    for i, line in enumerate(f):
        s = a.record_to_sample(json.loads(line))
        out.append({"index": i, "prompt": a.process_sample_input(s, subset="default"), "target": s.target,
                    "choices": list(s.choices)})
with open(os.path.join(ROOT, "tests", "golden", "eval", "gpqa_oracle.json"), "w", encoding="utf-8") as f:
    json.dump({"evalscope": "1.12.0", "subset_list": a.subset_list, "prompts": out}, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote tests/golden/eval/gpqa_oracle.json")
