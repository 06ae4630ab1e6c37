#!/usr/bin/env python3
"""Oracle for test_model_io's OracleInterop tests: reads files that qbuild wrote with the
reference readers and prints what it found, for the C++ test to compare.

Pinned versions (checked at start): torch 2.13.0 (CPU build), safetensors 0.8.0,
transformers 5.17.0. When they (or the packages) are missing it prints why and exits 77,
which the C++ test turns into a skip. It writes nothing; no committed fixture comes from it.

Usage: model_io_oracle_read.py FILE.safetensors CHECKPOINT_DIR
Prints one JSON object:
    file:        {name: {dtype, shape, hex}}   via safetensors.safe_open (framework "pt")
    file_load:   [names]                       via safetensors.torch.load_file (same data checked)
    metadata:    the file's __metadata__
    checkpoint:  {name: {dtype, shape, hex}}   via transformers AutoModelForCausalLM.from_pretrained
                                               (the model's state_dict; bf16 as saved)
"""
import json
import sys

PINNED = {"torch": "2.13.0", "safetensors": "0.8.0", "transformers": "5.17.0"}
SKIP = 77

try:
    import safetensors
    import torch
    import transformers
    from safetensors import safe_open
    from safetensors.torch import load_file
except ImportError as e:
    print(f"oracle packages missing: {e}")
    sys.exit(SKIP)

NAMES = {
    torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16", torch.int32: "I32",
    torch.int64: "I64", torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32",
    torch.float64: "F64", torch.uint16: "U16", torch.uint32: "U32", torch.uint64: "U64",
    torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2",
}


def describe(t):
    return {
        "dtype": NAMES[t.dtype],
        "shape": list(t.shape),
        "hex": t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes().hex(),
    }


def main():
    found = {
        "torch": torch.__version__.split("+")[0],
        "safetensors": safetensors.__version__,
        "transformers": transformers.__version__,
    }
    if found != PINNED:
        print(f"model_io_oracle_read.py: pinned versions {PINNED}, found {found}")
        sys.exit(SKIP)
    path, ckpt = sys.argv[1], sys.argv[2]
    out = {"file": {}, "metadata": {}, "checkpoint": {}}
    with safe_open(path, framework="pt") as f:
        out["metadata"] = f.metadata() or {}
        for name in f.keys():
            out["file"][name] = describe(f.get_tensor(name))
    loaded = load_file(path)
    for name, t in loaded.items():
        assert describe(t) == out["file"][name], name
    out["file_load"] = sorted(loaded)
    model = transformers.AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.bfloat16)
    for name, t in model.state_dict().items():
        out["checkpoint"][name] = describe(t)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
