// Model: a decoder-only transformer of the Qwen3 / Qwen2 / Llama families on one device, in one
// compute dtype, with every projection behind the Linear interface.
//
// The forward pass (model.cc) is one loop over DecoderLayers. The layer-by-layer API (embed,
// layer_inputs, layer(i).forward, final_norm, lm_head) is what GPTQ calibration drives; the
// ForwardHooks observe intermediates (trace) and the input of every Linear by its Hugging Face
// module name ("model.layers.3.mlp.down_proj"); set_linear() swaps a projection.
// For speed, create() runs q|k|v and gate|up as one GEMM each when the parts allow it (all
// DenseLinear, all Int8Linear quantizing their shared input alike, or all WeightOnlyLinear of one
// format): the parts are rebound to
// views of the fused weight (same values, no extra memory); replacing a part unfuses its group.
//
// Legend for shape comments: B batch, T tokens in this forward, S key slots, C hidden_size,
// F intermediate_size, H / KVH query / key-value heads, D head_dim, V vocab_size.
//
// Tensor-level functions take ids [B, T] int64 and valid [B, T] bool (false = left padding) on
// the model's device and may throw c10::Error (bad shapes, ids out of range, out of memory);
// callers with untrusted ids use the checked functions of generate.h.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "steps/model/attention.h"
#include "steps/model/kv_cache.h"
#include "steps/model/linear.h"
#include "steps/model/model_config.h"
#include "steps/model/rope.h"
#include "util/status.h"

namespace qb::model {

struct LayerWeights {
  at::Tensor input_layernorm;              // [C]
  std::shared_ptr<const Linear> q_proj;    // C -> H*D
  std::shared_ptr<const Linear> k_proj;    // C -> KVH*D
  std::shared_ptr<const Linear> v_proj;    // C -> KVH*D
  at::Tensor q_norm;                       // [D] (Qwen3; undefined otherwise)
  at::Tensor k_norm;                       // [D] (Qwen3; undefined otherwise)
  std::shared_ptr<const Linear> o_proj;    // H*D -> C
  at::Tensor post_attention_layernorm;     // [C]
  std::shared_ptr<const Linear> gate_proj; // C -> F
  std::shared_ptr<const Linear> up_proj;   // C -> F
  std::shared_ptr<const Linear> down_proj; // F -> C
};

struct ModelWeights {
  at::Tensor embed_tokens;                 // [V, C]
  std::vector<LayerWeights> layers;        // L
  at::Tensor norm;                         // [C]
  std::shared_ptr<const Linear> lm_head;   // C -> V (a DenseLinear over embed_tokens when tied)
};

// Observers of one forward pass; both optional. Names are listed in model.cc.
struct ForwardHooks {
  std::function<void(const std::string& name, const at::Tensor& value)> trace;
  std::function<void(const std::string& module, const at::Tensor& input)> linear_input;
};

// What every layer's attention needs for one forward, computed once (Model::layer_inputs).
struct LayerInputs {
  RopeTables rope;  // cos/sin [B, T, 1, D]
  at::Tensor mask;  // [B, 1, T, S] additive, compute dtype
};

// How DecoderLayer::forward computes (Model::set_layer_path):
//   kFast   q|k|v and gate|up as one GEMM each, at::rms_norm, one q/k norm over all heads, the
//           model's AttentionImpl, the fused CUDA decode kernels where enabled.
//   kEager  transformers' modules op for op, as Qwen3DecoderLayer (Qwen2, Llama) runs with
//           attn_implementation="eager" — what llm-compressor calibrates with
//           (calibration_forward_context): each projection its own GEMM on its own weight,
//           RMSNorm as Qwen3RMSNorm (fp32 pow, mean, rsqrt, cast back, times the weight), q/k
//           norms on the [B, T, h, D] view, apply_rotary_pos_emb on [B, h, T, D], and
//           eager_attention_forward (repeat_kv, q·kᵀ · D^-0.5 + mask, softmax in fp32 cast back,
//           ·v). The same ATen ops on the same shapes and strides, so on the CPU with one
//           intra-op thread every intermediate is bit-identical to transformers' (the quantize
//           step's golden test shows it on static input scales). The additive mask here is -inf
//           where transformers' is finfo.min: both give exactly 0 after the softmax.
enum class LayerPath { kFast, kEager };

struct LoadOptions {
  at::Device device = at::kCPU;
  std::optional<at::ScalarType> dtype;  // compute dtype; default: the checkpoint's dtype
  AttentionImpl attention = AttentionImpl::kSdpa;
};

class DecoderLayer {
 public:
  // x [B, T, C] -> [B, T, C]. With a cache, this layer's keys/values go to slots
  // [cache->length(), + T) and attention covers slots [0, length() + T) (the caller advances the
  // cache after the last layer; Model::forward_hidden does). May throw c10::Error.
  at::Tensor forward(const at::Tensor& x, const LayerInputs& in, KvCache* cache,
                     const ForwardHooks* hooks = nullptr) const;
  const LayerWeights& weights() const { return w_; }
  int64_t index() const { return index_; }

  // The two halves of the eager path (LayerPath::kEager) with explicit weights `w` (this layer's
  // shapes; its config, attention and names): the smoothing stages run a layer's attention or
  // MLP alone with candidate weights, op for op as transformers' Qwen3Attention / Qwen3MLP
  // modules called on their own. forward_eager() is exactly: xn = input_layernorm(x);
  // r = x + eager_attention(w_, xn); out = r + eager_mlp(w_, post_attention_layernorm(r)).
  at::Tensor eager_attention(const LayerWeights& w, const at::Tensor& xn, const LayerInputs& in,
                             KvCache* cache, const ForwardHooks* hooks) const;  // [B,T,C] -> [B,T,C]
  at::Tensor eager_mlp(const LayerWeights& w, const at::Tensor& rn,
                       const ForwardHooks* hooks) const;  // [B,T,C] -> [B,T,C]

 private:
  friend class Model;
  at::Tensor linear(const Linear& f, std::string_view role, const at::Tensor& x,
                    const ForwardHooks* hooks) const;
  void observe(const ForwardHooks* hooks, std::string_view role, const at::Tensor& x) const;
  void trace(const ForwardHooks* hooks, std::string_view what, const at::Tensor& t) const;
  // LayerPath::kEager (see there).
  at::Tensor forward_eager(const at::Tensor& x, const LayerInputs& in, KvCache* cache,
                           const ForwardHooks* hooks) const;
  // The one-token step over a cache through the fused CUDA kernels (fused_decode.h).
  at::Tensor forward_decode_fused(const at::Tensor& x, const LayerInputs& in, KvCache& cache) const;
  // Builds qkv_ / gate_up_ / qk_norm_ from w_ (model.cc); call after w_ changes. On the eager
  // path it only gives each part of a fused projection its own weight again (unfuse()).
  void fuse();
  void unfuse();

  std::shared_ptr<const ModelConfig> config_;
  AttentionImpl attention_ = AttentionImpl::kSdpa;
  LayerPath path_ = LayerPath::kFast;
  bool fused_decode_ = false;
  int64_t index_ = 0;
  std::string prefix_;  // "model.layers.3."
  LayerWeights w_;
  // q|k|v and gate|up as one GEMM each, when the parts are all plain DenseLinears or all
  // Int8Linears that quantize their (shared) input alike (their weights then are views of the
  // fused one); null otherwise.
  std::shared_ptr<const Linear> qkv_, gate_up_;
  at::Tensor qk_norm_;  // [H + 2 KVH, D]: q_norm per query head, k_norm per key head, 1 per v head
};

class Model {
 public:
  // Reads config.json, generation_config.json and the weights through qb::model_io::Checkpoint;
  // quantized linears per config.json's quantization_config. Errors name the directory and the
  // tensor ("model.layers.1.mlp.up_proj.weight: shape [96, 64], expected [128, 64]").
  static Result<Model> load(const std::filesystem::path& dir, const LoadOptions& opts = {});
  // From weights built in memory (benchmarks, tests, transforms); checks every shape, dtype and
  // device against the config and opts (opts.dtype defaults to the embedding's dtype).
  static Result<Model> create(ModelConfig config, ModelWeights weights,
                              const LoadOptions& opts = {});

  const ModelConfig& config() const { return *config_; }
  at::Device device() const { return device_; }
  at::ScalarType dtype() const { return dtype_; }
  // generation_config.json's eos_token_id when given, else config.json's.
  const std::vector<int64_t>& eos_token_ids() const { return eos_token_ids_; }
  void set_eos_token_ids(std::vector<int64_t> ids) { eos_token_ids_ = std::move(ids); }
  AttentionImpl attention_impl() const { return attention_; }
  void set_attention_impl(AttentionImpl impl);
  LayerPath layer_path() const { return path_; }
  // kEager turns the fused decode kernels off and gives every projection its own weight;
  // kFast fuses them again (the fused decode kernels stay off until set_fused_decode(true)).
  void set_layer_path(LayerPath path);
  // One-token steps over a cache through the fused CUDA kernels (fused_decode.h): on by default
  // where fused::supports() the model (CUDA, bf16/fp16, a supported head shape), the attention
  // is kSdpa and the layer path kFast; off, they run op by op. Returns whether it is on.
  bool set_fused_decode(bool on);
  bool fused_decode() const { return fused_decode_; }

  // ---- layer by layer ----
  at::Tensor embed(const at::Tensor& ids) const;  // [B, T] -> [B, T, C]
  // RoPE tables and mask for T new tokens. Without a cache the tokens are the whole sequence;
  // with one they follow the cached slots (and are recorded in it: call once per forward).
  LayerInputs layer_inputs(const at::Tensor& valid, KvCache* cache) const;
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }
  const DecoderLayer& layer(int64_t i) const { return layers_.at(i); }
  at::Tensor final_norm(const at::Tensor& h) const;  // [..., C] -> [..., C]
  at::Tensor lm_head(const at::Tensor& h) const;     // [..., C] -> [..., V] compute dtype

  // ---- whole model ----
  // ids/valid [B, T] -> final-normed hidden states [B, T, C]; advances the cache by T.
  at::Tensor forward_hidden(const at::Tensor& ids, const at::Tensor& valid, KvCache* cache,
                            const ForwardHooks* hooks = nullptr) const;
  // ids/valid [B, T] -> logits [B, T, V] fp32.
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& valid, KvCache* cache = nullptr,
                     const ForwardHooks* hooks = nullptr) const;
  // A cache for `batch` rows of up to `max_len` slots in the compute dtype on the device.
  KvCache new_cache(int64_t batch, int64_t max_len) const;

  // Moves layer i's weights to `device` (the quantize step's layer-by-layer onloading: the model
  // stays on the host and only the layer being calibrated sits on the GPU). The layer then takes
  // inputs on that device; layer_inputs() builds them on the device of `valid`. The meta device
  // releases a layer that will not run again (shapes kept, no data). Errors: a projection kind
  // that cannot move (quantized layers).
  Status move_layer(int64_t i, at::Device device);

  // ---- linears by module name ----
  std::vector<std::string> linear_names() const;  // layers in order, then "lm_head"
  std::shared_ptr<const Linear> linear(std::string_view module) const;  // nullptr if unknown
  // Replaces a projection; its in/out features must match. Errors name the module.
  Status set_linear(std::string_view module, std::shared_ptr<const Linear> replacement);
  // Replaces all of layer i's weights at once (the smoothing stages: norms and projections
  // rescaled together); shapes, dtypes and the layer's device are checked as in create().
  Status set_layer_weights(int64_t i, LayerWeights w);
  const at::Tensor& embed_tokens() const { return embed_tokens_; }
  const at::Tensor& norm_weight() const { return norm_; }

 private:
  std::shared_ptr<const Linear>* linear_slot(std::string_view module);

  std::shared_ptr<const ModelConfig> config_;
  at::Device device_ = at::kCPU;
  at::ScalarType dtype_ = at::kFloat;
  AttentionImpl attention_ = AttentionImpl::kSdpa;
  LayerPath path_ = LayerPath::kFast;
  bool fused_decode_ = false;
  std::vector<int64_t> eos_token_ids_;
  at::Tensor embed_tokens_;  // [V, C]
  std::vector<DecoderLayer> layers_;
  at::Tensor norm_;          // [C]
  std::shared_ptr<const Linear> lm_head_;
  at::Tensor inv_freq_;      // [D/2] fp32
};

}  // namespace qb::model
