#include "steps/model/random_model.h"

#include <unistd.h>

#include <cmath>

#include "steps/model/tensor_names.h"
#include "steps/model_io/checkpoint.h"
#include "steps/tokenizer/tokenizer.h"
#include "util/fs.h"

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
  if (name == "tiny" || name == "demo") {  // the same layers; demo has Qwen3's vocabulary
    c.hidden_size = 64;
    c.intermediate_size = 128;
    c.num_layers = 2;
    c.num_heads = 4;
    c.num_kv_heads = 2;
    c.head_dim = 16;
    if (name == "tiny") {
      c.vocab_size = 256;
      c.max_position_embeddings = 128;
      c.dtype = at::kFloat;
    } else {
      c.vocab_size = 151936;
      c.max_position_embeddings = 40960;
      c.bos_token_id = 151643;
      c.eos_token_ids = {151645, 151643};
    }
    return c;
  }
  return invalid_argument("unknown model shape '" + std::string(name) + "' (qwen3-8b, tiny, demo)");
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

nlohmann::json hf_config_json(const ModelConfig& c, at::ScalarType dtype) {
  const char* arch = c.arch == Arch::kQwen3   ? "Qwen3ForCausalLM"
                     : c.arch == Arch::kQwen2 ? "Qwen2ForCausalLM"
                                              : "LlamaForCausalLM";
  nlohmann::json eos = c.eos_token_ids.empty()       ? nlohmann::json()
                       : c.eos_token_ids.size() == 1 ? nlohmann::json(c.eos_token_ids[0])
                                                     : nlohmann::json(c.eos_token_ids);
  nlohmann::json rope = {{"rope_type", c.rope.type}, {"rope_theta", c.rope.theta}};
  if (c.rope.type == "llama3") {
    rope["factor"] = c.rope.factor;
    rope["low_freq_factor"] = c.rope.low_freq_factor;
    rope["high_freq_factor"] = c.rope.high_freq_factor;
    rope["original_max_position_embeddings"] = c.rope.original_max_position_embeddings;
  }
  nlohmann::json j = {{"architectures", {arch}},
                      {"model_type", c.model_type},
                      {"hidden_size", c.hidden_size},
                      {"intermediate_size", c.intermediate_size},
                      {"num_hidden_layers", c.num_layers},
                      {"num_attention_heads", c.num_heads},
                      {"num_key_value_heads", c.num_kv_heads},
                      {"head_dim", c.head_dim},
                      {"vocab_size", c.vocab_size},
                      {"max_position_embeddings", c.max_position_embeddings},
                      {"rms_norm_eps", c.rms_norm_eps},
                      {"rope_parameters", rope},
                      {"hidden_act", "silu"},
                      {"tie_word_embeddings", c.tie_word_embeddings},
                      {"attention_bias", c.qkv_bias},
                      {"attention_dropout", 0.0},
                      {"initializer_range", 0.02},
                      {"dtype", dtype_label(dtype)},
                      {"bos_token_id", c.bos_token_id ? nlohmann::json(*c.bos_token_id) : nlohmann::json()},
                      {"eos_token_id", eos},
                      {"pad_token_id", nullptr},
                      {"use_cache", true},
                      // Which save_pretrained this file mirrors. transformers (5.17) treats a
                      // local tokenizer whose config.json lacks it as a possibly broken Mistral
                      // one and warns about its regex on every load.
                      {"transformers_version", kHfTransformersVersion}};
  switch (c.arch) {
    case Arch::kQwen2:  // always has q/k/v biases: Qwen2Config has no attention_bias
      j.erase("attention_bias");
      [[fallthrough]];
    case Arch::kQwen3:  // Qwen2Config / Qwen3Config's sliding-window fields (all unused)
      j["layer_types"] = std::vector<std::string>(c.num_layers, "full_attention");
      j["max_window_layers"] = 28;
      j["sliding_window"] = nullptr;
      j["use_sliding_window"] = false;
      break;
    case Arch::kLlama:
      j["mlp_bias"] = c.mlp_bias;
      j["pretraining_tp"] = 1;
      break;
  }
  return j;
}

Status write_random_checkpoint(const RandomCheckpointRequest& req) {
  namespace stdfs = std::filesystem;
  ModelConfig c;
  if (req.config) {
    c = *req.config;
  } else {
    QB_ASSIGN_OR_RETURN(c, shape_config(req.shape));
  }
  if (req.layers > 0) c.num_layers = req.layers;
  std::error_code ec;
  if (stdfs::exists(req.out_dir / "config.json", ec))
    return invalid_argument("'" + req.out_dir.string() + "' already holds a model (config.json); remove it first");
  std::optional<tok::Tokenizer> tokenizer;
  if (!req.tokenizer_dir.empty()) {
    QB_ASSIGN_OR_RETURN(tokenizer, tok::Tokenizer::load(req.tokenizer_dir));
    if (tokenizer->vocab_size() > c.vocab_size)
      return invalid_argument("tokenizer '" + req.tokenizer_dir.string() + "' has " +
                              std::to_string(tokenizer->vocab_size()) + " ids, more than shape '" + req.shape +
                              "''s vocabulary of " + std::to_string(c.vocab_size));
  }
  ModelWeights w = random_weights(c, req.dtype, req.device, req.seed);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  auto norm = [&](const at::Tensor& ones) {
    if (req.norm_jitter == 0) return ones;
    return ones.add(at::randn_like(ones).mul_(req.norm_jitter));
  };
  auto dense = [](const std::shared_ptr<const Linear>& l) {
    return static_cast<const DenseLinear&>(*l).weight();
  };
  tensors.push_back({module_name(Role::kTokenEmbd) + ".weight", w.embed_tokens});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const LayerWeights& l = w.layers[i];
    auto add = [&](Role r, const at::Tensor& t) { tensors.push_back({module_name(r, i) + ".weight", t}); };
    add(Role::kAttnNorm, norm(l.input_layernorm));
    add(Role::kAttnQ, dense(l.q_proj));
    add(Role::kAttnK, dense(l.k_proj));
    add(Role::kAttnV, dense(l.v_proj));
    if (c.qk_norm) {
      add(Role::kAttnQNorm, norm(l.q_norm));
      add(Role::kAttnKNorm, norm(l.k_norm));
    }
    add(Role::kAttnOut, dense(l.o_proj));
    add(Role::kFfnNorm, norm(l.post_attention_layernorm));
    add(Role::kFfnGate, dense(l.gate_proj));
    add(Role::kFfnUp, dense(l.up_proj));
    add(Role::kFfnDown, dense(l.down_proj));
  }
  tensors.push_back({module_name(Role::kOutputNorm) + ".weight", norm(w.norm)});
  if (!c.tie_word_embeddings) tensors.push_back({module_name(Role::kOutput) + ".weight", dense(w.lm_head)});
  nlohmann::json gen = {{"bos_token_id", c.bos_token_id ? nlohmann::json(*c.bos_token_id) : nlohmann::json()},
                        {"eos_token_id", c.eos_token_ids},
                        {"do_sample", false}};
  // Written next to its place and renamed into it when complete: a crash never leaves a folder
  // that looks like a model (config.json) but lacks weights or tokenizer.
  stdfs::path tmp = req.out_dir;
  tmp += ".tmp-" + std::to_string(::getpid());
  stdfs::remove_all(tmp, ec);
  stdfs::create_directories(tmp, ec);
  if (ec) return io_error("creating '" + tmp.string() + "': " + ec.message());
  model_io::SaveOptions so;
  so.metadata["qbuild_random_model"] = req.shape + " seed " + std::to_string(req.seed);
  QB_TRY(model_io::save_checkpoint(tmp, tensors, hf_config_json(c, req.dtype), gen, so));
  if (tokenizer) {
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"}) {
      stdfs::path from = stdfs::is_directory(req.tokenizer_dir, ec) ? req.tokenizer_dir / f : stdfs::path();
      if (from.empty() || !stdfs::exists(from, ec)) continue;
      QB_ASSIGN_OR_RETURN(std::string data, fs::read_file(from));
      QB_TRY(fs::write_file_atomic(tmp / f, data));
    }
  }
  if (stdfs::exists(req.out_dir, ec)) {
    stdfs::remove(req.out_dir, ec);  // an empty folder only
    if (ec) {
      stdfs::remove_all(tmp, ec);
      return invalid_argument("'" + req.out_dir.string() + "' exists and is not empty; remove it first");
    }
  }
  stdfs::create_directories(req.out_dir.parent_path().empty() ? stdfs::path(".") : req.out_dir.parent_path(), ec);
  stdfs::rename(tmp, req.out_dir, ec);
  if (ec) return io_error("renaming '" + tmp.string() + "' to '" + req.out_dir.string() + "': " + ec.message());
  return Status::ok();
}

}  // namespace qb::model
