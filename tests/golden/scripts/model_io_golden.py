#!/usr/bin/env python3
"""Reference safetensors files and a sharded checkpoint for qb::model_io's interop tests.

Pinned versions (checked at start; the script refuses to run with others):
    torch 2.13.0 (CPU build), safetensors 0.8.0, transformers 5.17.0

Run from the repository root with the oracle environment:
    .venv-oracle/bin/python tests/golden/scripts/model_io_golden.py

Writes tests/golden/model_io/:
    dtypes.safetensors   safetensors.torch.save_file of small tensors of every dtype qbuild
                         supports (edge values: min/max integers, +-0, subnormals, inf, nan,
                         a 0-d scalar, an empty tensor), metadata {"format": "pt"}
    dtypes.json          what the C++ test expects, per tensor: dtype, shape and the values
                         flattened row-major; floats as numbers (exact: every value of these
                         dtypes is a double) or "nan" / "inf" / "-inf"
    tiny-sharded/        transformers save_pretrained of a tiny random bf16 Qwen3 with
                         max_shard_size="4KB": config.json, generation_config.json, three
                         model-0000k-of-00003.safetensors shards, model.safetensors.index.json
    tiny-sharded.json    state_dict_order (names in the order save_pretrained sharded them),
                         max_shard_bytes (4000), and per tensor: dtype, shape and the
                         little-endian bytes as hex
Regeneration is deterministic: same versions, same bytes.
"""
import json
import math
import os
import shutil
import sys

import safetensors
import torch
import transformers
from safetensors.torch import save_file

PINNED = {"torch": "2.13.0", "safetensors": "0.8.0", "transformers": "5.17.0"}


def check_versions():
    found = {
        "torch": torch.__version__.split("+")[0],
        "safetensors": safetensors.__version__,
        "transformers": transformers.__version__,
    }
    if found != PINNED:
        sys.exit(f"model_io_golden.py: pinned versions {PINNED}, found {found}")


OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model_io"))

NAMES = {
    torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16", torch.int32: "I32",
    torch.int64: "I64", torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32",
    torch.float64: "F64", torch.uint16: "U16", torch.uint32: "U32", torch.uint64: "U64",
    torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2",
}

INF, NAN = float("inf"), float("nan")


def dtype_tensors():
    g = torch.Generator().manual_seed(0)
    t = {}
    t["bool"] = torch.tensor([[True, False, True], [True, False, False]])
    t["u8"] = torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8)
    t["i8"] = torch.tensor([[-128, -1, 0], [1, 2, 127]], dtype=torch.int8)
    t["i16"] = torch.tensor([-32768, -1, 0, 1, 32767], dtype=torch.int16)
    t["u16"] = torch.tensor([0, 1, 32768, 65535], dtype=torch.uint16)
    t["i32"] = torch.tensor([-2**31, -1, 0, 1, 2**31 - 1], dtype=torch.int32)
    t["u32"] = torch.tensor([0, 1, 2**31, 2**32 - 1], dtype=torch.uint32)
    t["i64"] = torch.tensor([-2**63, -1, 0, 1, 2**63 - 1], dtype=torch.int64)
    t["u64"] = torch.tensor([0, 1, 2**63, 2**64 - 1], dtype=torch.uint64)
    floats = [0.0, -0.0, 1.0, -2.5, 0.1, 1e-3, INF, -INF, NAN]
    t["f16"] = torch.tensor(floats + [65504.0, 2**-24, 2**-14], dtype=torch.float16)
    t["bf16"] = torch.tensor(floats + [3.3895313892515355e38, 2**-133, 2**-126], dtype=torch.bfloat16)
    t["f32"] = torch.tensor(floats + [3.4028234663852886e38, 2**-149, 1 / 3], dtype=torch.float32)
    t["f64"] = torch.tensor(floats + [1.7976931348623157e308, 5e-324, 1 / 3], dtype=torch.float64)
    t["f8_e4m3"] = torch.tensor([0.0, -0.0, 0.5, -1.5, 448.0, -448.0, 2**-9, NAN], dtype=torch.float8_e4m3fn)
    t["f8_e5m2"] = torch.tensor([0.0, 1.0, -2.0, 57344.0, 2**-16, INF, -INF, NAN], dtype=torch.float8_e5m2)
    t["bf16_random"] = torch.randn(4, 6, generator=g).to(torch.bfloat16)
    t["f32_scalar"] = torch.tensor(2.75, dtype=torch.float32)
    t["i32_empty"] = torch.zeros(0, 3, dtype=torch.int32)
    return t


def value(x):
    if isinstance(x, bool) or isinstance(x, int):
        return x
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def values_of(t):
    flat = t.reshape(-1)
    if t.dtype in (torch.uint16, torch.uint32, torch.uint64):
        # tolist() on unsigned types goes through int64 and wraps 2**63.. to negatives.
        width = {torch.uint16: 16, torch.uint32: 32, torch.uint64: 64}[t.dtype]
        return [v % (1 << width) for v in flat.view({16: torch.int16, 32: torch.int32, 64: torch.int64}[width]).tolist()]
    if t.dtype.is_floating_point:
        return [value(v) for v in flat.double().tolist()]
    return [value(v) for v in flat.tolist()]


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")


def make_dtypes():
    tensors = dtype_tensors()
    save_file(tensors, os.path.join(OUT, "dtypes.safetensors"), metadata={"format": "pt"})
    expected = {
        name: {"dtype": NAMES[t.dtype], "shape": list(t.shape), "values": values_of(t)}
        for name, t in tensors.items()
    }
    write_json(os.path.join(OUT, "dtypes.json"), expected)


def make_sharded():
    torch.manual_seed(0)
    config = transformers.Qwen3Config(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, head_dim=8, max_position_embeddings=64,
        tie_word_embeddings=False, dtype="bfloat16",
    )
    model = transformers.Qwen3ForCausalLM(config).to(torch.bfloat16).eval()
    out = os.path.join(OUT, "tiny-sharded")
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out, max_shard_size="4KB")
    state = model.state_dict()
    expected = {
        "max_shard_bytes": 4000,
        "state_dict_order": list(state.keys()),
        "tensors": {
            name: {
                "dtype": NAMES[t.dtype],
                "shape": list(t.shape),
                "hex": t.contiguous().view(torch.uint8).numpy().tobytes().hex(),
            }
            for name, t in state.items()
        },
    }
    write_json(os.path.join(OUT, "tiny-sharded.json"), expected)
    shards = sorted(f for f in os.listdir(out) if f.endswith(".safetensors"))
    assert len(shards) == 3, shards


def main():
    check_versions()
    os.makedirs(OUT, exist_ok=True)
    make_dtypes()
    make_sharded()


if __name__ == "__main__":
    main()
