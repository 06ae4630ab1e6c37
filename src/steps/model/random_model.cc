#include "steps/model/random_model.h"

#include <cmath>

namespace qb::model {

Result<ModelConfig> shape_config(std::string_view name) {
  ModelConfig c;
  c.arch = Arch::kQwen3;
  c.model_type = "qwen3";
  c.qk_norm = true;
  c.rms_norm_eps = 1e-6;
  c.rope.theta = 1e6;
  c.dtype = at::kBFloat16;
  if (name == "qwen3-8b") {
    c.hidden_size = 4096;
    c.intermediate_size = 12288;
    c.num_layers = 36;
    c.num_heads = 32;
    c.num_kv_heads = 8;
    c.head_dim = 128;
    c.vocab_size = 151936;
    c.max_position_embeddings = 40960;
    c.eos_token_ids = {151645, 151643};
    return c;
  }
  if (name == "tiny") {
    c.hidden_size = 64;
    c.intermediate_size = 128;
    c.num_layers = 2;
    c.num_heads = 4;
    c.num_kv_heads = 2;
    c.head_dim = 16;
    c.vocab_size = 256;
    c.max_position_embeddings = 128;
    c.dtype = at::kFloat;
    return c;
  }
  return invalid_argument("unknown model shape '" + std::string(name) + "' (qwen3-8b, tiny)");
}

ModelWeights random_weights(const ModelConfig& c, at::ScalarType dtype, at::Device device,
                            uint64_t seed) {
  at::manual_seed(seed);
  const auto opts = at::TensorOptions().dtype(dtype).device(device);
  auto linear = [&](int64_t in, int64_t out, bool bias) -> std::shared_ptr<const Linear> {
    at::Tensor w = at::randn({out, in}, opts).mul_(1.0 / std::sqrt(static_cast<double>(in)));
    std::optional<at::Tensor> b;
    if (bias) b = at::randn({out}, opts).mul_(0.1);
    return std::make_shared<DenseLinear>(w, b);
  };
  const int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  ModelWeights w;
  w.embed_tokens = at::randn({c.vocab_size, c.hidden_size}, opts);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    LayerWeights l;
    l.input_layernorm = at::ones({c.hidden_size}, opts);
    l.q_proj = linear(c.hidden_size, q_out, c.qkv_bias);
    l.k_proj = linear(c.hidden_size, kv_out, c.qkv_bias);
    l.v_proj = linear(c.hidden_size, kv_out, c.qkv_bias);
    if (c.qk_norm) {
      l.q_norm = at::ones({c.head_dim}, opts);
      l.k_norm = at::ones({c.head_dim}, opts);
    }
    l.o_proj = linear(q_out, c.hidden_size, c.o_bias);
    l.post_attention_layernorm = at::ones({c.hidden_size}, opts);
    l.gate_proj = linear(c.hidden_size, c.intermediate_size, c.mlp_bias);
    l.up_proj = linear(c.hidden_size, c.intermediate_size, c.mlp_bias);
    l.down_proj = linear(c.intermediate_size, c.hidden_size, c.mlp_bias);
    w.layers.push_back(std::move(l));
  }
  w.norm = at::ones({c.hidden_size}, opts);
  w.lm_head = c.tie_word_embeddings
                  ? std::make_shared<DenseLinear>(w.embed_tokens, std::nullopt, "dense (tied)")
                  : linear(c.hidden_size, c.vocab_size, false);
  return w;
}

}  // namespace qb::model
