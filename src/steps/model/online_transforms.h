// Online input rotations read from config.json's "quantization_config"."transform_config" (or a
// top-level "transform_config"), compressed-tensors 0.19.0 transform/transform_config.py, as
// llm-compressor's SpinQuantModifier writes it for R4:
//
//   "transform_config": {"config_groups": {"R4": {
//       "type": "hadamard" | "random-hadamard" | "random-matrix", "head_dim": null | b,
//       "randomize": false, "apply": [
//         {"targets": ["re:.*down_proj$"], "location": "input", "inverse": false, "ignore": []},
//         {"targets": ["re:.*down_proj$"], "location": "weight_input", "inverse": true}]}}}
//
// Offline locations (weight_input, weight_output) are already fused into the stored weights and
// are skipped. An "input" location becomes an InputTransform in front of the matched Linear:
// x -> x @ Q (Qᵀ when inverse), Q block-diagonal with blocks of head_dim (default: the whole
// input). The block matrix comes from the checkpoint tensor "<module>.<scheme>_input.weight" when
// present (T = √b·Q_b, compressed-tensors' storage convention), else from the one stored for
// another module of the same scheme (compressed-tensors shares a scheme's weight between its
// modules, and safetensors keeps a shared tensor once: layer 0's), otherwise it is built, which
// only the deterministic "hadamard" type allows. Other online locations (output, k_cache, q_attn) and
// randomize: true are rejected.
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/hadamard/rotation.h"
#include "steps/model/linear.h"
#include "steps/model_io/checkpoint.h"
#include "util/status.h"

namespace qb::model {

// x -> x @ Q (or x @ Qᵀ) of a qb::hadamard::Rotation.
class RotationTransform final : public InputTransform {
 public:
  RotationTransform(hadamard::Rotation rotation, bool inverse, std::string label);
  at::Tensor apply(const at::Tensor& x) const override;
  int64_t size() const override { return rotation_.size(); }
  std::string describe() const override { return label_; }
  const hadamard::Rotation& rotation() const { return rotation_; }
  bool inverse() const { return inverse_; }

 private:
  hadamard::Rotation rotation_;
  bool inverse_;
  std::string label_;
};

class OnlineTransforms {
 public:
  // Empty when config.json has no (or an empty) transform_config. Errors name `source`.
  static Result<OnlineTransforms> from_model_config(const nlohmann::json& config,
                                                    const std::string& source);
  bool empty() const { return entries_.empty(); }

  // The transform in front of Linear `module` (in_features inputs), nullptr when none. Errors:
  // a transform matched twice, a stored weight of the wrong shape, a type that needs a stored
  // weight and has none.
  Result<std::shared_ptr<const InputTransform>> for_module(const model_io::Checkpoint& ckpt,
                                                           std::string_view module,
                                                           int64_t in_features) const;

 private:
  struct Entry {
    std::string scheme;  // "R4"
    hadamard::RotationType type = hadamard::RotationType::kHadamard;
    int64_t block_size = 0;  // head_dim; 0 = whole input
    bool inverse = false;
    std::vector<std::string> targets, ignore;
  };
  std::vector<Entry> entries_;
};

}  // namespace qb::model
