#!/usr/bin/env python3
"""llm-compressor 0.14.0.1's side of the smooth/AWQ benchmark (bench_quant model --method
sq-gptq,awq is qbuild's side; scripts/gpu/smooth_awq.sh runs both in one GPU call on the same
checkpoint).

Pinned versions (what the comparison is against; the script refuses others):
    llmcompressor 0.14.0.1, compressed-tensors 0.19.0, transformers 5.17.0

For each method, on the checkpoint --model (a random Qwen3-8B-shaped model of 8 layers written by
`qbuild random-model --shape qwen3-8b --layers 8`), loaded in bf16 onto the GPU:
    sq-gptq  [SmoothQuantModifier(smoothing_strength=0.5), GPTQModifier(int8 per-channel weights,
             static per-tensor int8 activations with static_minmax, actorder static,
             ignore lm_head)]  -- pipline/qwen3-8b/2-quant/smoothquant-gptq-W8A8-static.yaml
    awq      [AWQModifier(duo_scaling=True, n_grid=20), QuantizationModifier(scheme W4A16_ASYM,
             ignore lm_head)]  -- pipline/qwen3-8b/2-quant/awq-W4A16.yaml
both with llm-compressor's default mappings for Qwen3, calibrated on --samples x --seq random
token ids drawn as bench_quant draws them (torch CPU generator seeded 3, randint over the
vocabulary), batch size 1, in one oneshot each (its default independent pipeline), then
save_pretrained(save_compressed=True). Prints per method: load, oneshot, save and total wall time
(seconds) and torch's peak GPU allocation (GiB), one line each, "llmc <method>: ...".
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

import torch

PINNED = {"llmcompressor": "0.14.0.1", "compressed_tensors": "0.19.0", "transformers": "5.17.0"}


def check_versions():
    import importlib
    bad = []
    for mod, want in PINNED.items():
        have = getattr(importlib.import_module(mod), "__version__", "?")
        if have != want:
            bad.append(f"{mod} {have} (want {want})")
    if bad:
        sys.exit("llmc_smooth_bench: wrong versions: " + ", ".join(bad))


def w8a8_static():
    return {"group_0": {
        "targets": ["Linear"],
        "weights": {"num_bits": 8, "type": "int", "symmetric": True, "strategy": "channel",
                    "dynamic": False, "actorder": "static"},
        "input_activations": {"num_bits": 8, "type": "int", "symmetric": True,
                              "strategy": "tensor", "dynamic": False,
                              "observer": "static_minmax"}}}


def recipe(method):
    from llmcompressor.modifiers.gptq import GPTQModifier
    from llmcompressor.modifiers.quantization import QuantizationModifier
    from llmcompressor.modifiers.transform.awq import AWQModifier
    from llmcompressor.modifiers.transform.smoothquant import SmoothQuantModifier
    if method == "sq-gptq":
        return [SmoothQuantModifier(smoothing_strength=0.5),
                GPTQModifier(config_groups=w8a8_static(), ignore=["lm_head"])]
    if method == "awq":
        return [AWQModifier(duo_scaling=True, n_grid=20),
                QuantizationModifier(scheme="W4A16_ASYM", targets=["Linear"], ignore=["lm_head"])]
    raise SystemExit(f"unknown method {method!r} (sq-gptq, awq)")


def calibration_ids(vocab, samples, seq):
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(vocab, (samples, seq), generator=g, dtype=torch.int32)
    return ids.tolist()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--method", default="sq-gptq,awq")
    ap.add_argument("--device", default="cuda", help="cuda (the benchmark) | cpu (a smoke test of the script)")
    a = ap.parse_args()
    check_versions()
    from datasets import Dataset
    from llmcompressor import oneshot
    from transformers import AutoConfig, AutoModelForCausalLM

    vocab = AutoConfig.from_pretrained(a.model).vocab_size
    ids = calibration_ids(vocab, a.samples, a.seq)
    ds = Dataset.from_dict({"input_ids": ids, "attention_mask": [[1] * a.seq] * a.samples})
    for method in a.method.split(","):
        out = tempfile.mkdtemp(prefix="llmc_")
        cuda = a.device == "cuda"
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.bfloat16, device_map=a.device)
        if cuda:
            torch.cuda.synchronize()
        t1 = time.perf_counter()
        oneshot(model=model, dataset=ds, recipe=recipe(method), num_calibration_samples=a.samples,
                max_seq_length=a.seq, batch_size=1)
        if cuda:
            torch.cuda.synchronize()
        t2 = time.perf_counter()
        model.save_pretrained(out, save_compressed=True)
        t3 = time.perf_counter()
        peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0
        print(f"llmc {method}: load {t1 - t0:.2f} s, oneshot {t2 - t1:.2f} s, save {t3 - t2:.2f} s, "
              f"total {t3 - t0:.2f} s, peak GPU alloc {peak:.2f} GiB", flush=True)
        del model
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
