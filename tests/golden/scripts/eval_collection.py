#!/usr/bin/env python3
"""Golden frozen eval sets: evalscope 1.12.0's own collection code (collections/schema.py
flatten + collections/sampler.py WeightedSampler, after random.seed(seed)) and its own prompt
code (utils/multi_choices.py prompt/format_example/FEW_SHOT_TEMPLATE/SINGLE_ANSWER_TEMPLATE_COT,
benchmarks/gsm8k/gsm8k_adapter.py PROMPT_TEMPLATE/FEWSHOT_TEMPLATE/sample_to_fewshot) applied to
the demo datasets in data/datasets/. Only DatasetInfo.get_data (which would download through
evalscope's registry) is replaced: it reads the demo JSONL the way the MMLU/GSM8K adapters do
(record_to_sample; MMLU grouped per subject in SUBJECT_MAPPING order; few-shot = the first
few_shot_num dev/train records; prompts formatted as DefaultDataAdapter.process_sample_input).

Writes tests/golden/eval/collection_<name>.jsonl; the C++ build_eval_set must reproduce each
line's index, prompt text, target, dataset_name, subset_name, weight, tags and categories.

Pinned: CPython 3.11, evalscope 1.12.0 sources (see eval_answers.py for the set-up, plus
evalscope/collections/{sampler,schema}.py and evalscope/benchmarks/{gsm8k/gsm8k_adapter,mmlu/mmlu_adapter}.py
unzipped into .venv-eval-oracle/evalscope_src), pydantic 2.14.3, tqdm 4.70.1.

  .venv-oracle/bin/python tests/golden/scripts/eval_collection.py
"""
import ast
import importlib.util
import json
import os
import random
import sys
import types

import pydantic
import tqdm

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SRC = os.path.join(ROOT, ".venv-eval-oracle", "evalscope_src")
if sys.version_info[:2] != (3, 11) or pydantic.VERSION != "2.14.3" or tqdm.__version__ != "4.70.1":
    sys.exit("need CPython 3.11, pydantic 2.14.3, tqdm 4.70.1")


def stub(name, **attrs):
    m = types.ModuleType(name)
    m.__path__ = []
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


stub("evalscope"); stub("evalscope.api"); stub("evalscope.collections")
stub("evalscope.api.evaluator", Choices=object, Target=object, TaskState=object)
stub("evalscope.api.dataset", DatasetDict=dict)
stub("evalscope.api.registry", get_benchmark=None)
stub("evalscope.config", TaskConfig=None)


def load(modname, rel):
    spec = importlib.util.spec_from_file_location(modname, os.path.join(SRC, rel))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    spec.loader.exec_module(mod)
    return mod


mc = load("evalscope.utils.multi_choices", "evalscope/utils/multi_choices.py")
schema = load("evalscope.collections.schema", "evalscope/collections/schema.py")
sampler = load("evalscope.collections.sampler", "evalscope/collections/sampler.py")

# GSM8K's templates: the module needs evalscope's registry, so evaluate just its two constants.
gsm_src = open(os.path.join(SRC, "evalscope/benchmarks/gsm8k/gsm8k_adapter.py")).read()
consts = {}
for node in ast.parse(gsm_src).body:
    if isinstance(node, ast.Assign) and node.targets[0].id in ("PROMPT_TEMPLATE", "FEWSHOT_TEMPLATE"):
        exec(compile(ast.Module([node], []), "gsm8k_adapter", "exec"), consts)
assert "Please reason step by step" in consts["PROMPT_TEMPLATE"]

def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Sample(pydantic.BaseModel):
    input: list
    choices: list | None = None
    target: str = ""
    id: int | None = None
    group_id: int | None = None
    subset_key: str | None = None
    metadata: dict = {}


class _Choice:
    def __init__(self, v):
        self.value = v


class _Choices(list):
    def __init__(self, values):
        super().__init__(v if isinstance(v, _Choice) else _Choice(v) for v in values)


mc.Choices = _Choices  # answer_options()/prompt() only need len() and .value


class _Target:
    def __init__(self, t):
        self.t = t

    def compact(self):
        return self.t


def mmlu_data(args, subjects_order):
    d = os.path.join(ROOT, "data", "datasets", args["dataset_dir"], "all")
    test, dev = read_jsonl(os.path.join(d, "test.jsonl")), read_jsonl(os.path.join(d, "dev.jsonl"))
    few = args.get("few_shot_num", 5)
    subset_list = args.get("subset_list", subjects_order)
    out = {}
    for s in subset_list:  # DatasetDict.from_dataset: keys in subset_list order
        items = [r for r in test if r["subject"] == s]
        shots = [r for r in dev if r["subject"] == s][:few]
        fewshot = "\n\n".join(mc.format_example(r["question"], r["choices"], _Target("ABCD"[r["answer"]])) for r in shots)
        samples = []
        for i, r in enumerate(items):
            if few > 0:
                text = mc.prompt(r["question"], r["choices"], mc.FEW_SHOT_TEMPLATE + mc.SINGLE_ANSWER_TEMPLATE_COT, fewshot)
            else:
                text = mc.prompt(r["question"], r["choices"], mc.SINGLE_ANSWER_TEMPLATE_COT)
            samples.append(Sample(input=[{"role": "user", "content": text}], choices=r["choices"],
                                  target="ABCD"[r["answer"]], id=i, group_id=i, subset_key=s,
                                  metadata={"subject": s}))
        out[s] = samples
    return out


def gsm8k_data(args):
    d = os.path.join(ROOT, "data", "datasets", args["dataset_dir"], "main")
    test, train = read_jsonl(os.path.join(d, "test.jsonl")), read_jsonl(os.path.join(d, "train.jsonl"))
    few = args.get("few_shot_num", 4)

    def split(rec):  # GSM8KAdapter.record_to_sample
        parts = rec["answer"].split("####")
        target = parts.pop().strip()
        return rec["question"], target, "####".join(parts).strip()

    def to_fewshot(rec):  # GSM8KAdapter.sample_to_fewshot
        q, t, reasoning = split(rec)
        return f"{q}\n\nReasoning:\n" + f"{reasoning}\n\n" + f"ANSWER: \\boxed{{{t}}}"

    fewshot = "\n\n".join(to_fewshot(r) for r in train[:few])
    samples = []
    for i, r in enumerate(test):
        q, t, reasoning = split(r)
        if few > 0:
            text = consts["FEWSHOT_TEMPLATE"].format(fewshot=fewshot, question=q)
        else:
            text = consts["PROMPT_TEMPLATE"].format(question=q)
        samples.append(Sample(input=[{"role": "user", "content": text}], target=t, id=i, group_id=i,
                              metadata={"reasoning": reasoning}))
    return {"main": samples}


# evalscope's SUBJECT_MAPPING keys in order (read from benchmarks/mmlu/mmlu_adapter.py's source,
# which needs evalscope's registry to import).
_mmlu_src = open(os.path.join(SRC, "evalscope/benchmarks/mmlu/mmlu_adapter.py")).read()
SUBJECTS_ORDER = next([k.value for k in n.value.keys] for n in ast.parse(_mmlu_src).body
                      if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "SUBJECT_MAPPING")
assert len(SUBJECTS_ORDER) == 57


def get_data(self):
    if self.name == "mmlu":
        return mmlu_data(self.args, SUBJECTS_ORDER)
    if self.name == "gsm8k":
        return gsm8k_data(self.args)
    raise ValueError(self.name)


schema.DatasetInfo.get_data = get_data

CASES = {
    "flat": ({"name": "demo", "datasets": [
        {"name": "mmlu", "weight": 3, "tags": ["en", "knowledge"], "args": {"dataset_dir": "demo_mmlu", "format": "jsonl"}},
        {"name": "gsm8k", "weight": 1, "task_type": "math", "args": {"dataset_dir": "demo_gsm8k", "format": "jsonl"}}]}, 20, 42),
    "nested": ({"name": "root", "datasets": [
        {"name": "knowledge", "weight": 2, "datasets": [
            {"name": "mmlu", "weight": 1, "args": {"dataset_dir": "demo_mmlu", "format": "jsonl", "few_shot_num": 0,
                                                   "subset_list": ["high_school_geography", "astronomy"]}}]},
        {"name": "math", "weight": 1, "datasets": [
            {"name": "gsm8k", "weight": 1, "args": {"dataset_dir": "demo_gsm8k", "format": "jsonl", "few_shot_num": 2}}]}]}, 31, 7),
    "overdraw": ({"name": "big", "datasets": [
        {"name": "gsm8k", "weight": 9, "args": {"dataset_dir": "demo_gsm8k", "format": "jsonl", "few_shot_num": 0}},
        {"name": "mmlu", "weight": 1, "args": {"dataset_dir": "demo_mmlu", "format": "jsonl", "few_shot_num": 1}}]}, 100, 0),
}


def main():
    for name, (tree, n, seed) in CASES.items():
        col = schema.CollectionSchema.from_dict(tree)
        random.seed(seed)
        rows = sampler.WeightedSampler(col).sample(n)
        out = os.path.join(ROOT, "tests", "golden", "eval", f"collection_{name}.jsonl")
        with open(out, "w", encoding="utf-8") as f:
            f.write(json.dumps({"schema": tree, "count": n, "seed": seed}, ensure_ascii=False) + "\n")
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print("wrote", out, len(rows), "entries")


if __name__ == "__main__":
    main()
