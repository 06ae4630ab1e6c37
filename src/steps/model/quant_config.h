// QuantizationConfig: config.json's "quantization_config" for compressed-tensors checkpoints
// (compressed-tensors 0.19.0, quantization/quant_config.py), as far as loading needs it: which
// Linear modules are quantized, with which arguments, in which on-disk format.
//
//   {"quant_method": "compressed-tensors", "format": "int-quantized",
//    "quantization_status": "compressed",
//    "config_groups": {"group_0": {"targets": ["Linear"], "weights": {...},
//                                  "input_activations": {...} | null, "format": ...}},
//    "ignore": ["lm_head", "re:.*down_proj$"], ...}
//
// Matching (compressed-tensors utils/match.py is_match): a target or ignore entry matches a
// module when it is the module's class name ("Linear"; every module here is a Linear), its exact
// name, or "re:<regex>" with Python re.match semantics (anchored at the start only). A module
// matched by an ignore entry is not quantized. A module matched by two groups is an error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/targets.h"
#include "steps/qmath/quant_args.h"
#include "util/status.h"

namespace qb::model {

struct QuantGroup {
  std::string name;  // "group_0"
  std::vector<std::string> targets;
  std::optional<qmath::QuantArgs> weights;
  std::optional<qmath::QuantArgs> input_activations;
  std::string format;  // the group's "format", else the config's
};

struct QuantizationConfig {
  std::string format;  // top-level "format"
  std::string status;  // "quantization_status"
  std::vector<QuantGroup> groups;
  std::vector<std::string> ignore;
  // kv_cache_scheme (fp8 e4m3, static, per tensor or per head): every attention module then has
  // "<layer>.self_attn.k_scale" / "v_scale" ([1] or [KVH, 1, 1]); nullopt: the cache is not
  // quantized.
  std::optional<qmath::QuantArgs> kv_cache;

  // nullopt when config.json has no quantization_config or one without config_groups (a
  // transform-only model: see online_transforms.h). Errors name `source` and the field:
  // a quant_method other than compressed-tensors, a quantization_status other than
  // "compressed", output_activations, a kv_cache_scheme other than static fp8 per tensor or per
  // head, a non-empty sparsity_config, malformed arguments.
  static Result<std::optional<QuantizationConfig>> from_model_config(const nlohmann::json& config,
                                                                     const std::string& source);

  // The group quantizing Linear `module`, nullptr when it stays dense. Errors: an invalid regex,
  // two groups matching.
  Result<const QuantGroup*> group_for(std::string_view module) const;
};

// One target/ignore entry against a Linear module's name (src/spec/targets.h: the same rule the
// config layer checks recipes with).
using spec::matches_target;

// compressed-tensors QuantizationArgs JSON -> QuantArgs. Errors name `source`.
Result<qmath::QuantArgs> parse_quant_args(const nlohmann::json& j, const std::string& source);

}  // namespace qb::model
