#!/usr/bin/env python3
"""lm-evaluation-harness 0.4.13 as the oracle for qbuild's perplexity and multiple-choice tasks.

Runs the real harness, installed, not stubbed: each task's own YAML (lm_eval/tasks/...) with its
!function preprocessing, only the dataset source swapped for the local samples qbuild ships
(data/datasets/demo_*, written by lm_eval_demo_datasets.py), through HFLM on a model folder in
float32 on the CPU, with log_samples. For every document it records the requests exactly as the
harness built them (context and continuation strings), the log-likelihoods, and the task
metrics (acc, acc_norm, word_perplexity, byte_perplexity, bits_per_byte). Output:
tests/golden/eval/lm_eval_oracle.json, which tests/eval/lm_eval_oracle_test.cc (the strings,
torch-free) and tests/kinds/lm_eval_numbers_test.cc (the numbers, on the same model) check qbuild
against.

The model is qbuild's deterministic random "demo" shape in float32 (2 layers, hidden 64, Qwen3's
real tokenizer): `qbuild random-model --shape demo --dtype float32 --seed 7 --tokenizer
data/tokenizers/qwen3 --out DIR`. max_length is 48 so that the WikiText pages span several
rolling windows.

Pinned (checked below): CPython 3.11, lm-eval==0.4.13, torch==2.13.0 (CPU), transformers==5.25.0,
datasets==5.2.0.

Set up once and run (from the repository root):
  python3.11 -m venv /work/venv-lmeval
  /work/venv-lmeval/bin/pip install /opt/wheels/torch-2.13.0+cpu-*.whl   # or torch==2.13.0 from the CPU index
  /work/venv-lmeval/bin/pip install lm-eval==0.4.13 transformers==5.25.0 datasets==5.2.0
  build/src/cli/qbuild random-model --shape demo --dtype float32 --seed 7 --tokenizer data/tokenizers/qwen3 --out /tmp/lmeval-model
  /work/venv-lmeval/bin/python tests/golden/scripts/lm_eval_oracle.py --model /tmp/lmeval-model
  (--out FILE writes elsewhere; the optional live test does that.)
"""
import argparse
import importlib.metadata as md
import json
import logging
import os
import sys

PINS = {"lm_eval": "0.4.13", "torch": "2.13.0+cpu", "transformers": "5.25.0", "datasets": "5.2.0"}
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(ROOT, "data", "datasets")
MAX_LENGTH = 48

# task -> (builder, files per split)
TASKS = {
    "arc_challenge": ("json", {"test": "demo_arc/ARC-Challenge/test.jsonl"}),
    "arc_easy": ("parquet", {"test": "demo_arc/ARC-Easy/test-00000-of-00001.parquet"}),
    "hellaswag": ("parquet", {"validation": "demo_hellaswag/data/validation-00000-of-00001.parquet"}),
    "winogrande": ("json", {"validation": "demo_winogrande/winogrande_xl/validation.jsonl"}),
    "piqa": ("json", {"validation": "demo_piqa/validation.jsonl"}),
    "wikitext": ("json", {"test": "demo_wikitext/wikitext-2-raw-v1/test.jsonl"}),
}


def check_pins():
    bad = []
    for pkg, want in PINS.items():
        try:
            have = md.version(pkg.replace("_", "-"))
        except md.PackageNotFoundError:
            have = None
        if have != want:
            bad.append(f"{pkg}=={want} (found {have})")
    if sys.version_info[:2] != (3, 11):
        bad.append(f"CPython 3.11 (found {sys.version.split()[0]})")
    if bad:
        sys.exit("lm_eval_oracle.py needs " + ", ".join(bad))


def build_task(name):
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._yaml_loader import load_yaml

    tm = TaskManager()
    entry = tm._entry(name)
    cfg = dict(load_yaml(entry.yaml_path, resolve_func=True))
    if "include" in cfg:  # arc_challenge includes arc_easy.yaml
        base = dict(load_yaml(os.path.join(os.path.dirname(entry.yaml_path), cfg.pop("include")), resolve_func=True))
        base.update(cfg)
        cfg = base
    builder, files = TASKS[name]
    cfg.pop("tag", None)
    cfg["dataset_path"] = builder
    cfg["dataset_name"] = None
    cfg["dataset_kwargs"] = {"data_files": {split: os.path.join(DATA, f) for split, f in files.items()}}
    # The demo samples have only the evaluated split.
    for split_key in ("training_split", "validation_split", "test_split"):
        if cfg.get(split_key) not in files:
            cfg[split_key] = None
    return ConfigurableTask(config=cfg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "eval", "lm_eval_oracle.json"))
    args = ap.parse_args()
    check_pins()
    logging.disable(logging.WARNING)
    from lm_eval import evaluator
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=args.model, dtype="float32", device="cpu", batch_size=4, max_length=MAX_LENGTH)
    out = {"lm_eval": PINS["lm_eval"], "max_length": MAX_LENGTH, "prefix_token_id": lm.prefix_token_id,
           "model": "qbuild random-model --shape demo --dtype float32 --seed 7 --tokenizer data/tokenizers/qwen3",
           "tasks": {}}
    for name in TASKS:
        task = build_task(name)
        res = evaluator.evaluate(lm=lm, task_dict={"tasks": {name: task}, "groups": {}, "group_map": {}},
                                 log_samples=True, bootstrap_iters=0, verbosity="ERROR")
        metrics = {k.split(",")[0]: v for k, v in res["results"][name].items()
                   if k.split(",")[0] in ("acc", "acc_norm", "word_perplexity", "byte_perplexity", "bits_per_byte")}
        docs = []
        for s in sorted(res["samples"][name], key=lambda s: s["doc_id"]):
            d = {"doc_id": s["doc_id"], "arguments": [[a for a in args_] for args_ in
                                                      [r for r in s["arguments"]]]}
            if task.OUTPUT_TYPE == "loglikelihood_rolling":
                d["loglikelihood"] = float(s["resps"][0][0])
                d["words"], d["bytes"] = s["word_perplexity"][1], s["byte_perplexity"][1]
            else:
                d["loglikelihoods"] = [float(r[0][0]) for r in s["resps"]]
                # The gold choice index as the harness scores it (multiple-input tasks: doc_to_text).
                gold = task.doc_to_text(s["doc"]) if task.multiple_input else task.doc_to_target(s["doc"])
                d["gold"] = int(gold)
                d["acc"] = s["acc"]
                if "acc_norm" in s:
                    d["acc_norm"] = s["acc_norm"]
            docs.append(d)
        out["tasks"][name] = {"metrics": metrics, "docs": docs}
        print(name, metrics)
    # The harness's window arithmetic on its own (lm_eval/utils.py), on token lists 100..100+n-1.
    from lm_eval import utils
    out["rolling_windows"] = []
    for max_len in (1, 3, 5, 48):
        for n in (0, 1, 2, 5, 13, 48, 49, 100):
            wins = list(map(utils.make_disjoint_window, utils.get_rolling_token_windows(
                token_list=list(range(100, 100 + n)), prefix_token=7, max_seq_len=max_len, context_len=1)))
            out["rolling_windows"].append({"n": n, "max_len": max_len, "windows": [[list(a), list(b)] for a, b in wins]})
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
