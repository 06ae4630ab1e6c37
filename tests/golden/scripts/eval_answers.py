#!/usr/bin/env python3
"""Golden answers for qbuild's ports of evalscope's answer extraction and scoring:
MMLU (evalscope/utils/multi_choices.py parse_answers, single answer, 4 choices) and GSM8K
(evalscope/metrics/math/parser.py extract_answer, strip_answer_string, math_equal), run by
evalscope 1.12.0's own code on a table of realistic model outputs. Writes
tests/golden/eval/answers.json; the C++ tests must reproduce every row.

Pinned: CPython 3.11; evalscope 1.12.0 (the two source files, loaded by path from the wheel
— the package's heavy imports are stubbed out); word2number 1.1; latex2sympy2_extended 1.11.0
with antlr4-python3-runtime 4.9.3 (as evalscope pins it); sympy 1.14.0. Set up once:

  .venv-oracle/bin/pip download evalscope==1.12.0 --no-deps -d /tmp/evs
  .venv-oracle/bin/pip install --target .venv-eval-oracle word2number==1.1 latex2sympy2_extended==1.11.0
  .venv-oracle/bin/pip install --target .venv-eval-oracle --upgrade --no-deps antlr4-python3-runtime==4.9.3
  mkdir -p .venv-eval-oracle/evalscope_src && unzip -o /tmp/evs/evalscope-1.12.0-py3-none-any.whl \
      evalscope/metrics/math/parser.py evalscope/utils/multi_choices.py -d .venv-eval-oracle/evalscope_src
  .venv-oracle/bin/python tests/golden/scripts/eval_answers.py
"""
import importlib.metadata as md
import importlib.util
import json
import os
import sys
import types

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
LIB = os.path.join(ROOT, ".venv-eval-oracle")
sys.path.insert(0, LIB)

if sys.version_info[:2] != (3, 11):
    sys.exit("need CPython 3.11")
for dist, want in [("word2number", "1.1"), ("latex2sympy2_extended", "1.11.0"),
                   ("antlr4-python3-runtime", "4.9.3"), ("sympy", "1.14.0")]:
    have = md.version(dist)
    if have != want:
        sys.exit(f"need {dist}=={want}, have {have}")

# Stub the evalscope package: multi_choices.py only needs these names at import time.
pkg = types.ModuleType("evalscope"); pkg.__path__ = []
api = types.ModuleType("evalscope.api"); api.__path__ = []
ev = types.ModuleType("evalscope.api.evaluator")
ev.Choices = ev.Target = ev.TaskState = object
sys.modules.update({"evalscope": pkg, "evalscope.api": api, "evalscope.api.evaluator": ev})


def load(name, rel):
    path = os.path.join(LIB, "evalscope_src", rel)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mc = load("multi_choices", "evalscope/utils/multi_choices.py")
mp = load("math_parser", "evalscope/metrics/math/parser.py")
with open(os.path.join(LIB, "evalscope_src", "evalscope/utils/multi_choices.py")) as f:
    assert "_PLAIN_LABEL_RE = re.compile(r'([A-Za-z\\d][A-Za-z\\d ,/、]*)')" in f.read(), "not evalscope 1.12.0"


class _State:
    def __init__(self, text):
        self.choices = [0, 1, 2, 3]
        self.output = types.SimpleNamespace(completion=text)


def mmlu(text):
    # MultiChoiceAdapter.extract_answer: ''.join(sorted(parse_answers(...)))
    return "".join(sorted(mc.parse_answers(_State(text), multiple_correct=False, completion=text)))


# (model output, the letter we expect) — the expectation is checked against evalscope below.
MMLU_CASES = [
    ("The answer follows.\nANSWER: A", "A"),
    ("Reasoning...\nANSWER: B", "B"),
    ("ANSWER: C", "C"),
    ("Let me think. Mars is red.\n\nANSWER: D", "D"),
    ("answer: b", ""),                                   # lowercase label is no label; no capital in text
    ("Answer: b\nSo I pick B.", "B"),                    # marker without a label -> last capital
    ("ANSWER: (B)", "B"),
    ("ANSWER: [C]", "C"),
    ("ANSWER: （D）", "D"),
    ("**ANSWER: B**", "B"),
    ("**Answer:** C", "C"),
    ("ANSWER: B.", "B"),
    ("ANSWER: B, not C", "B"),
    ("ANSWER: B and C", ""),                             # a list is not a single answer: no fallback
    ("ANSWER: AB", ""),
    ("I first thought ANSWER: A, but actually ANSWER: C", "C"),
    ("The format is 'ANSWER: [LETTER]'. ANSWER: D", "D"),
    ("ANSWER: [LETTER]\nHmm, the correct one is B", "B"),  # placeholder marker -> fallback
    ("ANSWER: E", ""),                                   # E is no label; the last capital, E, is not allowed
    ("The correct option is C.", "C"),
    ("I think it's (B) because of X", ""),               # no marker; the last capital X is not allowed
    ("Options A and B are wrong; the answer is c", "B"),
    ("", ""),
    ("no capital letters at all", ""),
    ("Final: Éclair", ""),
    ("ANSWER:D", "D"),
    ("ANSWER : A", "A"),
    ("answer: C", "C"),
    ("ANSWER: B or C", ""),
    ("ANSWER: the best choice is B", "B"),
    ("Therefore, ANSWER: A\n\nWait, let me double check... yes.", "A"),
    ("ANSWER: 2", ""),
    ("ANSWER: (A, C)", ""),
    ("ANSWER: B/C", ""),
    ("Answer：B", "B"),                                  # full-width colon is no marker: fallback
    ("ANSWER: \\boxed{B}", "B"),
    ("ANSWER: B\nANSWER: [LETTER]", "B"),
    ("ANSWER:\n\nC", "C"),
    ("ANSWER: Ｃ", ""),
    ("ÀNSWER: B", "B"),
    ("ANSWER: B. Because A is wrong.", "B"),
    ("The answer is (D).", "D"),
]

# (model output, GSM8K target) — the row records evalscope's extraction and verdict.
GSM8K_CASES = [
    ("She has 12+12 = 24 apples.\n\\boxed{24}", "24"),
    ("So the total is $\\boxed{18}$.", "18"),
    ("\\boxed{\\frac{9}{4}}", "2.25"),
    ("The pizzas: \\boxed{2.25}", "2.25"),
    ("\\boxed{18.0}", "18"),
    ("\\boxed{18.00}", "18"),
    ("The answer is 18.", "18"),
    ("Thus the answer is $1,250$.", "1250"),
    ("So the final answer is 72", "72"),
    ("所以答案是 42\n\n解释……", "42"),
    ("Computation...\nANSWER: 36", "36"),
    ("First 3*4=12, then 12+12=24 apples.", "24"),
    ("She pays 1,000 dollars and gets 250 back, leaving 750.", "750"),
    ("The temperature falls to -5 degrees.", "-5"),
    ("The temperature is \\boxed{-5}", "-5"),
    ("I am not sure.", "7"),
    ("\\boxed{1,250}", "1250"),
    ("\\boxed{\\$52}", "52"),
    ("\\boxed{52 \\text{ dollars}}", "52"),
    ("\\boxed{\\text{52 dollars}}", "52"),
    ("\\boxed{x = 9}", "9"),
    ("\\boxed{36\\%}", "36"),
    ("The answer is 0.18", "18"),
    ("The answer is 1800", "18"),
    ("\\boxed{{24}}", "24"),
    ("\\boxed{\\frac{1}{2} + \\frac{3}{2}}", "2"),
    ("\\boxed{3/4}", "0.75"),
    ("\\boxed{twenty}", "20"),
    ("The answer is twenty-five", "25"),
    ("The answer is one hundred and five", "105"),
    ("\\boxed{\\dfrac{72}{2}}", "36"),
    ("\\boxed{2 \\times 18}", "36"),
    ("Total = 5 + 7 = 12. \\boxed{12} and later 13", "12"),
    ("Both \\boxed{3} and \\boxed{4}", "4"),
    ("\\boxed{5", "5"),
    ("It is unboxed: 5", "5"),
    ("The answer is: 160 kg.", "160"),
    ("The answer is $160$ kg", "160"),
    ("The answer is 160 kg", "160"),
    ("The answer is \\(27\\).", "27"),
    ("final answer is 9/4", "2.25"),
    ("The final answer is $36$. I hope it is correct.", "36"),
    ("The answer is 36.\nNext question: how many?", "36"),
    ("ANSWER: \\boxed{15}", "15"),
    ("We get 7 apples, then 0.5 kg.", "0.5"),
    ("Numbers: 3, 5, 8", "8"),
    ("The answer is 1e3", "1000"),
    ("The answer is 10%", "0.1"),
    ("\\boxed{(3, 4)}", "(3,4)"),
    ("\\boxed{3,4}", "3,4"),
    ("\\boxed{4,3}", "3,4"),
    ("The answer is 007", "7"),
    ("The answer is .5", "0.5"),
    ("The answer is -0.25", "-1/4"),
    ("The answer is k=18", "18"),
    ("\\boxed{18\\text{ cm}^2}", "18"),
    ("\\boxed{18^\\circ}", "18"),
    ("Answer: 18", "18"),
    ("我算出来了。答案是：15", "15"),
    ("\\boxed{\\sqrt{16}}", "4"),
    ("\\boxed{2^3}", "8"),
    ("The answer is x", "5"),
    ("\\boxed{}", "0"),
    ("It is boxed", "5"),
    ("\\boxed 5$ done", "5"),
    ("The answer is 5 apples and 3 oranges", "5"),
    ("The answer is １８", "18"),
    ("Result: ١٢ items", "12"),
    ("The answer is \\$1,234.50", "1234.5"),
    ("The answer is 1,234,567", "1234567"),
    ("\\boxed{-1,234.5}", "-1234.5"),
    ("The answer is 3.", "3"),
    ("the answer is 12", "12"),
    ("The answer is 12\nThe answer is 13", "13"),
    ("\\boxed{\\text{(B)}}", "B"),
    ("The answer is (B)", "B"),
    ("\\boxed{50\\%}", "0.5"),
    ("\\boxed{0.5}", "50%"),
    ("\\boxed{2.5 \\text{ hours}}", "2.5"),
    ("\\boxed{\\frac{5}{0}}", "5"),
    ("Answer is 4 ки", "4"),
    ("The answer is [3, 4]", "[3,4]"),
]


def gsm8k(output, target):
    pred = mp.extract_answer(output)
    ref = mp.strip_answer_string(target)
    return pred, ref, bool(mp.math_equal(pred, ref))


def main():
    rows = {"evalscope": "1.12.0", "mmlu": [], "gsm8k": [], "strip": [], "word2number": []}
    bad = []
    for text, expect in MMLU_CASES:
        got = mmlu(text)
        rows["mmlu"].append({"completion": text, "answer": got})
        if got != expect:
            bad.append(f"mmlu {text!r}: evalscope {got!r}, table says {expect!r}")
    for output, target in GSM8K_CASES:
        pred, ref, ok = gsm8k(output, target)
        rows["gsm8k"].append({"output": output, "target": target, "extracted": pred, "reference": ref, "correct": ok})
    for s in ["1,000", "\\frac12", "\\frac1{72}", "3/4", "03/4", "x=5", "5.000", "\\left( 3 \\right)",
              "\\text{five}", "10\\%", "\\sqrt2", "0.50 cm", "candy", "information", "j+1", "12thgrade",
              "-3, 2, 10", " .5", "\\$1.50", "5\\!000", "\\begin{array}{cc} 1 \\end{array}", "\\emptyset"]:
        rows["strip"].append({"input": s, "output": mp.strip_answer_string(s)})
    for s in ["five", "one hundred and five", "twenty-five", "two thousand three hundred", "three point one four",
              "one million two hundred thousand", "007", "18", "", "apples", "thousand thousand",
              "five point", "point five", "nine hundred ninety nine", "², "]:
        rows["word2number"].append({"input": s, "output": mp.convert_word_number(s)})
    if bad:
        sys.exit("table expectations disagree with evalscope:\n  " + "\n  ".join(bad))
    out = os.path.join(ROOT, "tests", "golden", "eval", "answers.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(rows, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", out, {k: len(v) for k, v in rows.items() if isinstance(v, list)})


if __name__ == "__main__":
    main()
