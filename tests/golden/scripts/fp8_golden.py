#!/usr/bin/env python3
"""Golden fixtures for qbuild's FP8 (e4m3) quantization and FP8 KV-cache scales: qb::qmath's FP8
arithmetic (scales, codes, observers, GPTQ) and the quantize step's float-quantized checkpoints
of tiny models made by llm-compressor's own `oneshot`.

Pinned versions (checked at start; the script refuses to run with others):
    torch 2.13.0 (CPU build), transformers 5.17.0, llmcompressor 0.14.0.1,
    compressed-tensors 0.19.0, safetensors 0.8.0

Run from the repository root with the oracle environment:
    .venv-oracle/bin/python tests/golden/scripts/fp8_golden.py

Writes tests/golden/quant/fp8/:
  qmath.safetensors, qmath.json
      Random weights and activations (seeded) and what compressed-tensors / llm-compressor
      compute from them, through their own functions:
        rtn_*   the weight observer (memoryless_minmax) -> calculate_qparams -> quantize() to
                float8_e4m3fn. `q` is quantize() on float32 operands (what compressed-tensors'
                Triton kernel computes on GPUs and what qbuild stores); `q_eager` is the CPU
                compressor's quantize() in the weight's own dtype (bf16/fp16 weights only).
        act_*   static input observers over 5 batches -> input_scale (fp8 args).
        dyn_*   compute_dynamic_scales_and_zp + fake_quantize for dynamic per-token and
                per-group(128) fp8 activations (compressed-tensors' calibration-time forward).
        kv_*    the "k" observer on attention-shaped key states [1, KVH, T, D] over 5 batches,
                per tensor and per head (strategy attn_head) -> k_scale.
        gptq_*  accumulate_hessian over 4 batches, H / num_samples, the weight observer, then
                modifiers/gptq/gptq_quantize.py quantize_weight (the eager CPU block update);
                `dequantized` is its output in the weight dtype, `q` its fp8 codes.
      qmath.json lists every case with its quantization args and scalar outputs.
  oneshot/<variant>/quantized.safetensors, oneshot/<variant>/quantization_config.json
      `oneshot` with the calibration token ids of oneshot/calibration.json (4 x 16 tokens,
      batch size 1, no shuffling), then save_pretrained(save_compressed=True); only the
      quantized tensors (Linear weights and scales, attention k_scale / v_scale) are kept with
      config.json's quantization_config. On tests/golden/models/qwen3-tiny (fp32):
        fp8_dynamic          scheme FP8_DYNAMIC (channel fp8 weights + dynamic per-token)
        fp8_dynamic_groups   the same written out as config_groups (identical output)
        fp8_static           scheme FP8 (tensor fp8 weights + static per-tensor, static_minmax)
        gptq_fp8_dynamic     GPTQModifier, scheme FP8_DYNAMIC (block 128, damp 0.01, actorder
                             static)
        fp8_dynamic_kv       FP8_DYNAMIC + kv_cache_scheme fp8 per tensor (observer left unset:
                             llm-compressor runs "minmax")
        fp8_dynamic_kv_head  FP8_DYNAMIC + kv_cache_scheme fp8 per head (strategy attn_head)
      On block/model (made here: a Qwen3 whose Linear shapes are multiples of 128 — hidden 128,
      4 heads and 4 KV heads of 32, intermediate 256, 2 layers, untied, fp32):
        fp8_block            scheme FP8_BLOCK (128x128 weight blocks + dynamic per-group-128)
        gptq_fp8_block       GPTQModifier, scheme FP8_BLOCK
      all with ignore: [lm_head].

Usage: fp8_golden.py [qmath|oneshot ...]   (default: both)
Regeneration is deterministic: same versions, same bytes (GPTQ bits also depend on the CPU's
MKL kernels: see tests/quant/quantize_golden_test.cc).
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
from safetensors.torch import load_file, save_file

PINNED = {
    "torch": "2.13.0",
    "transformers": "5.17.0",
    "llmcompressor": "0.14.0.1",
    "compressed-tensors": "0.19.0",
    "safetensors": "0.8.0",
}


def check_versions():
    found = {
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "llmcompressor": llmcompressor.__version__,
        "compressed-tensors": compressed_tensors.__version__,
        "safetensors": safetensors.__version__,
    }
    if found != PINNED:
        sys.exit(f"fp8_golden.py: pinned versions {PINNED}, found {found}")


check_versions()

from compressed_tensors.quantization import QuantizationArgs  # noqa: E402
from compressed_tensors.quantization.lifecycle.forward import fake_quantize, quantize  # noqa: E402
from compressed_tensors.quantization.utils import compute_dynamic_scales_and_zp  # noqa: E402
from llmcompressor.modifiers.gptq.gptq_quantize import quantize_weight  # noqa: E402
from llmcompressor.modifiers.gptq.helpers import accumulate_hessian, make_empty_hessian  # noqa: E402
from llmcompressor.observers import Observer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
OUT = os.path.join(REPO, "tests", "golden", "quant", "fp8")
TINY = os.path.join(REPO, "tests", "golden", "models", "qwen3-tiny")
BLOCK_MODEL = os.path.join(OUT, "block", "model")

torch.set_num_threads(1)  # deterministic reductions
FP8 = torch.float8_e4m3fn


def gen(seed):
    return torch.Generator().manual_seed(seed)


def weight(shape, seed, dtype):
    # Rows with different magnitudes (heavy-ish tails), like real Linear weights.
    g = gen(seed)
    w = torch.randn(shape, generator=g) * torch.exp(torch.randn(shape[0], 1, generator=g) * 0.5)
    return (w * 0.05).to(dtype)


def batches(n, tokens, features, seed, dtype=torch.float32):
    g = gen(seed)
    scale = torch.exp(torch.randn(features, generator=g) * 0.7)
    out = []
    for _ in range(n):
        x = torch.randn(1, tokens, features, generator=g) * scale
        x = x + torch.randn(1, tokens, 1, generator=g) * torch.randn(features, generator=g)
        out.append(x.to(dtype))
    return out


def fp8_args(**kw):
    return QuantizationArgs(num_bits=8, type="float", symmetric=True, **kw)


def args_json(a: QuantizationArgs):
    return {
        "num_bits": a.num_bits,
        "type": a.type,
        "symmetric": a.symmetric,
        "strategy": a.strategy,
        "group_size": a.group_size,
        "block_structure": a.block_structure,
        "dynamic": a.dynamic,
        "observer": a.observer,
        "actorder": a.actorder,
    }


def weight_qparams(w, args):
    obs = Observer.load_from_registry("memoryless_minmax", base_name="weight", args=args)
    obs(w)
    return obs.get_qparams()


def codes(w, qp, args):
    """(fp32-division codes, eager codes) for weight w, both float8_e4m3fn."""
    q32 = quantize(w.float(), qp["scale"].float(), None, args, dtype=FP8)
    qe = quantize(w, qp["scale"], None, args, dtype=FP8)
    return q32, qe


def qmath_cases():
    tensors, cases = {}, {}

    def rtn(name, shape, seed, dtype, zero_row=False, **kw):
        args = fp8_args(**kw)
        w = weight(shape, seed, dtype)
        if zero_row:  # an all-zero output row: its scale is 0 -> eps
            w[3] = 0
        qp = weight_qparams(w, args)
        q32, qe = codes(w, qp, args)
        tensors.update({f"{name}.weight": w, f"{name}.scale": qp["scale"], f"{name}.q": q32})
        if dtype != torch.float32:  # identical to q for fp32 weights
            tensors[f"{name}.q_eager"] = qe
        cases[name] = {"kind": "rtn", "args": args_json(args),
                       "eager_code_mismatches": int((q32.float() != qe.float()).sum())}

    rtn("rtn_tensor_fp32", (48, 64), 1, torch.float32, strategy="tensor")
    rtn("rtn_tensor_bf16", (48, 64), 2, torch.bfloat16, strategy="tensor")
    rtn("rtn_channel_fp32", (48, 64), 3, torch.float32, strategy="channel")
    rtn("rtn_channel_bf16", (48, 64), 4, torch.bfloat16, strategy="channel")
    rtn("rtn_channel_fp16", (48, 64), 5, torch.float16, strategy="channel")
    rtn("rtn_channel_zero_row_fp32", (16, 64), 6, torch.float32, zero_row=True, strategy="channel")
    rtn("rtn_block128_fp32", (128, 256), 7, torch.float32, strategy="block",
        block_structure=[128, 128])
    rtn("rtn_block128_bf16", (256, 128), 8, torch.bfloat16, strategy="block",
        block_structure=[128, 128])
    rtn("rtn_block32x64_fp32", (96, 128), 9, torch.float32, strategy="block",
        block_structure=[32, 64])

    # Static input activation observers over 5 batches of [1, 16, 64].
    for dtype_name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        xs = batches(5, 16, 64, 20, dtype)
        tensors[f"act_{dtype_name}.batches"] = torch.cat(xs, 0)
        for obs_name in ("static_minmax", "minmax"):
            args = fp8_args(strategy="tensor", dynamic=False, observer=obs_name)
            obs = Observer.load_from_registry(obs_name, base_name="input", args=args)
            for x in xs:
                obs(x)
            name = f"act_{obs_name}_{dtype_name}"
            tensors[f"{name}.scale"] = obs.get_qparams()["scale"]
            cases[name] = {"kind": "act", "batches": f"act_{dtype_name}.batches",
                           "args": args_json(args)}

    # Dynamic fp8 fake quantization, compressed-tensors' forward.
    for dtype_name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        x = batches(1, 16, 256, 30, dtype)[0]
        tensors[f"dyn_{dtype_name}.x"] = x
        for strat, kw in (("token", {}), ("group", {"group_size": 128})):
            args = fp8_args(strategy=strat, dynamic=True, **kw)
            s, z = compute_dynamic_scales_and_zp(x, args, module=None)
            name = f"dyn_{strat}_{dtype_name}"
            tensors[f"{name}.y"] = fake_quantize(x, s, z, args)
            cases[name] = {"kind": "dyn", "x": f"dyn_{dtype_name}.x", "args": args_json(args)}

    # KV-cache observers on key states [1, KVH, T, D] (base name "k"), 5 batches.
    g = gen(60)
    ks = [(torch.randn(1, 2, 16, 32, generator=g) * torch.exp(torch.randn(2, 1, 1, generator=g)))
          for _ in range(5)]
    tensors["kv.batches"] = torch.cat(ks, 0)
    for strat in ("tensor", "attn_head"):
        for obs_name in ("minmax", "static_minmax"):
            args = fp8_args(strategy=strat, dynamic=False, observer=obs_name)
            obs = Observer.load_from_registry(obs_name, base_name="k", args=args)
            for k in ks:
                obs(k)
            name = f"kv_{strat}_{obs_name}"
            tensors[f"{name}.scale"] = obs.get_qparams()["scale"]
            cases[name] = {"kind": "kv", "batches": "kv.batches", "args": args_json(args)}

    # GPTQ on one Linear.
    def gptq(name, shape, seed, dtype, block, damp, keep_batches=False, **kw):
        args = fp8_args(**kw)
        w = weight(shape, seed, dtype)
        lin = torch.nn.Linear(shape[1], shape[0], bias=False)
        lin.weight.data = w.clone()
        H = make_empty_hessian(lin)
        n = torch.zeros(())
        xs = batches(4, 32, shape[1], seed + 100, dtype)
        for xb in xs:
            H, n = accumulate_hessian(xb, lin, H, n)
        Hn = H / n
        qp = weight_qparams(w, args)
        out, losses, fallback = quantize_weight(
            w[None].clone(), Hn[None].clone(), qp["scale"][None], qp["zero_point"][None], None,
            args, blocksize=block, percdamp=damp)
        dq = out[0].to(dtype)
        q32, qe = codes(dq, qp, args)
        tensors.update({f"{name}.weight": w, f"{name}.hessian": Hn, f"{name}.scale": qp["scale"],
                        f"{name}.dequantized": dq, f"{name}.q": q32})
        cases[name] = {"kind": "gptq", "args": args_json(args), "block_size": block,
                       "dampening_frac": damp, "loss": float(losses[0]),
                       "num_samples": int(n), "rtn_fallback": bool(fallback[0]),
                       "eager_code_mismatches": int((q32.float() != qe.float()).sum())}

    gptq("gptq_channel_actorder_fp32", (48, 96), 40, torch.float32, 128, 0.01,
         strategy="channel", actorder="static")
    gptq("gptq_channel_noorder_fp32", (48, 96), 41, torch.float32, 32, 0.01, strategy="channel")
    gptq("gptq_channel_actorder_bf16", (48, 96), 42, torch.bfloat16, 32, 0.01,
         strategy="channel", actorder="weight")
    gptq("gptq_tensor_fp32", (48, 96), 43, torch.float32, 16, 0.01, strategy="tensor")
    gptq("gptq_block128_actorder_fp32", (128, 256), 44, torch.float32, 128, 0.01,
         strategy="block", block_structure=[128, 128], actorder="weight")
    gptq("gptq_block32x64_fp32", (96, 128), 45, torch.float32, 64, 0.05,
         strategy="block", block_structure=[32, 64])

    return tensors, cases


# ---------------------------------------------------------------------------------------------
# oneshot on the tiny models

CALIB_SAMPLES, CALIB_TOKENS = 4, 16
KV_TENSOR = {"num_bits": 8, "type": "float", "strategy": "tensor", "dynamic": False,
             "symmetric": True}
KV_HEAD = dict(KV_TENSOR, strategy="attn_head")


def calibration_ids():
    g = gen(7)  # quant_golden.py's oneshot ids
    return [torch.randint(0, 254, (CALIB_TOKENS,), generator=g).tolist()
            for _ in range(CALIB_SAMPLES)]


def fp8_dynamic_groups():
    return {"group_0": {
        "targets": ["Linear"],
        "weights": {"num_bits": 8, "type": "float", "symmetric": True, "strategy": "channel",
                    "dynamic": False},
        "input_activations": {"num_bits": 8, "type": "float", "symmetric": True,
                              "strategy": "token", "dynamic": True}}}


def oneshot_variants():
    from llmcompressor.modifiers.gptq import GPTQModifier
    from llmcompressor.modifiers.quantization import QuantizationModifier

    def qm(**kw):
        return lambda: QuantizationModifier(targets=["Linear"], ignore=["lm_head"], **kw)

    def gm(**kw):
        return lambda: GPTQModifier(targets=["Linear"], ignore=["lm_head"], **kw)

    return {
        "fp8_dynamic": (TINY, qm(scheme="FP8_DYNAMIC")),
        "fp8_dynamic_groups": (TINY, qm(config_groups=fp8_dynamic_groups())),
        "fp8_static": (TINY, qm(scheme="FP8")),
        "gptq_fp8_dynamic": (TINY, gm(scheme="FP8_DYNAMIC")),
        "fp8_dynamic_kv": (TINY, qm(scheme="FP8_DYNAMIC", kv_cache_scheme=KV_TENSOR)),
        "fp8_dynamic_kv_head": (TINY, qm(scheme="FP8_DYNAMIC", kv_cache_scheme=KV_HEAD)),
        "fp8_block": (BLOCK_MODEL, qm(scheme="FP8_BLOCK")),
        "gptq_fp8_block": (BLOCK_MODEL, gm(scheme="FP8_BLOCK")),
    }


QUANT_SUFFIXES = ("weight", "weight_scale", "weight_zero_point", "input_scale")


def make_block_model(dst):
    cfg = transformers.Qwen3Config(
        hidden_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
        head_dim=32, intermediate_size=256, vocab_size=256, rms_norm_eps=1e-6,
        max_position_embeddings=128, rope_theta=1e6, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=[254, 255], hidden_act="silu")
    torch.manual_seed(2026)
    model = transformers.Qwen3ForCausalLM(cfg).eval().to(torch.float32)
    g = gen(2026)
    with torch.no_grad():  # unit-ish scales (make_tiny_models.py's init_weights)
        for name, p in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / (p.shape[1] ** 0.5))
    model.save_pretrained(dst)
    for f in os.listdir(dst):
        os.chmod(os.path.join(dst, f), 0o644)


def run_oneshot(name, model_dir, make_recipe, ids, workdir):
    from datasets import Dataset
    from llmcompressor import oneshot
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    ds = Dataset.from_dict({"input_ids": ids, "attention_mask": [[1] * len(i) for i in ids]})
    oneshot(model=model, dataset=ds, recipe=make_recipe(), num_calibration_samples=len(ids),
            max_seq_length=CALIB_TOKENS, shuffle_calibration_samples=False, batch_size=1)
    out_dir = os.path.join(workdir, name)
    model.save_pretrained(out_dir, save_compressed=True)
    save_quantized(out_dir, os.path.join(OUT, "oneshot", name))


def save_quantized(out_dir, dst):
    """Keeps the quantized tensors of a saved checkpoint and its quantization_config."""
    state = load_file(os.path.join(out_dir, "model.safetensors"))
    with open(os.path.join(out_dir, "config.json")) as f:
        qconfig = json.load(f)["quantization_config"]
    keep = {k: v.contiguous() for k, v in state.items()
            if ("_proj." in k and k.rsplit(".", 1)[1] in QUANT_SUFFIXES)
            or k.endswith(".self_attn.k_scale") or k.endswith(".self_attn.v_scale")}
    os.makedirs(dst, exist_ok=True)
    save_file(keep, os.path.join(dst, "quantized.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(dst, "quantized.safetensors"), 0o644)
    with open(os.path.join(dst, "quantization_config.json"), "w") as f:
        json.dump(qconfig, f, indent=2, sort_keys=True)
        f.write("\n")


def oneshot_main():
    ids = calibration_ids()
    os.makedirs(os.path.join(OUT, "oneshot"), exist_ok=True)
    with open(os.path.join(OUT, "oneshot", "calibration.json"), "w") as f:
        json.dump({"models": {"tiny": "tests/golden/models/qwen3-tiny",
                              "block": "tests/golden/quant/fp8/block/model"},
                   "input_ids": ids}, f)
        f.write("\n")
    os.makedirs(BLOCK_MODEL, exist_ok=True)
    make_block_model(BLOCK_MODEL)
    workdir = tempfile.mkdtemp(prefix="fp8_golden_")
    try:
        for name, (model_dir, make) in oneshot_variants().items():
            run_oneshot(name, model_dir, make, ids, workdir)
    finally:
        shutil.rmtree(workdir)


def qmath_main():
    tensors, cases = qmath_cases()
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(OUT, "qmath.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(OUT, "qmath.safetensors"), 0o644)
    with open(os.path.join(OUT, "qmath.json"), "w") as f:
        json.dump({"versions": PINNED, "cases": cases}, f, indent=2, sort_keys=True)
        f.write("\n")


def main():
    which = set(sys.argv[1:]) or {"qmath", "oneshot"}
    unknown = which - {"qmath", "oneshot"}
    if unknown:
        sys.exit(f"fp8_golden.py: unknown part(s) {sorted(unknown)}")
    os.makedirs(OUT, exist_ok=True)
    if "qmath" in which:
        qmath_main()
    if "oneshot" in which:
        oneshot_main()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
