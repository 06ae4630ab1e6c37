#!/usr/bin/env python3
"""llm-compressor's SpinQuantModifier applied to the tiny model fixtures: the weights, the
config.json it writes and the logit deviation, for qb::transforms' golden tests.

Pinned versions (checked at start; the script refuses to run with others):
    torch 2.13.0 (CPU build), transformers 5.17.0, safetensors 0.8.0,
    llmcompressor 0.14.0.1, compressed-tensors 0.19.0

Run from the repository root with the oracle environment:
    .venv-oracle/bin/python tests/golden/scripts/transforms_llmcompressor.py

Inputs: tests/golden/models/<model>/ (made by make_tiny_models.py). Every case uses
transform_type "hadamard" (deterministic Sylvester matrices; the random types draw from torch's
generator, which qbuild does not reproduce) on models whose sizes are powers of two.

Writes tests/golden/transforms/llmc_<case>/:
    model.safetensors   the transformed weights as save_pretrained writes them (fp32; the R4
                        online weight model.layers.0.mlp.down_proj.R4_input.weight as stored)
    expected.json       {"case", "model", "rotations", "center_embeddings",
                         "quantization_config": config.json's entry, "tie_word_embeddings",
                         "prompt": ids, "max_abs_logit_diff": transformed vs source, fp32 eager}
Cases:
    qwen3_r124_centered  qwen3-tiny, R1+R2+R4, llm-compressor as shipped (centers embeddings)
    qwen2_r124           qwen2-tiny (tied, q/k/v bias), R1+R2+R4, embedding centering disabled
                         (patched to a no-op), i.e. qbuild's default center_embeddings: false
Regeneration is deterministic: same versions, same bytes.
"""
import json
import os
import shutil
import sys
import tempfile

import compressed_tensors
import llmcompressor
import safetensors
import torch
import transformers

PINNED = {
    "torch": "2.13.0",
    "transformers": "5.17.0",
    "safetensors": "0.8.0",
    "llmcompressor": "0.14.0.1",
    "compressed_tensors": "0.19.0",
}

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.normpath(os.path.join(HERE, "..", "models"))
OUT = os.path.normpath(os.path.join(HERE, "..", "transforms"))
PROMPT = [3, 17, 42, 99, 7, 250, 128, 64, 5, 200, 31, 77]

CASES = [
    ("qwen3_r124_centered", "qwen3-tiny", ["R1", "R2", "R4"], True),
    ("qwen2_r124", "qwen2-tiny", ["R1", "R2", "R4"], False),
]


def check_versions():
    found = {
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
        "llmcompressor": llmcompressor.__version__,
        "compressed_tensors": compressed_tensors.__version__,
    }
    if found != PINNED:
        sys.exit(f"transforms_llmcompressor.py: pinned versions {PINNED}, found {found}")


def run_case(name, model_name, rotations, center):
    import llmcompressor.modifiers.transform.spinquant.base as spinquant_base
    from llmcompressor import oneshot
    from llmcompressor.modifiers.transform import SpinQuantModifier
    from transformers import AutoModelForCausalLM

    src = os.path.join(MODELS, model_name)
    model = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    ids = torch.tensor([PROMPT])
    with torch.no_grad():
        ref = model(ids).logits
    original_center = spinquant_base.center_embeddings
    if not center:
        spinquant_base.center_embeddings = lambda embedding: None
    try:
        oneshot(model=model, recipe=[SpinQuantModifier(rotations=rotations, transform_type="hadamard")],
                pipeline="datafree")
    finally:
        spinquant_base.center_embeddings = original_center
    with torch.no_grad():
        out = model(ids).logits
    tmp = tempfile.mkdtemp()
    try:
        model.save_pretrained(tmp)
        with open(os.path.join(tmp, "config.json")) as f:
            config = json.load(f)
        dest = os.path.join(OUT, "llmc_" + name)
        os.makedirs(dest, exist_ok=True)
        shutil.copyfile(os.path.join(tmp, "model.safetensors"), os.path.join(dest, "model.safetensors"))
    finally:
        shutil.rmtree(tmp)
    expected = {
        "case": name,
        "model": model_name,
        "rotations": rotations,
        "center_embeddings": center,
        "quantization_config": config["quantization_config"],
        "tie_word_embeddings": config.get("tie_word_embeddings"),
        "prompt": PROMPT,
        "max_abs_logit_diff": float((out - ref).abs().max()),
    }
    with open(os.path.join(dest, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(name, "max |dlogit|", expected["max_abs_logit_diff"])


def main():
    check_versions()
    torch.manual_seed(0)
    for case in CASES:
        run_case(*case)


if __name__ == "__main__":
    main()
