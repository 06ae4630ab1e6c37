// ModelConfig: the architecture facts qb::model needs, read from a Hugging Face config.json.
//
// Supported model_type: qwen3, qwen2, llama, mistral (a llama without sliding windows). The
// fields follow transformers 5.17's config classes:
//   - head_dim defaults to hidden_size / num_attention_heads; num_key_value_heads to the heads.
//   - RoPE: transformers 5 writes "rope_parameters": {"rope_type", "rope_theta", ...}; older
//     files write "rope_theta" plus "rope_scaling" (null, or {"rope_type"|"type": ...}). Types
//     "default" and "llama3" (factor, low_freq_factor, high_freq_factor,
//     original_max_position_embeddings, which falls back to max_position_embeddings) are
//     supported; any other type is rejected.
//   - biases: Qwen2 always has q/k/v biases (not o_proj); Qwen3/Llama have q/k/v/o biases iff
//     attention_bias; Llama has gate/up/down biases iff mlp_bias.
//   - Qwen3 adds q_norm/k_norm (RMSNorm over each head, weight [head_dim]).
// Sliding-window attention (use_sliding_window, mistral's sliding_window) is rejected. Sizes must
// be positive and at most the kMax* bounds below; rms_norm_eps in (0, 1), rope_theta > 0.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace qb::model {

enum class Arch { kLlama, kQwen2, kQwen3 };

// from_json() rejects sizes above these (see model_config.cc for why these values).
inline constexpr int64_t kMaxVocabSize = int64_t{1} << 22;          // 4,194,304
inline constexpr int64_t kMaxHiddenSize = int64_t{1} << 17;         // 131,072
inline constexpr int64_t kMaxIntermediateSize = int64_t{1} << 19;   // 524,288
inline constexpr int64_t kMaxLayers = 1024;
inline constexpr int64_t kMaxHeads = 1024;                          // query heads (KV heads divide them)
inline constexpr int64_t kMaxHeadDim = 1024;
inline constexpr int64_t kMaxPositionEmbeddings = int64_t{1} << 24; // 16,777,216

struct RopeConfig {
  std::string type = "default";  // "default" | "llama3"
  double theta = 10000.0;
  // "llama3" only:
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;
};

struct ModelConfig {
  Arch arch = Arch::kLlama;
  std::string model_type;  // as written in config.json
  int64_t hidden_size = 0;        // C
  int64_t intermediate_size = 0;  // F
  int64_t num_layers = 0;         // L
  int64_t num_heads = 0;          // H
  int64_t num_kv_heads = 0;       // KVH
  int64_t head_dim = 0;           // D
  int64_t vocab_size = 0;         // V
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  RopeConfig rope;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // q_proj, k_proj, v_proj have a bias
  bool o_bias = false;    // o_proj has a bias
  bool mlp_bias = false;  // gate_proj, up_proj, down_proj have a bias
  bool qk_norm = false;   // Qwen3's per-head q_norm / k_norm
  at::ScalarType dtype = at::kFloat;  // "dtype" / "torch_dtype" (storage dtype of the weights)
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // int or list in the file; empty when absent or null

  // Parses and validates; `source` names the file in errors ("<source>: missing field
  // 'hidden_size'").
  static Result<ModelConfig> from_json(const nlohmann::json& j,
                                       const std::string& source = "config.json");

  int64_t kv_groups() const { return num_heads / num_kv_heads; }  // query heads per KV head
};

const char* arch_name(Arch arch);

// "float32" | "bfloat16" | "float16" (also "fp32", "bf16", "fp16") -> dtype.
Result<at::ScalarType> parse_dtype(const std::string& name);
const char* dtype_label(at::ScalarType dtype);  // "float32", "bfloat16", "float16"
std::string shape_label(at::IntArrayRef shape);  // "[128, 64]", for messages

// generation_config.json / config.json "eos_token_id": int, list of ints, null or absent.
Result<std::vector<int64_t>> parse_token_ids(const nlohmann::json& j, const std::string& field,
                                             const std::string& source);

}  // namespace qb::model
