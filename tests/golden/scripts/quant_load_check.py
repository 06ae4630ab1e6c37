#!/usr/bin/env python3
"""Loads a checkpoint written by qbuild's quantize step with transformers + compressed-tensors and
prints its logits, so tests can check that the checkpoint loads there and computes what qbuild's
runtime computes (the C++ test tests/quant/loadability_test.cc runs this; it is skipped when
.venv-oracle is missing).

Pinned versions (checked at start): torch 2.13.0, transformers 5.17.0, compressed-tensors 0.19.0

Usage: quant_load_check.py <checkpoint dir> <ids json: [[...], ...]> <out json>
Writes {"logits": [[[...V floats] x T] x B], "quantized_modules": N, "quant_method": ...}.
"""
import json
import sys

import compressed_tensors
import torch
import transformers

PINNED = {"torch": "2.13.0", "transformers": "5.17.0", "compressed-tensors": "0.19.0"}


def main():
    found = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__,
             "compressed-tensors": compressed_tensors.__version__}
    if found != PINNED:
        sys.exit(f"quant_load_check.py: pinned versions {PINNED}, found {found}")
    ckpt, ids_path, out_path = sys.argv[1:4]
    torch.set_num_threads(1)
    model = transformers.AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32)
    model.eval()
    with open(ids_path) as f:
        ids = torch.tensor(json.load(f), dtype=torch.long)
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float()
    quantized = sum(1 for m in model.modules() if getattr(m, "quantization_scheme", None) is not None)
    qc = getattr(model.config, "quantization_config", None)
    method = qc.get("quant_method") if isinstance(qc, dict) else getattr(qc, "quant_method", None)
    with open(out_path, "w") as f:
        json.dump({"logits": logits.tolist(), "quantized_modules": quantized,
                   "quant_method": str(method)}, f)


if __name__ == "__main__":
    main()
