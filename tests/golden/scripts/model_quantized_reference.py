#!/usr/bin/env python3
"""Reference outputs of the quantized tiny models, for qb::model's loader of compressed-tensors
checkpoints (int-quantized W8A8, pack-quantized weight-only).

Pinned versions (checked at start; the script refuses to run with others):
    torch 2.13.0 (CPU build), transformers 5.17.0, safetensors 0.8.0, compressed-tensors 0.19.0

Run from the repository root with the oracle environment:
    .venv-oracle/bin/python tests/golden/scripts/model_quantized_reference.py

Inputs (read only):
    tests/golden/models/qwen3-tiny/            the source model (make_tiny_models.py)
    tests/golden/quant/oneshot/<variant>/      quantized Linear tensors + quantization_config
                                               (llm-compressor oneshot; quant_golden.py)
A checkpoint is the source model with each quantized Linear's tensors replaced by the variant's.

The reference is an explicit emulation of how vLLM serves these checkpoints, written here from
the formats' definitions (not from qbuild's code):
    W8A8 int8 (int-quantized): x -> int8 per token dynamically (s = absmax / 127,
        q = saturate(round_half_even(x * (127 / absmax))), a zero row -> 0) or statically
        (q = saturate(round_half_even(x / input_scale))); exact integer GEMM with the int8
        weight (float64 products of integers); y = acc * s_x * s_w, in fp32.
    weight-only (pack-quantized): W = unpack_from_int32(weight_packed) * scale (per group), in
        the scale's dtype; y = x W^T.
For weight-only and static W8A8 the emulation equals the fake-quantized forward of transformers'
own compressed-tensors loading up to float rounding; the script checks that (hf_max_abs_diff).
Dynamic W8A8 differs from it on purpose (compressed-tensors fake-quant uses absmax / 127.5).

Writes tests/golden/models/quantized_reference.json:
    {"prompts": qwen3-tiny's prompts, "variants": {name: {"logits_last": [P][V],
     "greedy": [P][8], "greedy_min_margin", "hf_max_abs_diff"}}}
Floats with 7 significant digits. Regeneration is deterministic.
"""
import json
import os
import shutil
import sys
import tempfile

import compressed_tensors
import safetensors
import torch
import transformers
from compressed_tensors.compressors.pack_quantized.helpers import unpack_from_int32
from safetensors.torch import load_file, save_file

PINNED = {"torch": "2.13.0", "transformers": "5.17.0", "safetensors": "0.8.0",
          "compressed-tensors": "0.19.0"}

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
SOURCE = os.path.join(ROOT, "tests", "golden", "models", "qwen3-tiny")
VARIANTS = os.path.join(ROOT, "tests", "golden", "quant", "oneshot")
OUT = os.path.join(ROOT, "tests", "golden", "models", "quantized_reference.json")
NEW_TOKENS = 8


def check_versions():
    found = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
             "safetensors": safetensors.__version__,
             "compressed-tensors": compressed_tensors.__version__}
    if found != PINNED:
        sys.exit(f"model_quantized_reference.py: pinned versions {PINNED}, found {found}")


def floats(t):
    return [float(f"{x:.7g}") for x in t.reshape(-1).tolist()]


class W8A8(torch.nn.Module):
    def __init__(self, w, w_scale, input_scale):
        super().__init__()
        self.w, self.w_scale, self.input_scale = w, w_scale.float().reshape(1, -1), input_scale

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1]).float()
        if self.input_scale is None:
            absmax = x.abs().amax(-1, keepdim=True)
            inv = torch.where(absmax > 0, 127.0 / absmax, torch.zeros_like(absmax))
            q = torch.clamp(torch.round(x * inv), -128, 127)
            s = absmax / 127.0
        else:
            s = self.input_scale.float().reshape(1, 1)
            q = torch.clamp(torch.round(x / s), -128, 127)
        acc = q.double() @ self.w.double().t()  # exact: integers below 2^53
        y = acc.float() * s * self.w_scale
        return y.reshape(*shape[:-1], -1)


def emulated_model(variant, qconfig):
    model = transformers.AutoModelForCausalLM.from_pretrained(SOURCE, dtype=torch.float32).eval()
    model.config._attn_implementation = "eager"
    q = load_file(os.path.join(VARIANTS, variant, "quantized.safetensors"))
    group = qconfig["config_groups"]["group_0"]
    fmt = group.get("format") or qconfig["format"]
    modules = sorted({k.rsplit(".", 1)[0] for k in q})
    for name in modules:
        parent, child = name.rsplit(".", 1)
        if fmt == "int-quantized":
            new = W8A8(q[name + ".weight"], q[name + ".weight_scale"], q.get(name + ".input_scale"))
        elif fmt == "pack-quantized":
            bits = group["weights"]["num_bits"]
            shape = q[name + ".weight_shape"].tolist()
            codes = unpack_from_int32(q[name + ".weight_packed"], bits, torch.Size(shape))
            scale = q[name + ".weight_scale"]
            g = shape[1] // scale.shape[1]
            w = (codes.to(scale.dtype).reshape(shape[0], -1, g) * scale.unsqueeze(-1))
            new = torch.nn.Linear(shape[1], shape[0], bias=False)
            new.weight.data = w.reshape(shape).float()
        else:
            sys.exit(f"{variant}: unexpected format {fmt}")
        setattr(model.get_submodule(parent), child, new)
    return model


def hf_loaded_model(variant, qconfig, workdir):
    """transformers' own loading of the assembled compressed checkpoint."""
    d = os.path.join(workdir, variant)
    os.makedirs(d)
    tensors = load_file(os.path.join(SOURCE, "model.safetensors"))
    q = load_file(os.path.join(VARIANTS, variant, "quantized.safetensors"))
    for name in {k.rsplit(".", 1)[0] for k in q}:
        tensors.pop(name + ".weight", None)
    tensors.update(q)
    save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(SOURCE, "config.json")) as f:
        config = json.load(f)
    config["quantization_config"] = qconfig
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f)
    shutil.copy(os.path.join(SOURCE, "generation_config.json"), d)
    return transformers.AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()


def main():
    check_versions()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    with open(os.path.join(SOURCE, "reference.json")) as f:
        prompts = json.load(f)["prompts"]
    out = {"source": "qwen3-tiny", "versions": PINNED, "prompts": prompts, "variants": {}}
    with tempfile.TemporaryDirectory() as workdir:
        for variant in sorted(os.listdir(VARIANTS)):
            qpath = os.path.join(VARIANTS, variant, "quantization_config.json")
            if not os.path.exists(qpath):
                continue
            with open(qpath) as f:
                qconfig = json.load(f)
            model = emulated_model(variant, qconfig)
            hf = hf_loaded_model(variant, qconfig, workdir)
            last, greedy, margin, hf_diff = [], [], float("inf"), 0.0
            with torch.no_grad():
                for p in prompts:
                    logits = model(torch.tensor([p])).logits[0, -1]
                    last.append(floats(logits))
                    hf_diff = max(hf_diff, float((hf(torch.tensor([p])).logits[0, -1] - logits)
                                                 .abs().max()))
                    seq = list(p)
                    for _ in range(NEW_TOKENS):
                        l = model(torch.tensor([seq])).logits[0, -1]
                        top = torch.topk(l, 2).values
                        margin = min(margin, float(top[0] - top[1]))
                        seq.append(int(l.argmax()))
                    greedy.append(seq[len(p):])
            out["variants"][variant] = {"logits_last": last, "greedy": greedy,
                                        "greedy_min_margin": margin, "hf_max_abs_diff": hf_diff}
            print(f"{variant}: greedy margin {margin:.4f}, vs transformers' loading {hf_diff:.2e}")
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
