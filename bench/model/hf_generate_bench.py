#!/usr/bin/env python3
"""The reference run for bench_model: transformers' generate on the same Qwen3-8B shape (random
bf16 weights on the GPU, static-free default cache, greedy, no stop tokens), prefill 32 x 512
and decode at batch 1 / 32 / 128 with 512-token prompts. Prints one JSON line.

  python3 bench/model/hf_generate_bench.py --new 64
Run in the same call as bench_model so the ratios compare like with like (RESULTS.md).
"""
import argparse
import json
import time

import torch
import transformers
from transformers import Qwen3Config, Qwen3ForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("--new", type=int, default=64)
ap.add_argument("--ctx", type=int, default=512)
ap.add_argument("--batches", default="1,32,128")
a = ap.parse_args()

cfg = Qwen3Config(hidden_size=4096, intermediate_size=12288, num_hidden_layers=36, num_attention_heads=32,
                  num_key_value_heads=8, head_dim=128, vocab_size=151936, max_position_embeddings=40960,
                  rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=False)
torch.manual_seed(0)
with torch.device("cuda"):
    model = Qwen3ForCausalLM(cfg).to(torch.bfloat16).eval()
out = {"transformers": transformers.__version__, "torch": torch.__version__, "ctx": a.ctx, "new": a.new}


def ids(b):
    return torch.randint(0, 150000, (b, a.ctx), device="cuda")


with torch.no_grad():
    x = ids(32)
    model(x)  # warm-up
    torch.cuda.synchronize()
    t = time.perf_counter()
    model(x)
    torch.cuda.synchronize()
    out["prefill_32x512_tok_s"] = 32 * a.ctx / (time.perf_counter() - t)
    for b in [int(s) for s in a.batches.split(",")]:
        x = ids(b)
        kw = dict(max_new_tokens=a.new, min_new_tokens=a.new, do_sample=False, pad_token_id=0, eos_token_id=None)
        model.generate(x, max_new_tokens=4, min_new_tokens=4, do_sample=False, pad_token_id=0, eos_token_id=None)
        torch.cuda.synchronize()
        t = time.perf_counter()
        model.generate(x, **kw)
        torch.cuda.synchronize()
        dt = time.perf_counter() - t
        out[f"generate_b{b}_tok_s"] = b * a.new / dt  # prefill included, as transformers users see it
        out[f"peak_gib_b{b}"] = torch.cuda.max_memory_allocated() / 2**30
print(json.dumps(out))
