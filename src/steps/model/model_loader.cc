// Model::load: a Hugging Face checkpoint directory -> Model, through qb::model_io::Checkpoint and
// the role -> name table of tensor_names.h. Every tensor is checked (present, shape, dtype kind)
// before the model is assembled; Model::create() checks the assembly once more.
#include "steps/model/linear_loader.h"
#include "steps/model/model.h"
#include "steps/model/tensor_names.h"
#include "util/log.h"
#include "util/progress.h"

namespace qb::model {

Result<Model> Model::load(const std::filesystem::path& dir, const LoadOptions& opts) {
  const std::string where = "loading model '" + dir.string() + "'";
  QB_ASSIGN_OR_RETURN_CTX(model_io::Checkpoint ckpt, model_io::Checkpoint::open(dir), where);
  const std::string config_path = (dir / model_io::kConfigFile).string();
  QB_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::from_json(ckpt.config(), config_path));
  QB_ASSIGN_OR_RETURN(std::optional<QuantizationConfig> quant,
                      QuantizationConfig::from_model_config(ckpt.config(), config_path));
  QB_ASSIGN_OR_RETURN(OnlineTransforms transforms,
                      OnlineTransforms::from_model_config(ckpt.config(), config_path));

  LinearLoadContext ctx;
  ctx.ckpt = &ckpt;
  ctx.quant = quant ? &*quant : nullptr;
  ctx.transforms = transforms.empty() ? nullptr : &transforms;
  ctx.dtype = opts.dtype.value_or(config.dtype);
  ctx.device = opts.device;
  const ModelConfig& c = config;
  auto weight = [](Role r, int64_t layer = -1) { return module_name(r, layer) + ".weight"; };
  auto linear = [&](Role r, int64_t layer, int64_t in, int64_t out, bool bias) {
    return load_linear(ctx, LinearSpec{module_name(r, layer), in, out, bias});
  };

  ModelWeights w;
  QB_ASSIGN_OR_RETURN_CTX(w.embed_tokens,
                          load_float_tensor(ctx, weight(Role::kTokenEmbd),
                                            {c.vocab_size, c.hidden_size}),
                          where);
  QB_ASSIGN_OR_RETURN_CTX(w.norm, load_float_tensor(ctx, weight(Role::kOutputNorm), {c.hidden_size}),
                          where);
  if (c.tie_word_embeddings) {
    if (ckpt.has(weight(Role::kOutput)))
      log::warn(where + ": tie_word_embeddings is true; ignoring the stored lm_head.weight");
    w.lm_head = std::make_shared<DenseLinear>(w.embed_tokens, std::nullopt, "dense (tied)");
  } else {
    QB_ASSIGN_OR_RETURN_CTX(w.lm_head, linear(Role::kOutput, -1, c.hidden_size, c.vocab_size,
                                              false), where);
  }

  const int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  Progress progress("load layers", c.num_layers, 10.0);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    LayerWeights l;
    QB_ASSIGN_OR_RETURN_CTX(l.input_layernorm,
                            load_float_tensor(ctx, weight(Role::kAttnNorm, i), {c.hidden_size}),
                            where);
    QB_ASSIGN_OR_RETURN_CTX(l.q_proj, linear(Role::kAttnQ, i, c.hidden_size, q_out, c.qkv_bias),
                            where);
    QB_ASSIGN_OR_RETURN_CTX(l.k_proj, linear(Role::kAttnK, i, c.hidden_size, kv_out, c.qkv_bias),
                            where);
    QB_ASSIGN_OR_RETURN_CTX(l.v_proj, linear(Role::kAttnV, i, c.hidden_size, kv_out, c.qkv_bias),
                            where);
    if (c.qk_norm) {
      QB_ASSIGN_OR_RETURN_CTX(l.q_norm,
                              load_float_tensor(ctx, weight(Role::kAttnQNorm, i), {c.head_dim}),
                              where);
      QB_ASSIGN_OR_RETURN_CTX(l.k_norm,
                              load_float_tensor(ctx, weight(Role::kAttnKNorm, i), {c.head_dim}),
                              where);
    }
    QB_ASSIGN_OR_RETURN_CTX(l.o_proj, linear(Role::kAttnOut, i, q_out, c.hidden_size, c.o_bias),
                            where);
    QB_ASSIGN_OR_RETURN_CTX(l.post_attention_layernorm,
                            load_float_tensor(ctx, weight(Role::kFfnNorm, i), {c.hidden_size}),
                            where);
    QB_ASSIGN_OR_RETURN_CTX(l.gate_proj, linear(Role::kFfnGate, i, c.hidden_size,
                                                c.intermediate_size, c.mlp_bias), where);
    QB_ASSIGN_OR_RETURN_CTX(l.up_proj, linear(Role::kFfnUp, i, c.hidden_size,
                                              c.intermediate_size, c.mlp_bias), where);
    QB_ASSIGN_OR_RETURN_CTX(l.down_proj, linear(Role::kFfnDown, i, c.intermediate_size,
                                                c.hidden_size, c.mlp_bias), where);
    if (quant && quant->kv_cache) {
      // kv_cache_scheme: "<layer>.self_attn.k_scale" / "v_scale", fp32 for the e4m3 rounding.
      const std::vector<int64_t> kv_shape =
          quant->kv_cache->strategy == qmath::Strategy::kAttnHead
              ? std::vector<int64_t>{c.num_kv_heads, 1, 1}
              : std::vector<int64_t>{1};
      const std::string attn = "model.layers." + std::to_string(i) + ".self_attn.";
      LinearLoadContext f32 = ctx;
      f32.dtype = at::kFloat;
      QB_ASSIGN_OR_RETURN_CTX(l.k_scale, load_float_tensor(f32, attn + "k_scale", kv_shape), where);
      QB_ASSIGN_OR_RETURN_CTX(l.v_scale, load_float_tensor(f32, attn + "v_scale", kv_shape), where);
    }
    w.layers.push_back(std::move(l));
    progress.advance();
  }

  QB_ASSIGN_OR_RETURN(std::vector<int64_t> gen_eos,
                      parse_token_ids(ckpt.generation_config(), "eos_token_id",
                                      (dir / model_io::kGenerationConfigFile).string()));
  LoadOptions create_opts = opts;
  create_opts.dtype = ctx.dtype;
  QB_ASSIGN_OR_RETURN_CTX(Model m, Model::create(std::move(config), std::move(w), create_opts),
                          where);
  if (!gen_eos.empty()) m.set_eos_token_ids(std::move(gen_eos));
  log::info("loaded " + dir.string() + " (" + std::to_string(m.config().num_layers) +
                      " layers, " + m.config().model_type + (quant ? ", quantized" : "") +
                      (m.fp8_kv_cache() ? ", fp8 KV cache (emulated)" : "") +
                      ") on " + m.device().str() + " as " + dtype_label(m.dtype()));
  return m;
}

}  // namespace qb::model
