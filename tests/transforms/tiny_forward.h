// Test support for tests/transforms: a plain float64 decoder forward written from the formulas
// (independent of qb::model), synthetic random weights for any ModelConfig, and helpers that
// run the fusion into an in-memory tensor map.
//
// Forward (row vectors; T tokens, legend as in src/steps/model/model.h):
//   x = E[ids]                                                   [T, C]
//   per layer: h = rms(x)·g1; q,k,v = h·Wᵀ + b                   [T, H|KVH, D]
//              Qwen3: q, k = rms over D · q_norm, k_norm; RoPE (default, θ from the config)
//              a = softmax(q·kᵀ/√D + causal)·v  (GQA: KV head h / (H/KVH))      [T, H·D]
//              x += a·Woᵀ + bo; h = rms(x)·g2; m = silu(h·Wgᵀ + bg) ∘ (h·Wuᵀ + bu)  [T, F]
//              m = R4(m) when given (the online rotation); x += m·Wdᵀ + bd
//   logits = (rms(x)·gn)·W_lmᵀ (W_lm = E when lm_head.weight is absent)            [T, V]
#pragma once

#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "steps/hadamard/random.h"
#include "steps/hadamard/rotation.h"
#include "steps/model/model_config.h"
#include "steps/model/tensor_names.h"
#include "steps/model_io/checkpoint.h"
#include "steps/transforms/fusion.h"

namespace qb::transforms::testing {

using TensorMap = std::map<std::string, at::Tensor>;
using model::Role;

inline std::string wname(Role r, int64_t layer = -1, const char* kind = "weight") {
  return model::module_name(r, layer) + "." + kind;
}

inline at::Tensor rms(const at::Tensor& x, const at::Tensor& g, double eps) {
  return x / at::sqrt(x.pow(2).mean(-1, true) + eps) * g;
}

inline at::Tensor linear(const TensorMap& w, Role r, int64_t layer, const at::Tensor& x, bool bias) {
  auto y = at::matmul(x, w.at(wname(r, layer)).t());
  return bias ? y + w.at(wname(r, layer, "bias")) : y;
}

inline at::Tensor rope(const at::Tensor& x /*[T, heads, D]*/, double theta) {
  const int64_t T = x.size(0), D = x.size(2);
  auto inv = at::pow(theta, -at::arange(0, D, 2, at::kDouble) / static_cast<double>(D));  // [D/2]
  auto ang = at::outer(at::arange(T, at::kDouble), inv);                                   // [T, D/2]
  auto cos = at::cat({ang, ang}, -1).cos().unsqueeze(1), sin = at::cat({ang, ang}, -1).sin().unsqueeze(1);
  auto rot = at::cat({-x.narrow(2, D / 2, D / 2), x.narrow(2, 0, D / 2)}, -1);
  return x * cos + rot * sin;
}

inline at::Tensor tiny_forward(const model::ModelConfig& c, const TensorMap& w, const std::vector<int64_t>& ids,
                               const hadamard::Rotation* r4 = nullptr) {
  const int64_t T = static_cast<int64_t>(ids.size()), H = c.num_heads, KVH = c.num_kv_heads, D = c.head_dim;
  const double eps = c.rms_norm_eps;
  auto x = w.at(wname(Role::kTokenEmbd)).index_select(0, at::tensor(ids, at::kLong));  // [T, C]
  auto causal = at::full({T, T}, -INFINITY, at::kDouble).triu(1);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    auto h = rms(x, w.at(wname(Role::kAttnNorm, i)), eps);
    auto q = linear(w, Role::kAttnQ, i, h, c.qkv_bias).view({T, H, D});
    auto k = linear(w, Role::kAttnK, i, h, c.qkv_bias).view({T, KVH, D});
    auto v = linear(w, Role::kAttnV, i, h, c.qkv_bias).view({T, KVH, D});
    if (c.qk_norm) {
      q = rms(q, w.at(wname(Role::kAttnQNorm, i)), eps);
      k = rms(k, w.at(wname(Role::kAttnKNorm, i)), eps);
    }
    q = rope(q, c.rope.theta);
    k = rope(k, c.rope.theta);
    std::vector<at::Tensor> heads;
    for (int64_t hd = 0; hd < H; ++hd) {
      const int64_t kv = hd / (H / KVH);
      auto s = at::matmul(q.select(1, hd), k.select(1, kv).t()) / std::sqrt(static_cast<double>(D)) + causal;
      heads.push_back(at::matmul(at::softmax(s, -1), v.select(1, kv)));  // [T, D]
    }
    x = x + linear(w, Role::kAttnOut, i, at::cat(heads, -1), c.o_bias);
    h = rms(x, w.at(wname(Role::kFfnNorm, i)), eps);
    auto m = at::silu(linear(w, Role::kFfnGate, i, h, c.mlp_bias)) * linear(w, Role::kFfnUp, i, h, c.mlp_bias);
    if (r4) m = r4->apply(m);
    x = x + linear(w, Role::kFfnDown, i, m, c.mlp_bias);
  }
  x = rms(x, w.at(wname(Role::kOutputNorm)), eps);
  auto head = w.count(wname(Role::kOutput)) ? w.at(wname(Role::kOutput)) : w.at(wname(Role::kTokenEmbd));
  return at::matmul(x, head.t());  // [T, V]
}

// Random float64 weights of the config's shapes (norm weights around 1, so their fusion matters).
inline TensorMap random_weights(const model::ModelConfig& c, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto randn = [&](std::vector<int64_t> shape, double scale) {
    return at::normal(0.0, scale, shape, gen, at::kDouble);
  };
  const int64_t C = c.hidden_size, F = c.intermediate_size, QD = c.num_heads * c.head_dim,
                KD = c.num_kv_heads * c.head_dim;
  TensorMap w;
  w[wname(Role::kTokenEmbd)] = randn({c.vocab_size, C}, 1.0);
  w[wname(Role::kOutputNorm)] = 1.0 + randn({C}, 0.2);
  if (!c.tie_word_embeddings) w[wname(Role::kOutput)] = randn({c.vocab_size, C}, 1.0 / std::sqrt(C));
  for (int64_t i = 0; i < c.num_layers; ++i) {
    w[wname(Role::kAttnNorm, i)] = 1.0 + randn({C}, 0.2);
    w[wname(Role::kFfnNorm, i)] = 1.0 + randn({C}, 0.2);
    for (auto [r, out, in] : {std::tuple{Role::kAttnQ, QD, C}, std::tuple{Role::kAttnK, KD, C},
                              std::tuple{Role::kAttnV, KD, C}, std::tuple{Role::kAttnOut, C, QD},
                              std::tuple{Role::kFfnGate, F, C}, std::tuple{Role::kFfnUp, F, C},
                              std::tuple{Role::kFfnDown, C, F}}) {
      w[wname(r, i)] = randn({out, in}, 1.0 / std::sqrt(static_cast<double>(in)));
      const bool bias = (r == Role::kAttnQ || r == Role::kAttnK || r == Role::kAttnV) ? c.qkv_bias
                        : r == Role::kAttnOut                                          ? c.o_bias
                                                                                       : c.mlp_bias;
      if (bias) w[wname(r, i, "bias")] = randn({out}, 0.5);
    }
    if (c.qk_norm) {
      w[wname(Role::kAttnQNorm, i)] = 1.0 + randn({c.head_dim}, 0.2);
      w[wname(Role::kAttnKNorm, i)] = 1.0 + randn({c.head_dim}, 0.2);
    }
  }
  return w;
}

// Every tensor of a checkpoint, float64 on the CPU.
inline TensorMap load_all(const model_io::Checkpoint& ckpt) {
  TensorMap w;
  for (const auto& name : ckpt.tensor_names()) w[name] = ckpt.load(name).value().to(at::kDouble);
  return w;
}

// The fusion of `plan` over `src` into a map (float64, CPU); fails the test on error.
inline TensorMap fuse(const SpinQuantPlan& plan, const TensorMap& src, FusionPath path = FusionPath::kFast) {
  TensorMap out;
  auto source = [&](const std::string& name) -> Result<at::Tensor> {
    auto it = src.find(name);
    if (it == src.end()) return not_found("no tensor '" + name + "'");
    return it->second;
  };
  auto sink = [&](const std::string& name, const at::Tensor& v) -> Status {
    out[name] = v.to(at::kCPU);
    return Status::ok();
  };
  const Status s = fuse_and_rotate(plan, source, sink, at::kCPU, path);
  if (!s.is_ok()) throw std::runtime_error(s.to_string());
  return out;
}

// A gtest parameter name: "<prefix>_<type>_<R1_R2…>[_b<block>]" with '-' → '_'.
inline std::string case_name(std::string prefix, hadamard::RotationType type,
                             const std::vector<RotationId>& rotations, std::optional<int64_t> block) {
  std::string s = prefix + "_" + hadamard::rotation_type_name(type);
  for (auto r : rotations) s += std::string("_") + rotation_id_name(r);
  if (block) s += "_b" + std::to_string(*block);
  for (auto& ch : s)
    if (ch == '-') ch = '_';
  return s;
}

inline model::ModelConfig synthetic_config(model::Arch arch) {
  model::ModelConfig c;
  c.arch = arch;
  c.hidden_size = 48;
  c.intermediate_size = 96;
  c.num_layers = 2;
  c.num_heads = 6;
  c.num_kv_heads = 2;
  c.head_dim = 8;
  c.vocab_size = 40;
  c.rope.theta = 10000.0;
  c.qk_norm = arch == model::Arch::kQwen3;
  c.qkv_bias = arch != model::Arch::kQwen3;    // Qwen2; the Llama case has every bias
  c.o_bias = c.mlp_bias = arch == model::Arch::kLlama;
  c.tie_word_embeddings = arch != model::Arch::kQwen3;
  return c;
}

}  // namespace qb::transforms::testing
