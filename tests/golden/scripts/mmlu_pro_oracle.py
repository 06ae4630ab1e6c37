#!/usr/bin/env python3
"""evalscope 1.12.0 as the oracle for qbuild's MMLU-Pro prompts: the real MMLUProAdapter
(evalscope/benchmarks/mmlu_pro/mmlu_pro_adapter.py: record_to_sample, sample_to_fewshot,
format_fewshot_template; DefaultDataAdapter.process_sample_input; DatasetDict.from_dataset for
the subsets, in SUBSET_LIST order, and for the few-shot split with limit=few_shot_num) over the
authored sample data/datasets/demo_mmlu_pro (tests/golden/scripts/mmlu_pro_demo_dataset.py). Only
the download is replaced: the rows are read from the local JSONL files. For each few_shot_num in
(0, 5): every test sample of every subset with its prompt, target and choices.

Also the answer extraction of MMLUProAdapter (MultiChoiceAdapter.extract_answer, parse_answers
with the sample's options) on a table of outputs, as evalscope scores them.

Pinned: CPython 3.11, evalscope==1.12.0 (pip install evalscope==1.12.0 into /work/venv-evalscope).
Run from the repository root:
  /work/venv-evalscope/bin/python tests/golden/scripts/mmlu_pro_oracle.py
writes tests/golden/eval/mmlu_pro_oracle.json.
"""
import importlib.metadata as md
import json
import logging
import os
import sys

if md.version("evalscope") != "1.12.0":
    sys.exit(f"need evalscope 1.12.0, have {md.version('evalscope')}")
logging.disable(logging.WARNING)

from evalscope.api.dataset import DatasetDict, MemoryDataset  # noqa: E402
from evalscope.api.evaluator import TaskState  # noqa: E402
from evalscope.api.registry import get_benchmark  # noqa: E402
from evalscope.config import TaskConfig  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(ROOT, "data", "datasets", "demo_mmlu_pro", "data")


def rows(split):
    with open(os.path.join(DATA, f"{split}.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def prompts(few_shot_num, subset_list=None):
    args = {"few_shot_num": few_shot_num}
    if subset_list:
        args["subset_list"] = subset_list
    cfg = TaskConfig(model="dummy", datasets=["mmlu_pro"], dataset_args={"mmlu_pro": args})
    a = get_benchmark("mmlu_pro", cfg)
    assert a.few_shot_num == few_shot_num
    test = DatasetDict.from_dataset(MemoryDataset([a.record_to_sample(r) for r in rows("test")]), a.subset_list)
    if few_shot_num > 0:
        a.fewshot_dataset = DatasetDict.from_dataset(
            MemoryDataset([a.record_to_sample(r) for r in rows("validation")]), a.subset_list, limit=few_shot_num)
    out = []
    for subset in test.keys():
        for i, s in enumerate(test[subset]):
            out.append({"subset": subset, "subset_id": i, "question_id": s.metadata["question_id"],
                        "prompt": a.process_sample_input(s, subset=subset), "target": s.target,
                        "choices": list(s.choices)})
    return a, out


def extraction_table(a):
    cases = [
        ("ANSWER: J", 10), ("Let me think... ANSWER: (H)", 10), ("answer: g.", 10), ("ANSWER: J", 4),
        ("The answer is (C).", 10), ("I pick E", 10), ("ANSWER: B and C", 10), ("ANSWER: **I**", 10),
        ("ANSWER: A\n...\nANSWER: F", 7), ("no letter here", 10), ("ANSWER: K", 10),
    ]
    out = []
    for text, n in cases:
        opts = [f"option {k}" for k in range(n)]
        from evalscope.api.dataset import Sample
        sample = Sample(input="q", choices=opts, target="A")
        state = TaskState(model="dummy", sample=sample, messages=[], output=None, completed=True)
        out.append({"output": text, "num_choices": n, "extracted": a.extract_answer(text, state)})
    return out


result = {"evalscope": "1.12.0", "prompts": {}}
a, result["prompts"]["0"] = prompts(0)
# 5-shot: 'computer science' has no validation rows, so evalscope stops with an assertion (the
# empty subset is in the few-shot DatasetDict, so its first-subset fallback never runs); the
# golden 5-shot prompts are those of subset_list [math, physics].
try:
    prompts(5)
    sys.exit("expected evalscope to refuse a subset without few-shot examples")
except AssertionError as e:
    result["fewshot_error"] = str(e)
result["prompts"]["5"] = prompts(5, ["math", "physics"])[1]
result["extraction"] = extraction_table(a)
with open(os.path.join(ROOT, "tests", "golden", "eval", "mmlu_pro_oracle.json"), "w", encoding="utf-8") as f:
    json.dump(result, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote tests/golden/eval/mmlu_pro_oracle.json")
