// FP8 recipe rules (see fp8_rules.h).
#include "spec/fp8_rules.h"

#include <fmt/format.h>

namespace qb::spec {
namespace {

std::string block_label(const QuantArgs& a) {
  return fmt::format("[{}, {}]", a.block_structure[0], a.block_structure[1]);
}

bool has_block_structure(const QuantArgs& a) {
  return a.block_structure[0] != 0 || a.block_structure[1] != 0;
}

bool is_mse(const QuantArgs& a) {
  return a.observer == ObserverKind::kMse || a.observer == ObserverKind::kMemorylessMse;
}

// num_bits and type of one fp8 tensor; false when it is not fp8 at all.
bool check_fp8_type(const QuantArgs& a, const std::string& at, const char* what, Issues& out) {
  if (a.type != QuantType::kFloat) return false;
  if (a.num_bits != 8) {
    out.error(field(at, "num_bits"),
              fmt::format("num_bits {} is not supported for {} of type 'float': qbuild builds FP8 "
                          "e4m3 (num_bits 8) only (4-bit floats are NVFP4 / MXFP4)",
                          a.num_bits, what));
  }
  return true;
}

void validate_fp8_weights(const QuantArgs& w, Modifier modifier, const std::string& wa,
                          Issues& out) {
  check_fp8_type(w, wa, "weights", out);
  if (!w.symmetric)
    out.error(field(wa, "symmetric"),
              "asymmetric fp8 weights are not supported: vLLM loads fp8 weights only symmetric "
              "(vLLM: \"No compressed-tensors compatible scheme was found.\"); use 'symmetric: true'");
  if (w.dynamic)
    out.error(field(wa, "dynamic"),
              "dynamic weight quantization is not supported: weights are quantized once, offline");
  switch (w.strategy) {
    case Strategy::kTensor:
    case Strategy::kChannel:
      break;
    case Strategy::kBlock:
      if (w.block_structure[0] <= 0 || w.block_structure[1] <= 0)
        out.error(field(wa, "block_structure"),
                  fmt::format("Invalid block_structure '{}'. Must be a list of positive ints "
                              "[rows, cols].",
                              block_label(w)));
      else if (w.block_structure[0] != w.block_structure[1])
        out.error(field(wa, "block_structure"),
                  fmt::format("block_structure {} must be square: vLLM quantizes a block layer's "
                              "activations in groups of block_structure[0] = {} along the input "
                              "dimension, which must match the blocks' {} columns",
                              block_label(w), w.block_structure[0], w.block_structure[1]));
      break;
    case Strategy::kGroup:
      out.error(field(wa, "strategy"),
                "strategy 'group' is not supported for fp8 weights: vLLM loads fp8 weights per "
                "tensor, per channel or in blocks (strategy 'block' with a block_structure)");
      break;
    case Strategy::kToken:
    case Strategy::kAttnHead:
      out.error(field(wa, "strategy"),
                fmt::format("strategy '{}' cannot be applied to weights", strategy_name(w.strategy)));
      break;
  }
  if (w.strategy != Strategy::kBlock && has_block_structure(w))
    out.error(field(wa, "block_structure"), "Block structure requires block strategy");
  if (w.strategy != Strategy::kGroup && w.group_size > 0)
    out.error(field(wa, "group_size"), "'group_size' must be positive exactly when strategy is 'group'");
  if (is_mse(w))
    out.error(field(wa, "observer"),
              "the mse observer is not implemented for fp8 weights; use memoryless_minmax");
  if (modifier == Modifier::kRtn && w.actorder != ActOrder::kNone)
    out.error(field(wa, "actorder"), "'actorder' applies to GPTQModifier only");
}

void validate_fp8_acts(const QuantArgs& a, const QuantArgs& w, const std::string& aa, Issues& out) {
  check_fp8_type(a, aa, "input activations", out);
  if (!a.symmetric)
    out.error(field(aa, "symmetric"),
              "asymmetric fp8 input activations are not supported: vLLM quantizes fp8 activations "
              "symmetrically; use 'symmetric: true'");
  if (a.actorder != ActOrder::kNone)
    out.error(field(aa, "actorder"), "actorder cannot be applied to input activations");
  const bool block = w.strategy == Strategy::kBlock;
  if (a.strategy == Strategy::kChannel) {
    out.error(field(aa, "strategy"),
              "input activations cannot be quantized per channel; use strategy 'token' (dynamic) or "
              "'tensor' (static)");
    return;
  }
  if (!a.dynamic) {
    if (a.strategy == Strategy::kToken) {
      out.error(field(aa, "strategy"),
                "Cannot perform static token quantization, please use `dynamic=True` "
                "(strategy 'token' requires 'dynamic: true')");
    } else if (block) {
      out.error(field(aa, "dynamic"),
                fmt::format("fp8 block weights need dynamic input activations (per group of {}): "
                            "vLLM has no static activation scheme for block weights",
                            w.block_structure[1]));
    } else if (a.strategy != Strategy::kTensor) {
      out.error(field(aa, "strategy"),
                fmt::format("vLLM loads static fp8 input activations only per tensor, not per {}; "
                            "use 'strategy: tensor'",
                            strategy_name(a.strategy)));
    }
    if (!a.observer) out.error(field(aa, "observer"), "static input activations need an observer");
    if (is_mse(a))
      out.error(field(aa, "observer"),
                "the mse observer is not implemented for fp8 activations; use static_minmax or "
                "minmax");
    return;
  }
  if (block) {
    if (a.strategy != Strategy::kGroup || a.group_size != w.block_structure[1])
      out.error(field(aa, "strategy"),
                fmt::format("fp8 block weights {} need dynamic input activations per group of {} "
                            "(strategy: group, group_size: {}): vLLM quantizes them so, whatever "
                            "the config says",
                            block_label(w), w.block_structure[1], w.block_structure[1]));
  } else if (a.strategy != Strategy::kToken) {
    out.error(field(aa, "strategy"),
              fmt::format("vLLM quantizes dynamic fp8 activations per token with per-{} weights, "
                          "not per {}; use 'strategy: token'",
                          strategy_name(w.strategy), strategy_name(a.strategy)));
  }
}

}  // namespace

bool is_fp8_group(const ConfigGroup& g) {
  return g.weights.type == QuantType::kFloat ||
         (g.input_activations && g.input_activations->type == QuantType::kFloat);
}

void validate_fp8_group(const ConfigGroup& g, Modifier modifier, const std::string& at,
                        Issues& out) {
  const std::string wa = field(at, "weights"), aa = field(at, "input_activations");
  const QuantArgs& w = g.weights;
  if (w.type != QuantType::kFloat) {
    out.error(field(wa, "type"),
              "fp8 input activations need fp8 weights ('type: float'): vLLM has no "
              "compressed-tensors scheme for int weights with float activations");
    return;
  }
  if (!g.input_activations) {
    out.error(field(wa, "type"),
              "fp8 weight-only quantization (W8A16 FP8) is not supported by qbuild; add fp8 "
              "'input_activations' (e.g. scheme FP8_DYNAMIC)");
    return;
  }
  if (g.input_activations->type != QuantType::kFloat) {
    out.error(field(aa, "type"),
              "fp8 weights need fp8 input activations ('type: float'): vLLM has no "
              "compressed-tensors scheme for fp8 weights with int activations");
    return;
  }
  validate_fp8_weights(w, modifier, wa, out);
  validate_fp8_acts(*g.input_activations, w, aa, out);
}

void validate_kv_cache_scheme(const QuantArgs& kv, const std::string& at, Issues& out) {
  if (!kv.is_fp8()) {
    out.error(field(at, kv.type != QuantType::kFloat ? "type" : "num_bits"),
              fmt::format("Currently supported kv cache quantization is num_bits=8, type=float, "
                          "however received num_bits={}, type={} (vLLM)",
                          kv.num_bits, quant_type_name(kv.type)));
  }
  if (kv.strategy != Strategy::kTensor && kv.strategy != Strategy::kAttnHead)
    out.error(field(at, "strategy"),
              fmt::format("Invalid strategy for compressed-tensors KV cache. Expected strategies: "
                          "tensor, attn_head, found strategy: {} (vLLM)",
                          strategy_name(kv.strategy)));
  if (!kv.symmetric)
    out.error(field(at, "symmetric"),
              "Only support symmetric scaling factor for compressed-tensors KV cache. However "
              "found symmetric: False (vLLM)");
  if (kv.dynamic)
    out.error(field(at, "dynamic"),
              "the KV cache is quantized with static scales (calibrated, stored as k_scale / "
              "v_scale): 'dynamic' must be false");
  if (kv.actorder != ActOrder::kNone)
    out.error(field(at, "actorder"), "actorder cannot be applied to the KV cache");
  if (is_mse(kv))
    out.error(field(at, "observer"),
              "the mse observer is not implemented for the KV cache; use minmax, static_minmax or "
              "memoryless_minmax");
}

}  // namespace qb::spec
