#!/usr/bin/env python3
"""Golden fixtures for qbuild's quantization: qb::qmath (scales, observers, RTN, GPTQ, packing)
and the quantize step (compressed-tensors checkpoints of a tiny model made by llm-compressor's
own `oneshot`).

Pinned versions (checked at start; the script refuses to run with others):
    torch 2.13.0 (CPU build), transformers 5.17.0, llmcompressor 0.14.0.1,
    compressed-tensors 0.19.0, safetensors 0.8.0

Run from the repository root with the oracle environment:
    .venv-oracle/bin/python tests/golden/scripts/quant_golden.py

Writes tests/golden/quant/:
  qmath.safetensors, qmath.json
      Random Linear weights and calibration batches (seeded) and what llm-compressor /
      compressed-tensors compute from them, through their own functions:
        rtn_*     weight observer (llmcompressor.observers) -> calculate_qparams -> quantize.
                  `q` is quantize() on float32 operands (what compressed-tensors' Triton kernel
                  computes on GPUs and what qbuild stores); `q_eager` is the CPU compressor's
                  quantize() on the weight's own dtype (differs for bf16 weights only).
        act_*     activation observers over 5 batches -> input scale.
        dyn_*     compute_dynamic_scales_and_zp + fake_quantize (the per-token fake-quant).
        gptq_*    accumulate_hessian over the batches, H / num_samples, weight observer, then
                  modifiers/gptq/gptq_quantize.py quantize_weight (the eager CPU block update);
                  `dequantized` is its output cast to the weight dtype, `q` its codes.
        pack_*    compressors/pack_quantized/helpers.py pack_to_int32.
      qmath.json lists every case: its quantization args and scalar outputs (GPTQ loss, ...).
  oneshot/<variant>/quantized.safetensors, oneshot/<variant>/quantization_config.json
      `oneshot` on tests/golden/models/qwen3-tiny (fp32) with the calibration token ids of
      oneshot/calibration.json (4 x 16 tokens, batch size 1, no shuffling), then
      save_pretrained(save_compressed=True); only the quantized Linear tensors are kept (the other
      tensors are copied unchanged from the source model) together with config.json's
      quantization_config. Variants:
        rtn_w8a8_dynamic   QuantizationModifier, scheme W8A8 (channel int8 + dynamic per-token)
        rtn_w8a8_static    QuantizationModifier, channel int8 weights + static per-tensor input
                           activations, observer static_minmax
        gptq_w8a8          GPTQModifier, scheme W8A8 (block 128, dampening 0.01, actorder static)
        rtn_w8a16_g32      QuantizationModifier, int8 weight-only, group 32 (pack-quantized)
        gptq_w4a16_g32     GPTQModifier, int4 weight-only, group 32 (pack-quantized)
      all with ignore: [lm_head].
  eager/   the eager-attention calibration case (finding 22): a Qwen3 the other fixtures do not
      cover — GQA 8 query / 2 KV heads of 32, hidden 128, intermediate 256, 2 layers, untied —
      and 24 calibration samples of 64 to 128 tokens with many equal lengths:
        model/                 config.json, generation_config.json, model.safetensors (fp32)
        calibration.json       the samples' token ids, in dataset order
        argsort.json           length vectors and torch.argsort(lengths, descending=True) of
                               each (llm-compressor's LengthAwareSampler order; unstable sort)
        sdpa_vs_eager.json     how far transformers' SDPA forward is from its eager forward on
                               this model (why the case exists: they differ in the last bits)
        <variant>/quantized.safetensors, <variant>/quantization_config.json
                               oneshot (eager attention, as llm-compressor forces it) with
                               shuffle_calibration_samples=False, batch_size=1,
                               max_seq_length=128:
          rtn_w8a8_static      the recipe of oneshot/rtn_w8a8_static
          gptq_w8a8_static     GPTQModifier with the same config group (channel int8 weights,
                               static per-tensor static_minmax input activations)

  smooth/  SmoothQuantModifier and AWQModifier recipes (issue 20), each a list of modifiers given
      to one `oneshot` (llm-compressor's default "independent" pipeline: every modifier gets its
      own sequential calibration pass over the model the previous modifier left):
        model/, model-qwen2/   Qwen3 and Qwen2 (q/k/v biases) with 4 query = 4 KV heads of 32
                               (so AWQ's v_proj -> o_proj mapping applies), hidden 128,
                               intermediate 256, 2 layers, fp32; three input_layernorm channels
                               scaled up so the activations have outlier channels
        calibration.json       10 samples of 24 to 48 tokens (equal lengths included)
        <variant>/scales.safetensors     the smoothing scales each mapping applied, keyed by its
                               smooth layer (SmoothQuant: after the 1e-5 floor; AWQ: the grid
                               search's best scales)
        <variant>/smoothed.safetensors   every decoder-layer parameter after the smoothing
                               modifier's pass, before any quantization (fp32; only for the
                               variants in KEEP_SMOOTHED: the others' follow from their scales)
        <variant>/quantized.safetensors, quantization_config.json   the saved checkpoint's
                               decoder-layer tensors (save_compressed=True) and its config
        <variant>/awq_metrics.json       AWQ: each mapping's initial / best error, in order
      Variants (see smooth_variants()): sq (alpha 0.5 alone), sq_ignore_mlp, sq_rtn_w8a8_static,
      sq08_gptq_w8a8_static, awq_w4a16_asym, awq_w8a16, awq_both_g64, awq_noduo_channel_asym,
      awq_qwen2_w4a16_asym, awq_gqa_w4a16_asym (the eager/ GQA model: v_proj -> o_proj skipped).
      Also checks, before writing, that [SmoothQuant, GPTQ] in one oneshot gives the same
      checkpoint bytes as SmoothQuant alone, saved, then GPTQ on the saved model (the reason
      qbuild runs smoothing as a node of its own).

Usage: quant_golden.py [qmath|oneshot|eager|smooth ...]   (default: all four)
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
        sys.exit(f"quant_golden.py: pinned versions {PINNED}, found {found}")


check_versions()

from compressed_tensors.compressors.pack_quantized.helpers import pack_to_int32  # noqa: E402
from compressed_tensors.quantization import QuantizationArgs  # noqa: E402
from compressed_tensors.quantization.lifecycle.forward import fake_quantize, quantize  # noqa: E402
from compressed_tensors.quantization.utils import compute_dynamic_scales_and_zp  # noqa: E402
from llmcompressor.modifiers.gptq.gptq_quantize import quantize_weight  # noqa: E402
from llmcompressor.modifiers.gptq.helpers import accumulate_hessian, make_empty_hessian  # noqa: E402
from llmcompressor.observers import Observer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
OUT = os.path.join(REPO, "tests", "golden", "quant")
TINY = os.path.join(REPO, "tests", "golden", "models", "qwen3-tiny")

torch.set_num_threads(1)  # deterministic reductions


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


def args_json(a: QuantizationArgs):
    return {
        "num_bits": a.num_bits,
        "symmetric": a.symmetric,
        "strategy": a.strategy,
        "group_size": a.group_size,
        "dynamic": a.dynamic,
        "observer": a.observer,
        "actorder": a.actorder,
    }


def weight_qparams(w, args):
    name = "memoryless_mse" if args.observer in ("mse", "memoryless_mse") else "memoryless_minmax"
    obs = Observer.load_from_registry(name, base_name="weight", args=args)
    obs(w)
    return obs.get_qparams()


def codes(w, qp, args):
    """(fp32-division codes, eager codes) for weight w."""
    q32 = quantize(w.float(), qp["scale"].float(), qp["zero_point"], args, dtype=torch.int8)
    qe = quantize(w, qp["scale"], qp["zero_point"], args, dtype=torch.int8)
    return q32, qe


def qmath_cases():
    tensors, cases = {}, {}

    def rtn(name, shape, seed, dtype, **kw):
        args = QuantizationArgs(**kw)
        w = weight(shape, seed, dtype)
        qp = weight_qparams(w, args)
        q32, qe = codes(w, qp, args)
        tensors.update({f"{name}.weight": w, f"{name}.scale": qp["scale"],
                        f"{name}.zero_point": qp["zero_point"], f"{name}.q": q32})
        if dtype != torch.float32:  # identical to q for fp32 weights
            tensors[f"{name}.q_eager"] = qe
        cases[name] = {"kind": "rtn", "args": args_json(args),
                       "eager_code_mismatches": int((q32 != qe).sum())}

    rtn("rtn_channel_w8_fp32", (48, 64), 1, torch.float32, strategy="channel")
    rtn("rtn_channel_w8_bf16", (48, 64), 2, torch.bfloat16, strategy="channel")
    rtn("rtn_tensor_w8_fp32", (48, 64), 3, torch.float32, strategy="tensor")
    rtn("rtn_group32_w4_fp32", (48, 128), 4, torch.float32, num_bits=4, strategy="group",
        group_size=32)
    rtn("rtn_group32_w4_asym_bf16", (48, 128), 5, torch.bfloat16, num_bits=4, strategy="group",
        group_size=32, symmetric=False)
    rtn("rtn_channel_w8_asym_fp16", (48, 64), 6, torch.float16, strategy="channel",
        symmetric=False)
    rtn("rtn_channel_w8_mse_fp32", (32, 128), 7, torch.float32, strategy="channel",
        observer="mse")
    rtn("rtn_channel_w4_mse_bf16", (32, 128), 8, torch.bfloat16, num_bits=4, strategy="channel",
        observer="mse")

    # Static input activation observers over 5 batches of [1, 16, 64].
    for dtype_name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        xs = batches(5, 16, 64, 20, dtype)
        tensors[f"act_{dtype_name}.batches"] = torch.cat(xs, 0)
        for obs_name in ("static_minmax", "minmax", "memoryless_minmax", "mse"):
            args = QuantizationArgs(num_bits=8, strategy="tensor", dynamic=False,
                                    observer=obs_name)
            obs = Observer.load_from_registry(obs_name, base_name="input", args=args)
            for x in xs:
                obs(x)
            qp = obs.get_qparams()
            name = f"act_{obs_name}_{dtype_name}"
            tensors[f"{name}.scale"] = qp["scale"]
            cases[name] = {"kind": "act", "batches": f"act_{dtype_name}.batches",
                           "args": args_json(args)}

    # Dynamic per-token fake quantization (compressed-tensors' forward).
    x = batches(1, 16, 64, 30)[0]
    args = QuantizationArgs(num_bits=8, strategy="token", dynamic=True, symmetric=True)
    s, z = compute_dynamic_scales_and_zp(x, args, module=None)
    tensors["dyn_token.x"] = x
    tensors["dyn_token.y"] = fake_quantize(x, s, z, args)
    cases["dyn_token"] = {"kind": "dyn", "args": args_json(args)}

    # GPTQ on one Linear.
    def gptq(name, shape, seed, dtype, block, damp, keep_batches=False, **kw):
        args = QuantizationArgs(**kw)
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
        if keep_batches:  # one case checks qbuild's Hessian accumulation against these
            tensors[f"{name}.batches"] = torch.cat(xs, 0)
        tensors.update({f"{name}.weight": w, f"{name}.hessian": Hn, f"{name}.scale": qp["scale"],
                        f"{name}.zero_point": qp["zero_point"], f"{name}.dequantized": dq,
                        f"{name}.q": q32})
        cases[name] = {"kind": "gptq", "args": args_json(args), "block_size": block,
                       "dampening_frac": damp, "loss": float(losses[0]),
                       "num_samples": int(n), "rtn_fallback": bool(fallback[0]),
                       "eager_code_mismatches": int((q32 != qe).sum())}

    gptq("gptq_channel_w8_actorder", (48, 96), 40, torch.float32, 128, 0.01, keep_batches=True,
         strategy="channel", actorder="static")
    gptq("gptq_channel_w8_noorder", (48, 96), 41, torch.float32, 32, 0.01, strategy="channel")
    gptq("gptq_channel_w8_actorder_bf16", (48, 96), 42, torch.bfloat16, 32, 0.01,
         strategy="channel", actorder="weight")
    gptq("gptq_group32_w4_actorder", (48, 128), 43, torch.float32, 64, 0.01, num_bits=4,
         strategy="group", group_size=32, actorder="weight")
    gptq("gptq_group32_w4_asym", (48, 128), 44, torch.float32, 128, 0.05, num_bits=4,
         strategy="group", group_size=32, symmetric=False, actorder="weight")
    gptq("gptq_tensor_w8", (48, 96), 45, torch.float32, 16, 0.01, strategy="tensor")

    # Packing.
    for bits, cols in ((8, 64), (4, 72), (3, 40)):
        g = gen(50 + bits)
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1))
        q = torch.randint(lo, hi, (6, cols), generator=g, dtype=torch.int8)
        tensors[f"pack_w{bits}.q"] = q
        tensors[f"pack_w{bits}.packed"] = pack_to_int32(q, bits)
        cases[f"pack_w{bits}"] = {"kind": "pack", "num_bits": bits, "cols": cols}

    return tensors, cases


# ---------------------------------------------------------------------------------------------
# oneshot on the tiny model

CALIB_SAMPLES, CALIB_TOKENS = 4, 16


def calibration_ids():
    g = gen(7)
    # Token 0..253: avoid the eos ids 254/255 of the tiny configs.
    return [torch.randint(0, 254, (CALIB_TOKENS,), generator=g).tolist()
            for _ in range(CALIB_SAMPLES)]


def w8a8_channel_static():
    return {"group_0": {
        "targets": ["Linear"],
        "weights": {"num_bits": 8, "type": "int", "symmetric": True, "strategy": "channel"},
        "input_activations": {"num_bits": 8, "type": "int", "symmetric": True,
                              "strategy": "tensor", "dynamic": False,
                              "observer": "static_minmax"}}}


def weight_only_group(bits):
    return {"group_0": {
        "targets": ["Linear"],
        "weights": {"num_bits": bits, "type": "int", "symmetric": True, "strategy": "group",
                    "group_size": 32}}}


def oneshot_variants():
    from llmcompressor.modifiers.gptq import GPTQModifier
    from llmcompressor.modifiers.quantization import QuantizationModifier
    return {
        "rtn_w8a8_dynamic": lambda: QuantizationModifier(scheme="W8A8", targets=["Linear"],
                                                         ignore=["lm_head"]),
        "rtn_w8a8_static": lambda: QuantizationModifier(config_groups=w8a8_channel_static(),
                                                        ignore=["lm_head"]),
        "gptq_w8a8": lambda: GPTQModifier(scheme="W8A8", targets=["Linear"], ignore=["lm_head"]),
        "rtn_w8a16_g32": lambda: QuantizationModifier(config_groups=weight_only_group(8),
                                                      ignore=["lm_head"]),
        "gptq_w4a16_g32": lambda: GPTQModifier(config_groups=weight_only_group(4),
                                               ignore=["lm_head"]),
    }


QUANT_SUFFIXES = ("weight", "weight_scale", "weight_zero_point", "input_scale", "weight_packed",
                  "weight_shape")


def run_oneshot(name, make_recipe, ids, workdir):
    from datasets import Dataset
    from llmcompressor import oneshot
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(TINY, dtype=torch.float32)
    ds = Dataset.from_dict({"input_ids": ids, "attention_mask": [[1] * len(i) for i in ids]})
    oneshot(model=model, dataset=ds, recipe=make_recipe(), num_calibration_samples=len(ids),
            max_seq_length=CALIB_TOKENS, shuffle_calibration_samples=False, batch_size=1)
    out_dir = os.path.join(workdir, name)
    model.save_pretrained(out_dir, save_compressed=True)
    save_quantized(out_dir, os.path.join(OUT, "oneshot", name))


def save_quantized(out_dir, dst):
    """Keeps the quantized Linear tensors of a saved checkpoint and its quantization_config."""
    state = load_file(os.path.join(out_dir, "model.safetensors"))
    with open(os.path.join(out_dir, "config.json")) as f:
        qconfig = json.load(f)["quantization_config"]
    keep = {k: v.contiguous() for k, v in state.items()
            if "_proj." in k and k.rsplit(".", 1)[1] in QUANT_SUFFIXES}
    os.makedirs(dst, exist_ok=True)
    save_file(keep, os.path.join(dst, "quantized.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(dst, "quantized.safetensors"), 0o644)
    with open(os.path.join(dst, "quantization_config.json"), "w") as f:
        json.dump(qconfig, f, indent=2, sort_keys=True)
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# eager-attention calibration on a GQA model with longer samples

EAGER = os.path.join(OUT, "eager")
EAGER_SAMPLES, EAGER_MAX_LEN = 24, 128


def make_eager_model(dst):
    cfg = transformers.Qwen3Config(
        hidden_size=128, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=2,
        head_dim=32, intermediate_size=256, vocab_size=256, rms_norm_eps=1e-6,
        max_position_embeddings=256, rope_theta=1e6, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=[254, 255], hidden_act="silu")
    torch.manual_seed(2022)
    model = transformers.Qwen3ForCausalLM(cfg).eval().to(torch.float32)
    g = gen(2022)
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


def eager_ids():
    g = gen(23)
    lengths = [[64, 96, 128][int(i)] for i in torch.randint(0, 3, (EAGER_SAMPLES,), generator=g)]
    return [torch.randint(0, 254, (n,), generator=g).tolist() for n in lengths]


def sdpa_vs_eager(model_dir, ids):
    """Max |SDPA - eager| of each decoder layer's output on the samples (fp32)."""
    from transformers import AutoModelForCausalLM
    out = {}
    for impl in ("sdpa", "eager"):
        m = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32,
                                                 attn_implementation=impl).eval()
        with torch.no_grad():
            out[impl] = [m(torch.tensor([x]), output_hidden_states=True).hidden_states
                         for x in ids]
    diffs = [max(float((a - b).abs().max()) for a, b in zip(s, e))
             for s, e in zip(out["sdpa"], out["eager"])]
    return {"max_abs_hidden_diff": max(diffs),
            "samples_with_different_bits": sum(d > 0 for d in diffs), "samples": len(ids)}


def argsort_cases():
    g = gen(31)
    cases = [[128] * 40, [5, 3, 5, 5, 1, 3, 3, 5, 1, 1, 5, 3, 3, 5, 1, 5, 3, 1, 5]]
    for n, k in ((17, 2), (64, 3), (100, 4), (512, 2048), (1000, 7)):
        cases.append(torch.randint(1, k + 1, (n,), generator=g).tolist())
    cases.append(list(range(1, 301)))  # ascending: median-of-three on a sorted run
    return [{"lengths": c, "order": torch.argsort(torch.tensor(c), descending=True).tolist()}
            for c in cases]


def eager_variants():
    from llmcompressor.modifiers.gptq import GPTQModifier
    from llmcompressor.modifiers.quantization import QuantizationModifier
    return {
        "rtn_w8a8_static": lambda: QuantizationModifier(config_groups=w8a8_channel_static(),
                                                        ignore=["lm_head"]),
        "gptq_w8a8_static": lambda: GPTQModifier(config_groups=w8a8_channel_static(),
                                                 ignore=["lm_head"]),
    }


def eager_main():
    from datasets import Dataset
    from llmcompressor import oneshot
    from transformers import AutoModelForCausalLM

    model_dir = os.path.join(EAGER, "model")
    os.makedirs(model_dir, exist_ok=True)
    make_eager_model(model_dir)
    ids = eager_ids()
    with open(os.path.join(EAGER, "calibration.json"), "w") as f:
        json.dump({"model": "tests/golden/quant/eager/model", "input_ids": ids}, f)
        f.write("\n")
    with open(os.path.join(EAGER, "argsort.json"), "w") as f:
        json.dump({"torch": PINNED["torch"], "cases": argsort_cases()}, f)
        f.write("\n")
    with open(os.path.join(EAGER, "sdpa_vs_eager.json"), "w") as f:
        json.dump(sdpa_vs_eager(model_dir, ids), f, indent=2, sort_keys=True)
        f.write("\n")
    workdir = tempfile.mkdtemp(prefix="quant_golden_eager_")
    try:
        for name, make_recipe in eager_variants().items():
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
            ds = Dataset.from_dict({"input_ids": ids,
                                    "attention_mask": [[1] * len(i) for i in ids]})
            oneshot(model=model, dataset=ds, recipe=make_recipe(),
                    num_calibration_samples=len(ids), max_seq_length=EAGER_MAX_LEN,
                    shuffle_calibration_samples=False, batch_size=1)
            out_dir = os.path.join(workdir, name)
            model.save_pretrained(out_dir, save_compressed=True)
            save_quantized(out_dir, os.path.join(EAGER, name))
    finally:
        shutil.rmtree(workdir)


# ---------------------------------------------------------------------------------------------
# SmoothQuant and AWQ (issue 20)

SMOOTH = os.path.join(OUT, "smooth")
SMOOTH_SAMPLES = 10
# Written out: llm-compressor's own defaults are namedtuples/dataclasses that its recipe saver
# cannot serialize; these are the same patterns (smoothquant/utils.py DEFAULT_SMOOTHQUANT_MAPPINGS,
# awq/mappings.py default_mappings).
SQ_MAPPINGS = [[["re:.*q_proj", "re:.*k_proj", "re:.*v_proj"], "re:.*input_layernorm"],
               [["re:.*gate_proj", "re:.*up_proj"], "re:.*post_attention_layernorm"]]
AWQ_MAPPINGS = [
    {"smooth_layer": "re:.*input_layernorm$",
     "balance_layers": ["re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"]},
    {"smooth_layer": "re:.*v_proj$", "balance_layers": ["re:.*o_proj$"]},
    {"smooth_layer": "re:.*post_attention_layernorm$",
     "balance_layers": ["re:.*gate_proj$", "re:.*up_proj$"]},
    {"smooth_layer": "re:.*up_proj$", "balance_layers": ["re:.*down_proj$"]},
]


KEEP_SMOOTHED = {"sq", "sq_ignore_mlp", "sq08_gptq_w8a8_static", "awq_w4a16_asym",
                 "awq_qwen2_w4a16_asym", "awq_gqa_w4a16_asym"}


def make_smooth_model(dst, family):
    cls, model_cls = {"qwen3": ("Qwen3Config", "Qwen3ForCausalLM"),
                      "qwen2": ("Qwen2Config", "Qwen2ForCausalLM")}[family]
    cfg = getattr(transformers, cls)(
        hidden_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
        head_dim=32, intermediate_size=256, vocab_size=256, rms_norm_eps=1e-6,
        max_position_embeddings=256, rope_theta=1e6, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=[254, 255], hidden_act="silu")
    torch.manual_seed(2020)
    model = getattr(transformers, model_cls)(cfg).eval().to(torch.float32)
    g = gen(2020 if family == "qwen3" else 2021)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
                if name.endswith("input_layernorm.weight") or name.endswith("post_attention_layernorm.weight"):
                    p[[3, 40, 77]] *= 8.0  # outlier activation channels
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / (p.shape[1] ** 0.5))
    model.save_pretrained(dst)
    for f in os.listdir(dst):
        os.chmod(os.path.join(dst, f), 0o644)


def smooth_ids():
    g = gen(2024)
    lengths = [[24, 32, 48][int(i)] for i in torch.randint(0, 3, (SMOOTH_SAMPLES,), generator=g)]
    return [torch.randint(0, 254, (n,), generator=g).tolist() for n in lengths]


def smooth_variants():
    from llmcompressor.modifiers.gptq import GPTQModifier
    from llmcompressor.modifiers.quantization import QuantizationModifier
    from llmcompressor.modifiers.transform.awq import AWQModifier
    from llmcompressor.modifiers.transform.smoothquant import SmoothQuantModifier

    def sq(**kw):
        return SmoothQuantModifier(mappings=SQ_MAPPINGS, **kw)

    def awq(**kw):
        return AWQModifier(mappings=AWQ_MAPPINGS, **kw)

    def qm(**kw):
        return QuantizationModifier(ignore=["lm_head"], **kw)

    def int_group(bits, strategy, symmetric, group_size=None):
        w = {"num_bits": bits, "type": "int", "symmetric": symmetric, "strategy": strategy}
        if group_size:
            w["group_size"] = group_size
        return {"group_0": {"targets": ["Linear"], "weights": w}}

    # name -> (model folder, calibration, recipe)
    return {
        "sq": ("model", "smooth", lambda: [sq()]),
        "sq_ignore_mlp": ("model", "smooth", lambda: [sq(
            smoothing_strength=0.6,
            ignore=["re:.*post_attention_layernorm", "re:.*gate_proj", "re:.*up_proj"])]),
        "sq_rtn_w8a8_static": ("model", "smooth", lambda: [
            sq(), qm(config_groups=w8a8_channel_static())]),
        "sq08_gptq_w8a8_static": ("model", "smooth", lambda: [
            sq(smoothing_strength=0.8),
            GPTQModifier(config_groups=w8a8_channel_static(), ignore=["lm_head"])]),
        "awq_w4a16_asym": ("model", "smooth", lambda: [awq(), qm(scheme="W4A16_ASYM", targets=["Linear"])]),
        "awq_w8a16": ("model", "smooth", lambda: [awq(), qm(scheme="W8A16", targets=["Linear"])]),
        "awq_both_g64": ("model", "smooth", lambda: [
            awq(duo_scaling="both", n_grid=10), qm(config_groups=int_group(4, "group", True, 64))]),
        "awq_noduo_channel_asym": ("model", "smooth", lambda: [
            awq(duo_scaling=False), qm(config_groups=int_group(4, "channel", False))]),
        "awq_qwen2_w4a16_asym": ("model-qwen2", "smooth", lambda: [
            awq(), qm(scheme="W4A16_ASYM", targets=["Linear"])]),
        "awq_gqa_w4a16_asym": ("../eager/model", "eager", lambda: [
            awq(), qm(scheme="W4A16_ASYM", targets=["Linear"])]),
    }


class SmoothRecorder:
    """Patches the smoothing modifiers to record their scales, metrics and the model right after
    their own calibration pass (before the next modifier quantizes it)."""

    def __init__(self):
        from llmcompressor.modifiers.transform.awq import AWQModifier
        from llmcompressor.modifiers.transform.smoothquant import SmoothQuantModifier
        from llmcompressor.modifiers.transform.smoothquant.base import MINIMUM_SMOOTHING_SCALE
        self.scales, self.smoothed, self.metrics = {}, None, []
        rec = self
        sq_calc = SmoothQuantModifier._calculate_smoothing_scales
        awq_best = AWQModifier._compute_best_scale

        def calc(mod, balance_layers, activation_scales):
            s = sq_calc(mod, balance_layers, activation_scales)
            name = next(m.smooth_name for m in mod.resolved_mappings_
                        if m.balance_layers is balance_layers)
            rec.scales[name] = torch.maximum(s, torch.Tensor([MINIMUM_SMOOTHING_SCALE])).clone()
            return s

        def best(mod, mapping, fp16_outputs, orig_layer_weights):
            s = awq_best(mod, mapping, fp16_outputs, orig_layer_weights)
            rec.scales[mapping.smooth_name] = s.clone()
            m = dict(mod._error_metrics[-1])
            rec.metrics.append({k: m[k] for k in ("layer_name", "parent_name", "initial_error",
                                                   "best_error")})
            return s

        def snapshot(orig):
            def on_end(mod, state, event, **kw):
                out = orig(mod, state, event, **kw)
                rec.smoothed = {n: p.detach().clone() for n, p in state.model.named_parameters()
                                if n.startswith("model.layers.")}
                return out
            return on_end

        self.patches = [(SmoothQuantModifier, "_calculate_smoothing_scales", calc),
                        (AWQModifier, "_compute_best_scale", best),
                        (SmoothQuantModifier, "on_calibration_end",
                         snapshot(SmoothQuantModifier.on_calibration_end)),
                        (AWQModifier, "on_calibration_end",
                         snapshot(AWQModifier.on_calibration_end))]

    def __enter__(self):
        self.saved = [(c, n, getattr(c, n)) for c, n, _ in self.patches]
        for c, n, f in self.patches:
            setattr(c, n, f)
        return self

    def __exit__(self, *exc):
        for c, n, f in self.saved:
            setattr(c, n, f)


def save_layers(tensors, path):
    save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata={"format": "pt"})
    os.chmod(path, 0o644)


def run_smooth_variant(model_dir, ids, recipe, workdir, dst, max_len):
    from datasets import Dataset
    from llmcompressor import oneshot
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    ds = Dataset.from_dict({"input_ids": ids, "attention_mask": [[1] * len(i) for i in ids]})
    with SmoothRecorder() as rec:
        oneshot(model=model, dataset=ds, recipe=recipe, num_calibration_samples=len(ids),
                max_seq_length=max_len, shuffle_calibration_samples=False, batch_size=1)
    os.makedirs(dst, exist_ok=True)
    save_layers(rec.scales, os.path.join(dst, "scales.safetensors"))
    if os.path.basename(dst) in KEEP_SMOOTHED:
        save_layers(rec.smoothed, os.path.join(dst, "smoothed.safetensors"))
    if rec.metrics:
        with open(os.path.join(dst, "awq_metrics.json"), "w") as f:
            json.dump(rec.metrics, f, indent=2)
            f.write("\n")
    if len(recipe) > 1:
        out_dir = os.path.join(workdir, os.path.basename(dst))
        model.save_pretrained(out_dir, save_compressed=True)
        state = load_file(os.path.join(out_dir, "model.safetensors"))
        save_layers({k: v for k, v in state.items() if k.startswith("model.layers.")},
                    os.path.join(dst, "quantized.safetensors"))
        with open(os.path.join(out_dir, "config.json")) as f:
            qconfig = json.load(f)["quantization_config"]
        with open(os.path.join(dst, "quantization_config.json"), "w") as f:
            json.dump(qconfig, f, indent=2, sort_keys=True)
            f.write("\n")


def check_two_passes_equal_one(model_dir, ids, workdir):
    """[SmoothQuant, GPTQ] in one oneshot == SmoothQuant, save, GPTQ on the saved model."""
    from datasets import Dataset
    from llmcompressor import oneshot
    from llmcompressor.modifiers.gptq import GPTQModifier
    from llmcompressor.modifiers.transform.smoothquant import SmoothQuantModifier
    from transformers import AutoModelForCausalLM

    def run(model, recipe):
        ds = Dataset.from_dict({"input_ids": ids, "attention_mask": [[1] * len(i) for i in ids]})
        oneshot(model=model, dataset=ds, recipe=recipe, num_calibration_samples=len(ids),
                max_seq_length=48, shuffle_calibration_samples=False, batch_size=1)

    def gptq():
        return GPTQModifier(config_groups=w8a8_channel_static(), ignore=["lm_head"])

    m = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    run(m, [SmoothQuantModifier(smoothing_strength=0.8, mappings=SQ_MAPPINGS), gptq()])
    m.save_pretrained(os.path.join(workdir, "one"), save_compressed=True)
    m = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    run(m, [SmoothQuantModifier(smoothing_strength=0.8, mappings=SQ_MAPPINGS)])
    m.save_pretrained(os.path.join(workdir, "sq"))
    m = AutoModelForCausalLM.from_pretrained(os.path.join(workdir, "sq"), dtype=torch.float32)
    run(m, [gptq()])
    m.save_pretrained(os.path.join(workdir, "two"), save_compressed=True)
    a = load_file(os.path.join(workdir, "one", "model.safetensors"))
    b = load_file(os.path.join(workdir, "two", "model.safetensors"))
    differ = [k for k in a if k not in b or not torch.equal(a[k], b[k])]
    if differ or a.keys() != b.keys():
        sys.exit(f"quant_golden.py: one-pass and two-pass SmoothQuant+GPTQ differ: {differ}")


def smooth_main():
    os.makedirs(SMOOTH, exist_ok=True)
    make_smooth_model(os.path.join(SMOOTH, "model"), "qwen3")
    make_smooth_model(os.path.join(SMOOTH, "model-qwen2"), "qwen2")
    ids = smooth_ids()
    with open(os.path.join(SMOOTH, "calibration.json"), "w") as f:
        json.dump({"input_ids": ids}, f)
        f.write("\n")
    with open(os.path.join(EAGER, "calibration.json")) as f:
        eager = json.load(f)["input_ids"]
    calibrations = {"smooth": (ids, 48), "eager": (eager, EAGER_MAX_LEN)}
    # AWQ pins its cached parent inputs in host memory "for faster onloading" (pipelines/cache.py
    # IntermediatesCache.pin_memory), which a CPU-only torch cannot do (it raises); pinning only
    # places memory, so it is turned off here: the values are the same.
    from llmcompressor.pipelines.cache import IntermediatesCache
    IntermediatesCache.pin_memory = lambda self, batch_index, input_names=None: None
    workdir = tempfile.mkdtemp(prefix="quant_golden_smooth_")
    try:
        check_two_passes_equal_one(os.path.join(SMOOTH, "model"), ids, workdir)
        for name, (model, calib, make_recipe) in smooth_variants().items():
            cids, max_len = calibrations[calib]
            run_smooth_variant(os.path.normpath(os.path.join(SMOOTH, model)), cids, make_recipe(),
                               workdir, os.path.join(SMOOTH, name), max_len)
    finally:
        shutil.rmtree(workdir)


def main():
    parts = {"qmath", "oneshot", "eager", "smooth"}
    which = set(sys.argv[1:]) or parts
    unknown = which - parts
    if unknown:
        sys.exit(f"quant_golden.py: unknown part(s) {sorted(unknown)}")
    os.makedirs(OUT, exist_ok=True)
    if "eager" in which:
        eager_main()
    if "qmath" in which:
        qmath_main()
    if "oneshot" in which:
        oneshot_main()
    if "smooth" in which:
        smooth_main()
    print(f"wrote {OUT}")


def qmath_main():
    tensors, cases = qmath_cases()
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(OUT, "qmath.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(OUT, "qmath.safetensors"), 0o644)
    with open(os.path.join(OUT, "qmath.json"), "w") as f:
        json.dump({"versions": PINNED, "cases": cases}, f, indent=2, sort_keys=True)
        f.write("\n")


def oneshot_main():
    ids = calibration_ids()
    os.makedirs(os.path.join(OUT, "oneshot"), exist_ok=True)
    with open(os.path.join(OUT, "oneshot", "calibration.json"), "w") as f:
        json.dump({"model": "tests/golden/models/qwen3-tiny", "input_ids": ids}, f)
        f.write("\n")
    workdir = tempfile.mkdtemp(prefix="quant_golden_")
    try:
        for name, make in oneshot_variants().items():
            run_oneshot(name, make, ids, workdir)
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
