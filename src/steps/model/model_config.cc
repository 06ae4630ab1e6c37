#include "steps/model/model_config.h"

#include <cmath>
#include <tuple>

#include "steps/model/json_fields.h"

namespace qb::model {

using detail::opt_bool;
using detail::opt_int;
using detail::opt_number;
using detail::opt_string;
using detail::req_int;
using detail::req_number;

const char* arch_name(Arch arch) {
  switch (arch) {
    case Arch::kLlama: return "llama";
    case Arch::kQwen2: return "qwen2";
    case Arch::kQwen3: return "qwen3";
  }
  return "?";
}

Result<at::ScalarType> parse_dtype(const std::string& name) {
  if (name == "float32" || name == "fp32") return at::kFloat;
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  if (name == "float16" || name == "fp16") return at::kHalf;
  return invalid_argument("unsupported dtype '" + name + "' (float32, bfloat16, float16)");
}

const char* dtype_label(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "float32";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: return "other";
  }
}

std::string shape_label(at::IntArrayRef shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

Result<std::vector<int64_t>> parse_token_ids(const nlohmann::json& j, const std::string& field,
                                             const std::string& source) {
  std::vector<int64_t> ids;
  if (!j.is_object() || !j.contains(field) || j[field].is_null()) return ids;
  const auto& v = j[field];
  auto bad = [&] {
    return invalid_argument(source + ": field '" + field +
                            "' must be a token id or a list of token ids, got " +
                            detail::json_type(v));
  };
  if (v.is_number_integer()) {
    ids.push_back(v.get<int64_t>());
  } else if (v.is_array()) {
    for (const auto& e : v) {
      if (!e.is_number_integer()) return bad();
      ids.push_back(e.get<int64_t>());
    }
  } else {
    return bad();
  }
  for (int64_t id : ids)
    if (id < 0) return invalid_argument(source + ": field '" + field + "' has a negative id");
  return ids;
}

namespace {

// RoPE from "rope_parameters" (transformers 5) or "rope_theta" + "rope_scaling" (older files).
Status parse_rope(const nlohmann::json& j, const std::string& source, ModelConfig& c) {
  const nlohmann::json* params = nullptr;
  std::string params_name;
  for (const char* key : {"rope_parameters", "rope_scaling"}) {
    if (j.contains(key) && !j[key].is_null()) {
      if (!j[key].is_object())
        return invalid_argument(source + ": field '" + key + "' must be an object, got " +
                                detail::json_type(j[key]));
      params = &j[key];
      params_name = key;
      break;
    }
  }
  const std::string psrc = source + ": " + params_name;
  std::optional<double> theta;
  if (params) {
    QB_ASSIGN_OR_RETURN(theta, opt_number(*params, "rope_theta", psrc));
    QB_ASSIGN_OR_RETURN(auto type, opt_string(*params, "rope_type", psrc));
    if (!type) {
      QB_ASSIGN_OR_RETURN(type, opt_string(*params, "type", psrc));
    }
    c.rope.type = type.value_or("default");
    QB_ASSIGN_OR_RETURN(auto partial, opt_number(*params, "partial_rotary_factor", psrc));
    if (partial && *partial != 1.0)
      return invalid_argument(psrc + ": partial_rotary_factor " + std::to_string(*partial) +
                              " is not supported (only 1.0)");
  }
  if (!theta) {
    QB_ASSIGN_OR_RETURN(theta, opt_number(j, "rope_theta", source));
  }
  if (!theta) return invalid_argument(source + ": missing field 'rope_theta'");
  if (!(*theta > 0 && std::isfinite(*theta)))
    return invalid_argument(source + ": rope_theta must be a positive number, got " +
                            std::to_string(*theta));
  c.rope.theta = *theta;
  if (c.rope.type == "default") return Status::ok();
  if (c.rope.type != "llama3")
    return invalid_argument(psrc + ": rope type '" + c.rope.type +
                            "' is not supported (default, llama3)");
  QB_ASSIGN_OR_RETURN(c.rope.factor, req_number(*params, "factor", psrc));
  QB_ASSIGN_OR_RETURN(c.rope.low_freq_factor, req_number(*params, "low_freq_factor", psrc));
  QB_ASSIGN_OR_RETURN(c.rope.high_freq_factor, req_number(*params, "high_freq_factor", psrc));
  QB_ASSIGN_OR_RETURN(auto orig, opt_int(*params, "original_max_position_embeddings", psrc));
  c.rope.original_max_position_embeddings = orig.value_or(c.max_position_embeddings);
  if (c.rope.factor <= 0 || c.rope.low_freq_factor <= 0 ||
      c.rope.high_freq_factor <= c.rope.low_freq_factor ||
      c.rope.original_max_position_embeddings <= 0)
    return invalid_argument(psrc + ": llama3 rope needs factor > 0, 0 < low_freq_factor < " +
                            "high_freq_factor and original_max_position_embeddings > 0");
  return Status::ok();
}

}  // namespace

Result<ModelConfig> ModelConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) return invalid_argument(source + ": not a JSON object");
  ModelConfig c;
  QB_ASSIGN_OR_RETURN(auto model_type, opt_string(j, "model_type", source));
  if (!model_type) return invalid_argument(source + ": missing field 'model_type'");
  c.model_type = *model_type;
  if (c.model_type == "qwen3") {
    c.arch = Arch::kQwen3;
  } else if (c.model_type == "qwen2") {
    c.arch = Arch::kQwen2;
  } else if (c.model_type == "llama" || c.model_type == "mistral") {
    c.arch = Arch::kLlama;
  } else {
    return invalid_argument(source + ": model_type '" + c.model_type +
                            "' is not supported (qwen3, qwen2, llama, mistral)");
  }

  QB_ASSIGN_OR_RETURN(c.hidden_size, req_int(j, "hidden_size", source));
  QB_ASSIGN_OR_RETURN(c.intermediate_size, req_int(j, "intermediate_size", source));
  QB_ASSIGN_OR_RETURN(c.num_layers, req_int(j, "num_hidden_layers", source));
  QB_ASSIGN_OR_RETURN(c.num_heads, req_int(j, "num_attention_heads", source));
  QB_ASSIGN_OR_RETURN(c.vocab_size, req_int(j, "vocab_size", source));
  QB_ASSIGN_OR_RETURN(c.rms_norm_eps, req_number(j, "rms_norm_eps", source));
  QB_ASSIGN_OR_RETURN(c.max_position_embeddings, req_int(j, "max_position_embeddings", source));
  QB_ASSIGN_OR_RETURN(auto kv_heads, opt_int(j, "num_key_value_heads", source));
  c.num_kv_heads = kv_heads.value_or(c.num_heads);
  for (auto [name, v] : {std::pair{"hidden_size", c.hidden_size},
                         {"intermediate_size", c.intermediate_size},
                         {"num_hidden_layers", c.num_layers},
                         {"num_attention_heads", c.num_heads},
                         {"num_key_value_heads", c.num_kv_heads},
                         {"vocab_size", c.vocab_size},
                         {"max_position_embeddings", c.max_position_embeddings}}) {
    if (v <= 0)
      return invalid_argument(source + ": field '" + name + "' must be positive, got " +
                              std::to_string(v));
  }
  // Upper bounds: far above any released model (Llama-3.1-405B: hidden 16384, 126 layers,
  // intermediate 53248; the largest vocabularies ~262k; contexts up to 10M), low enough that a
  // corrupt value (a vocab_size of 1e12) is rejected before anything is sized from it.
  for (auto [name, v, max] : {std::tuple{"hidden_size", c.hidden_size, kMaxHiddenSize},
                              {"intermediate_size", c.intermediate_size, kMaxIntermediateSize},
                              {"num_hidden_layers", c.num_layers, kMaxLayers},
                              {"num_attention_heads", c.num_heads, kMaxHeads},
                              {"vocab_size", c.vocab_size, kMaxVocabSize},
                              {"max_position_embeddings", c.max_position_embeddings,
                               kMaxPositionEmbeddings}}) {
    if (v > max)
      return invalid_argument(source + ": field '" + name + "' is " + std::to_string(v) +
                              ", above qbuild's limit of " + std::to_string(max) +
                              " (no released model comes near it; a corrupt config.json?)");
  }
  if (c.num_heads % c.num_kv_heads != 0)
    return invalid_argument(source + ": num_attention_heads (" + std::to_string(c.num_heads) +
                            ") is not a multiple of num_key_value_heads (" +
                            std::to_string(c.num_kv_heads) + ")");
  QB_ASSIGN_OR_RETURN(auto head_dim, opt_int(j, "head_dim", source));
  if (!head_dim) {
    if (c.hidden_size % c.num_heads != 0)
      return invalid_argument(source + ": no 'head_dim' and hidden_size is not a multiple of " +
                              "num_attention_heads");
    head_dim = c.hidden_size / c.num_heads;
  }
  c.head_dim = *head_dim;
  if (c.head_dim <= 0 || c.head_dim % 2 != 0 || c.head_dim > kMaxHeadDim)
    return invalid_argument(source + ": head_dim must be positive, even and at most " +
                            std::to_string(kMaxHeadDim) + ", got " + std::to_string(c.head_dim));
  if (!(c.rms_norm_eps > 0 && c.rms_norm_eps < 1))
    return invalid_argument(source + ": rms_norm_eps must be in (0, 1), got " +
                            std::to_string(c.rms_norm_eps));

  QB_ASSIGN_OR_RETURN(auto act, opt_string(j, "hidden_act", source));
  if (act && *act != "silu")
    return invalid_argument(source + ": hidden_act '" + *act + "' is not supported (silu)");
  QB_ASSIGN_OR_RETURN(auto sliding, opt_bool(j, "use_sliding_window", source));
  if (sliding.value_or(false))
    return invalid_argument(source + ": use_sliding_window is not supported");
  if (c.model_type == "mistral" && j.contains("sliding_window") && !j["sliding_window"].is_null())
    return invalid_argument(source + ": mistral sliding_window attention is not supported");

  QB_ASSIGN_OR_RETURN(auto tie, opt_bool(j, "tie_word_embeddings", source));
  c.tie_word_embeddings = tie.value_or(false);
  QB_ASSIGN_OR_RETURN(auto attn_bias, opt_bool(j, "attention_bias", source));
  QB_ASSIGN_OR_RETURN(auto mlp_bias, opt_bool(j, "mlp_bias", source));
  switch (c.arch) {
    case Arch::kQwen2:  // Qwen2Attention: q/k/v Linear(bias=True), o_proj bias=False
      c.qkv_bias = true;
      break;
    case Arch::kQwen3:
      c.qkv_bias = c.o_bias = attn_bias.value_or(false);
      c.qk_norm = true;
      break;
    case Arch::kLlama:
      c.qkv_bias = c.o_bias = attn_bias.value_or(false);
      c.mlp_bias = mlp_bias.value_or(false);
      break;
  }

  QB_TRY(parse_rope(j, source, c));

  QB_ASSIGN_OR_RETURN(auto dtype, opt_string(j, "dtype", source));
  if (!dtype) {
    QB_ASSIGN_OR_RETURN(dtype, opt_string(j, "torch_dtype", source));
  }
  if (dtype) {
    QB_ASSIGN_OR_RETURN_CTX(c.dtype, parse_dtype(*dtype), source);
  }
  QB_ASSIGN_OR_RETURN(c.bos_token_id, opt_int(j, "bos_token_id", source));
  QB_ASSIGN_OR_RETURN(c.eos_token_ids, parse_token_ids(j, "eos_token_id", source));
  return c;
}

}  // namespace qb::model
