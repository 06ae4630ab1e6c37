#!/usr/bin/env python3
"""evalscope 1.12.0 as the oracle for qbuild's scorer and collection sampler.

Runs the real evalscope, installed, not stubbed: answers go through the GSM8K and MMLU
adapters exactly as a finished generation does (ModelOutput -> ChatMessageAssistant, which
splits off the first <think> block -> filters -> extract_answer -> the `acc` metric), and the
sampling scenarios through CollectionSchema + WeightedSampler with the benchmarks' own dataset
loading (local Hugging Face-style folders). Inputs: the table tests/golden/eval/scorer_cases.json
(hand-written outputs and scenarios) plus a seeded generator of realistic GSM8K/MMLU outputs
defined below. Output: tests/golden/eval/scorer_oracle.json, which tests/eval/scorer_oracle_test.cc
checks qbuild against.

Pinned (checked below):
  CPython 3.11, evalscope==1.12.0, sympy==1.14.0, latex2sympy2_extended==1.11.0,
  antlr4-python3-runtime==4.9.3 (evalscope requires latex2sympy2_extended[antlr4_9_3]; pip
  releases before 23.3 ignore that extra and install 4.13.2, which answers the same here; never
  4.11, with which sympy's own parse_latex would start working and change the results),
  word2number==1.1.

Set up once and run (from the repository root):
  python3.11 -m venv /work/venv-evalscope
  /work/venv-evalscope/bin/pip install evalscope==1.12.0 antlr4-python3-runtime==4.9.3
  /work/venv-evalscope/bin/python tests/golden/scripts/evalscope_oracle.py
  (--out FILE writes elsewhere; the optional live test tests/eval/scorer_oracle_test.cc does that.)
"""
import argparse
import importlib.metadata as md
import json
import os
import random
import shutil
import sys
import tempfile
import warnings

EVALSCOPE_VERSION = "1.12.0"
PINS = {"evalscope": EVALSCOPE_VERSION, "sympy": "1.14.0", "latex2sympy2_extended": "1.11.0",
        "antlr4-python3-runtime": "4.9.3", "word2number": "1.1"}

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CASES = os.path.join(ROOT, "tests", "golden", "eval", "scorer_cases.json")
OUT = os.path.join(ROOT, "tests", "golden", "eval", "scorer_oracle.json")
MMLU_DIR = os.path.join(ROOT, "tests", "golden", "eval", "sampling", "mmlu")
GSM8K_DIR = os.path.join(ROOT, "data", "datasets", "demo_gsm8k")


def check_pins():
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"need CPython 3.11, have {sys.version.split()[0]}")
    bad = []
    for dist, want in PINS.items():
        try:
            have = md.version(dist)
        except md.PackageNotFoundError:
            have = "not installed"
        if have != want and not (dist == "antlr4-python3-runtime" and have == "4.13.2"):
            bad.append(f"{dist}=={want} (have {have})")
    if bad:
        sys.exit("need " + ", ".join(bad))


# ---- scoring ---------------------------------------------------------------------------------


def make_adapters():
    from evalscope.api.registry import get_benchmark
    from evalscope.config import TaskConfig

    def adapter(name, filters=None):
        args = {name: {"filters": filters}} if filters else {}
        return get_benchmark(name, config=TaskConfig(datasets=[name], dataset_args=args))

    cache = {}

    def get(name, remove_until=""):
        key = (name, remove_until)
        if key not in cache:
            cache[key] = adapter(name, {"remove_until": remove_until} if remove_until else None)
        return cache[key]

    return get


def score(get_adapter, benchmark, case):
    from evalscope.api.dataset import Sample
    from evalscope.api.evaluator import TaskState
    from evalscope.api.messages import ChatMessageUser
    from evalscope.api.model import ModelOutput
    from evalscope.metrics.math.parser import strip_answer_string

    ad = get_adapter(benchmark, case.get("remove_until", ""))
    choices = [f"option {i}" for i in range(case.get("num_choices", 4))] if benchmark == "mmlu" else None
    sample = Sample(input=[ChatMessageUser(content="question")], target=case["gold"], choices=choices)
    state = TaskState(model="m", sample=sample, messages=sample.input,
                      output=ModelOutput.from_content(model="m", content=case["output"]), completed=True)
    result = ad.calculate_metrics(state)
    row = dict(case)
    row["completion"] = state.output.completion
    row["extracted"] = result.score.extracted_prediction
    row["correct"] = bool(list(result.score.value.values())[0] > 0.5) if result.score.value else None
    if benchmark == "gsm8k":
        row["reference"] = strip_answer_string(case["gold"])
    return row


# A seeded generator of GSM8K outputs the way models write them: a short reasoning line, then the
# final answer in one of the forms evalscope's extraction handles, in one of the notations models
# use for numbers (fractions, mixed numbers, powers, units, money, percentages, Unicode minus…).
def generated_gsm8k(n, seed):
    r = random.Random(seed)
    out = []

    def number_forms(v):
        """(text, gold) pairs for a value v in many notations."""
        forms = [(str(v), v)]
        if isinstance(v, int):
            forms += [(f"{v:,}", v), (f"{v}.00", v), (f"{v}.0", v), (f"\\${v}", v), (f"\\${v:,}.00", v),
                      (f"{v} \\text{{ dollars}}", v), (f"{v}\\text{{ apples}}", v), (f"{v} apples", v),
                      (f"{v}\\%", v), (f"\\text{{{v}}}", v), (f"{{{v}}}", v), (f"({v})", v), (f"{v}^{{\\circ}}", v)]
            if v > 0:
                forms += [(f"−{v}", -v), (f"-{v}", -v), (f"\\frac{{{2 * v}}}{{2}}", v), (f"{v // 2} + {v - v // 2}", v),
                          (f"{v}\\cdot 1", v), (f"2 \\times {v}", 2 * v), (f"{v}/1", v), (f"{v}:1", v)]
            if 1 < v < 40:
                forms += [(f"{v}^2", v * v), (f"{v}^{{2}}", v * v), (f"\\sqrt{{{v * v}}}", v), (f"{v}!", None)]
            if v >= 1000:
                forms += [(f"{v / 1000:g} \\times 10^{{3}}", v), (f"{v / 1000:g} \\times 10^3", v), (f"{v / 1000:g}k", v),
                          (f"{v // 1000}\\,{v % 1000:03d}", v), (f"{v // 1000},\\!{v % 1000:03d}", v)]
        else:
            whole, frac = divmod(v, 1)
            forms += [(f"{v:.2f}", v), (f"{v:g}", v), (f"\\${v:.2f}", v)]
            for den in (2, 4, 5, 8):
                num = frac * den
                if abs(num - round(num)) < 1e-9 and round(num) > 0:
                    num = int(round(num))
                    forms += [(f"\\frac{{{int(whole) * den + num}}}{{{den}}}", v), (f"{int(whole)}\\frac{{{num}}}{{{den}}}", v),
                              (f"{int(whole)} \\frac{{{num}}}{{{den}}}", v), (f"\\dfrac{{{int(whole) * den + num}}}{{{den}}}", v),
                              (f"{int(whole) * den + num}/{den}", v)]
        return forms

    contexts = [
        lambda a: f"Let's compute step by step.\nSo the total is \\boxed{{{a}}}.",
        lambda a: f"Step 1: add.\nStep 2: multiply.\nThe answer is {a}.",
        lambda a: f"The final answer is ${a}$. I hope it is correct.",
        lambda a: f"<think>\nHmm, maybe 99? Let me recheck... 7*3 = 21.\n</think>\n\nThe answer is \\boxed{{{a}}}",
        lambda a: f"We get:\n\nANSWER: {a}",
        lambda a: f"所以答案是 {a}\n\n",
        lambda a: f"First 3 + 4 = 7, then we have {a}",
        lambda a: f"**Final Answer**\n\\[\n\\boxed{{{a}}}\n\\]",
        lambda a: f"The answer is: $\\boxed{{{a}}}$",
    ]
    while len(out) < n:
        v = r.choice([r.randint(0, 60), r.randint(60, 2000), r.randint(1000, 99999), r.choice([0.5, 1.25, 2.5, 3.75, 12.5, 7.2])])
        text, value = r.choice(number_forms(v))
        # the gold: usually the value, sometimes off by one or a scaled version (wrong answers)
        kind = r.random()
        if value is None or kind < 0.15:
            gold = v + r.choice([1, -1, 10])
        elif kind < 0.2:
            gold = v * 100
        else:
            gold = value
        if isinstance(gold, float) and gold == int(gold):
            gold = int(gold)
        out.append({"output": r.choice(contexts)(text), "gold": str(gold), "note": "generated"})
    return out


# LaTeX final answers that reach math_equal's symbolic fallback (neither side a plain number):
# thin spaces and {,} in thousands, signed fractions, mixed numbers, powers with and without
# braces, scientific notation, ratios, approximations, units in \text / \mathrm, roots, pi, e,
# factorials, sets and tuples, and the Unicode minus.
def generated_latex(n, seed):
    r = random.Random(seed)

    def i():
        return r.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 20, 24, 25, 36, 48, 50, 72, 100, 120, 250, 1000, 1234, 2500])

    def f():
        return r.choice([0.5, 1.5, 2.25, 3.75, 0.25, 12.5, 0.1, 7.2])

    forms = [
        lambda: f"{i()}\\,{i() % 1000:03d}", lambda: f"{i()}{{,}}000", lambda: f"{i()}\\ 000",
        lambda: f"\\frac{{{r.choice(['-', ''])}{i()}}}{{{i()}}}", lambda: f"-\\frac{{{i()}}}{{{i()}}}",
        lambda: f"\\frac{{{i()}}}{{-{i()}}}", lambda: f"{i()}\\frac{{{r.randint(1, 3)}}}{{{r.randint(2, 5)}}}",
        lambda: f"−{i()}\\frac{{1}}{{2}}", lambda: f"{i()}^{{{r.randint(0, 4)}}}", lambda: f"{i()}^{r.randint(0, 9)}",
        lambda: f"{f()} \\times 10^{{{r.randint(-2, 5)}}}", lambda: f"{f()}\\cdot10^{r.randint(1, 5)}",
        lambda: f"{r.randint(1, 5)}:{r.randint(1, 5)}", lambda: f"\\approx {f()}", lambda: f"x \\approx {i()}",
        lambda: f"\\frac{{{i()}}}{{{i()}}} \\approx {f()}", lambda: f"\\$\\frac{{{i()}}}{{{i()}}}", lambda: f"{i()}°",
        lambda: f"{i()} \\mathrm{{m}}", lambda: f"\\sqrt{{{i()}}}", lambda: f"{r.randint(2, 5)}\\sqrt{{{r.randint(2, 7)}}}",
        lambda: f"{i()}\\pi", lambda: f"\\frac{{{i()}}}{{{i()}}}\\pi", lambda: f"{i()}/{i()} cups", lambda: f"−\\${i()}",
        lambda: f"−{f()}", lambda: f"[{i()}, {i()}]", lambda: f"({i()}, {i()})", lambda: f"x = {i()}\\frac{{1}}{{2}}",
        lambda: f"n = 10^{r.randint(1, 6)}", lambda: f"{i()} \\text{{hours}} {i()} \\text{{minutes}}",
        lambda: f"\\frac{{{i()}}}{{{i()}}}\\%", lambda: f"{i()}+{i()}", lambda: f"{i()}\\times{i()}", lambda: f"{i()} \\div {i()}",
        lambda: f"({i()}+{i()})\\times{i()}", lambda: f"{i()}!", lambda: f"{i()}\\tfrac{{1}}{{4}}", lambda: f"\\{{{i()}\\}}",
        lambda: f"\\textbf{{{i()}}}", lambda: f"\\mathrm{{{i()}}}", lambda: f"{i()}\\text{{km}}^2", lambda: f"{i()}e{r.randint(1, 3)}",
        lambda: f"{f()}E{r.randint(1, 3)}", lambda: f"{i()}\\cdot e", lambda: f"{i()} \\pm {i()}", lambda: f"{i()} \\text{{ or }} {i()}",
        lambda: f"-{i()}^{{2}}", lambda: f"(-{i()})^{{2}}", lambda: f"{i()}^{{\\frac{{1}}{{2}}}}", lambda: f"\\sqrt[{r.randint(2, 3)}]{{{i()}}}",
        lambda: f"|{-i()}|", lambda: f"{i()}(2)", lambda: f"{{{i()}}}{{{i()}}}",
    ]
    wraps = [lambda a: f"\\boxed{{{a}}}", lambda a: f"The answer is {a}", lambda a: f"The answer is ${a}$.", lambda a: f"ANSWER: {a}"]
    from latex2sympy2_extended import latex2sympy
    from sympy import N

    def value(a):  # the answer's value as latex2sympy reads it, as a gold that should match
        try:
            return f"{float(N(latex2sympy(a))):.6g}"
        except Exception:
            return None

    out = []
    while len(out) < n:
        a = r.choice(forms)()
        gold = value(a) if r.random() < 0.5 else None
        if gold is None:
            gold = r.choice([str(i()), str(f()), "0.5", "1", "2.5", "1000", "5", "4", "24"])
        out.append({"output": r.choice(wraps)(a), "gold": gold, "note": "generated latex"})
    return out


def generated_mmlu(n, seed):
    r = random.Random(seed)
    out = []
    forms = [
        lambda l: f"Let's think. The key fact is X.\nANSWER: {l}",
        lambda l: f"ANSWER: ({l})",
        lambda l: f"**Answer:** {l}",
        lambda l: f"The correct option is {l}.",
        lambda l: f"<think>\nOption A is tempting, ANSWER: A? No.\n</think>\n\nANSWER: {l}",
        lambda l: f"I think it is {l.lower()}.",
        lambda l: f"ANSWER: {l}, because B is wrong",
        lambda l: f"ANSWER: [{l}]",
        lambda l: f"Reasoning... so the answer must be {l}\n\nANSWER: {l}.",
        lambda l: f"ANSWER: {l} and B",
        lambda l: f"Final answer: {l}",
        lambda l: f"answer: {l}",
    ]
    while len(out) < n:
        letter = r.choice("ABCD")
        gold = letter if r.random() < 0.7 else r.choice("ABCD")
        out.append({"output": r.choice(forms)(letter), "gold": gold, "num_choices": 4, "note": "generated"})
    return out


# ---- sampling ----------------------------------------------------------------------------------


def hf_folder(tmp, name, src, config, splits):
    """A local dataset folder Hugging Face `datasets` loads by config name, as evalscope asks."""
    dst = os.path.join(tmp, name)
    shutil.copytree(src, dst)
    lines = ["---", "configs:", f"- config_name: {config}", "  data_files:"]
    for split in splits:
        lines += [f"  - split: {split}", f"    path: {config}/{split}.jsonl"]
    lines.append("---")
    with open(os.path.join(dst, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return dst


def with_data(tree, paths):
    """The scenario tree with each dataset's local_path set (evalscope's DatasetInfo.args)."""
    tree = json.loads(json.dumps(tree))
    for d in tree["datasets"]:
        if "datasets" in d:
            d.update(with_data(d, paths))
        else:
            d.setdefault("args", {})["local_path"] = paths[d["name"]]
    return tree


def sample(scenario, paths):
    from evalscope.collections import CollectionSchema, WeightedSampler

    random.seed(scenario["seed"])
    rows = WeightedSampler(CollectionSchema.from_dict(with_data(scenario["tree"], paths))).sample(scenario["total"])
    entries = []
    for e in rows:
        p = e["prompt"]
        entries.append({"dataset_name": e["dataset_name"], "subset_name": e["subset_name"], "id": p.get("id"),
                        "target": p.get("target"), "prompt": p["input"][0]["content"], "weight": e["weight"],
                        "categories": e["categories"], "tags": e["tags"]})
    return entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--cases", default=CASES)
    args = ap.parse_args()
    check_pins()
    warnings.simplefilter("ignore")
    tmp = tempfile.mkdtemp(prefix="evalscope_oracle_")
    # A fresh `datasets` cache: its cache keys do not see that a local folder's files changed.
    os.environ["HF_DATASETS_CACHE"] = os.path.join(tmp, "hf_cache")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    import logging
    logging.disable(logging.WARNING)

    try:
        with open(args.cases, encoding="utf-8") as f:
            cases = json.load(f)
        result = {"evalscope": EVALSCOPE_VERSION, "pins": {k: md.version(k) for k in PINS}}
        get_adapter = make_adapters()
        result["gsm8k"] = [score(get_adapter, "gsm8k", c) for c in cases["gsm8k"]]
        result["mmlu"] = [score(get_adapter, "mmlu", c) for c in cases["mmlu"]]
        gen = cases["generated"]
        result["generated_gsm8k"] = [score(get_adapter, "gsm8k", c) for c in generated_gsm8k(gen["gsm8k"], gen["seed"])]
        result["generated_latex"] = [score(get_adapter, "gsm8k", c) for c in generated_latex(gen["latex"], gen["seed"])]
        result["generated_mmlu"] = [score(get_adapter, "mmlu", c) for c in generated_mmlu(gen["mmlu"], gen["seed"])]

        paths = {"mmlu": hf_folder(tmp, "mmlu", MMLU_DIR, "all", ["test", "dev"]),
                 "gsm8k": hf_folder(tmp, "gsm8k", GSM8K_DIR, "main", ["test", "train"])}
        for name in ("mmlu", "gsm8k"):  # keep only the JSONL files the README names
            for root, _, files in os.walk(paths[name]):
                for fn in files:
                    if not fn.endswith((".jsonl", ".md")):
                        os.remove(os.path.join(root, fn))
        result["sampling"] = []
        for sc in cases["sampling"]:
            row = dict(sc)
            row["entries"] = sample(sc, paths)
            result["sampling"].append(row)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", args.out, {k: len(v) for k, v in result.items() if isinstance(v, list)})


if __name__ == "__main__":
    main()
