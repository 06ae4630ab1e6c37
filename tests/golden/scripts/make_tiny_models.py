#!/usr/bin/env python3
"""Tiny random Hugging Face checkpoints and transformers reference outputs for qb::model's tests.

Pinned versions (checked at start; the script refuses to run with others):
    torch 2.13.0 (CPU build), transformers 5.17.0, safetensors 0.8.0

Run from the repository root with the oracle environment:
    .venv-oracle/bin/python tests/golden/scripts/make_tiny_models.py

Writes, for each model below, tests/golden/models/<name>/:
    config.json, generation_config.json, model.safetensors   (save_pretrained, fp32 weights)
    reference.json                                           (what the C++ tests compare against)

The models are structurally real (GQA 4 query / 2 KV heads, head_dim 16, hidden 64) but tiny,
so the transform and quantization helpers can reuse them. Weights are drawn from a seeded
generator with unit-ish scales (not the 0.02 init), so logits are peaked and greedy decisions
have clear margins; the script asserts a minimum top-1/top-2 margin on every greedy step so an
fp32 reimplementation cannot flip a decision by rounding alone.

reference.json:
    prompts:        list of token-id lists (different lengths; prompt 0 is the longest)
    logits_all:     for prompt 0, [T][V] fp32 logits at every position (unbatched, eager attention)
    logits_last:    per prompt, [V] logits at its last position (unbatched)
    hidden_states:  for prompt 0, [L+1][T][C]: embeddings, then each decoder layer's output (the
                    last one after the final norm, as transformers reports it)
Floats are written with 7 significant digits (relative rounding <= 5e-7; the tests allow 1e-4).
    greedy:         per prompt, 16 greedy tokens from model.generate without eos stopping
    greedy_min_margin: smallest top-1 minus top-2 logit over all greedy steps
Regeneration is deterministic: same versions, same bytes.
"""
import json
import math
import os
import sys

import safetensors
import torch
import transformers

PINNED = {"torch": "2.13.0", "transformers": "5.17.0", "safetensors": "0.8.0"}


def check_versions():
    found = {
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
    }
    if found != PINNED:
        sys.exit(f"make_tiny_models.py: pinned versions {PINNED}, found {found}")


ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))

COMMON = dict(
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    vocab_size=256,
    rms_norm_eps=1e-6,
    max_position_embeddings=128,
    bos_token_id=1,
    hidden_act="silu",
)

# name -> (config class, model class, config overrides, generation_config eos, branch gain)
# With tied embeddings and unit-scale layers the residual stream is dominated by the input
# embedding, whose own logit then wins every greedy step (a constant continuation); a branch gain
# of 10 makes the layers matter. qwen3-tiny and qwen2-tiny keep gain 1: other helpers' fixtures
# (quant oneshot, transforms llm-compressor) were computed from their exact weights.
MODELS = {
    # Qwen3 with separate lm_head (like Qwen3-8B).
    "qwen3-tiny": ("Qwen3Config", "Qwen3ForCausalLM",
                   dict(intermediate_size=128, tie_word_embeddings=False, rope_theta=1e6),
                   [254, 255], 1.0),
    # Qwen3 with tied embeddings (like the small Qwen3s) and an intermediate size that is not a
    # power of two (96 = 3 * 32), for the Hadamard helper's R4.
    "qwen3-tiny-tied": ("Qwen3Config", "Qwen3ForCausalLM",
                        dict(intermediate_size=96, tie_word_embeddings=True, rope_theta=1e6),
                        255, 10.0),
    # Qwen2: q/k/v biases (always on in Qwen2), no q/k norm.
    "qwen2-tiny": ("Qwen2Config", "Qwen2ForCausalLM",
                   dict(intermediate_size=128, tie_word_embeddings=True, rope_theta=1e6),
                   255, 1.0),
    # Llama 3 style: tied embeddings and "llama3" rope scaling whose bands all occur at head_dim 16.
    "llama-tiny": ("LlamaConfig", "LlamaForCausalLM",
                   dict(intermediate_size=128, tie_word_embeddings=True,
                        rope_parameters=dict(rope_type="llama3", rope_theta=500000.0, factor=8.0,
                                             low_freq_factor=1.0, high_freq_factor=4.0,
                                             original_max_position_embeddings=64)),
                   [254, 255], 10.0),
}

PROMPT_LENGTHS = [11, 4, 7]
NEW_TOKENS = 16
MIN_MARGIN = 1e-3


def init_weights(model, seed, branch_gain):
    """Deterministic weights: norms ~ 1 + N(0, 0.1), biases N(0, 0.1), embeddings N(0, 1),
    linears N(0, 1/in_features), o_proj and down_proj (the writes into the residual stream)
    times branch_gain."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                gain = branch_gain if ("o_proj" in name or "down_proj" in name) else 1.0
                p.copy_(gain * torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[1]))


def floats(t):
    return [float(f"{x:.7g}") for x in t.reshape(-1).tolist()]


def nested(t):
    if t.dim() == 1:
        return floats(t)
    return [nested(x) for x in t]


def make(name, spec, seed):
    cfg_cls, model_cls, overrides, eos, branch_gain = spec
    cfg = getattr(transformers, cfg_cls)(**COMMON, **overrides, eos_token_id=eos)
    cfg._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = getattr(transformers, model_cls)(cfg).eval().to(torch.float32)
    init_weights(model, seed, branch_gain)
    if cfg.tie_word_embeddings:
        assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()

    out_dir = os.path.join(ROOT, name)
    os.makedirs(out_dir, exist_ok=True)
    model.generation_config.eos_token_id = eos
    model.generation_config.bos_token_id = COMMON["bos_token_id"]
    model.generation_config.do_sample = False
    model.save_pretrained(out_dir, safe_serialization=True)

    gen = torch.Generator().manual_seed(seed + 1000)
    prompts = [torch.randint(2, COMMON["vocab_size"] - 2, (n,), generator=gen).tolist()
               for n in PROMPT_LENGTHS]
    logits_all, logits_last, greedy, margin = None, [], [], float("inf")
    hidden = None
    with torch.no_grad():
        for i, p in enumerate(prompts):
            ids = torch.tensor([p])
            out = model(ids, output_hidden_states=True)
            logits_last.append(floats(out.logits[0, -1]))
            if i == 0:
                logits_all = nested(out.logits[0])
                hidden = [nested(h[0]) for h in out.hidden_states]
            # Greedy by hand (full recompute each step) so eos never stops it and margins are seen.
            seq = list(p)
            for _ in range(NEW_TOKENS):
                last = model(torch.tensor([seq])).logits[0, -1]
                top = torch.topk(last, 2).values
                margin = min(margin, float(top[0] - top[1]))
                seq.append(int(last.argmax()))
            greedy.append(seq[len(p):])
            # Cross-check against generate() (which stops at eos; compare the common prefix).
            gen_out = model.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False,
                                     eos_token_id=None, pad_token_id=0)[0, len(p):].tolist()
            assert gen_out == greedy[-1], (name, gen_out, greedy[-1])
    if margin < MIN_MARGIN:
        sys.exit(f"{name}: greedy margin {margin} < {MIN_MARGIN}; pick another seed")

    ref = dict(model=name, seed=seed, versions=PINNED, prompts=prompts, logits_all=logits_all,
               logits_last=logits_last,
               hidden_states=hidden, greedy=greedy, greedy_min_margin=margin)
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(out_dir, x)) for x in os.listdir(out_dir))
    print(f"{name}: {size / 1024:.0f} KiB, greedy margin {margin:.4f}")


def main():
    check_versions()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    for i, (name, spec) in enumerate(MODELS.items()):
        make(name, spec, seed=1234 + i)


if __name__ == "__main__":
    main()
