// Online (activation-side) transforms a checkpoint declares, read the way vLLM reads them from
// config.json["quantization_config"]["transform_config"] (compressed-tensors 0.19.0 schema):
//
//   {"config_groups": {"R4": {"type": "random-hadamard", "head_dim": null | b,
//                              "apply": [{"targets": ["re:.*down_proj$"], "location": "input",
//                                         "inverse": false, "ignore": []}, …], …}}}
//
// Only `input` and `output` locations run online; weight_input / weight_output are already
// fused into the weights and are skipped here. The transform's matrix is stored as the tensor
// "<module>.<group>_<location>.weight" (T, [b, b]; b = head_dim or the full size), applied as
// x ↦ x @ T/√b per block (x @ Tᵀ/√b when inverse) — see Rotation::from_weight(). Writers that
// tie the weights across layers (compressed-tensors does) store it only for the first module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/hadamard/rotation.h"
#include "util/status.h"

namespace qb::hadamard {

struct OnlineTransform {
  std::string group;                // config group name, e.g. "R4"
  RotationType type = RotationType::kHadamard;
  std::optional<int64_t> head_dim;  // block size, when set
  std::string location;             // "input" or "output"
  bool inverse = false;
  std::vector<std::string> targets, ignore;

  // True when `module` (a dotted module name; class_name its torch class, "Linear" for linears)
  // is targeted and not ignored.
  bool applies_to(std::string_view module, std::string_view class_name = "Linear") const;
  // "<module>.<group>_<location>.weight"
  std::string weight_name(std::string_view module) const;
};

// The online transforms of `config` (a whole config.json); empty when there is no
// transform_config. Errors (invalid_argument, naming the group): malformed structure, unknown
// type, an online location other than input/output (q_attn and k_cache are not supported).
Result<std::vector<OnlineTransform>> online_transforms(const nlohmann::json& config);

// compressed-tensors' target rule: "re:<regex>" matches when the regex matches at the start of
// the name (Python re.match); otherwise the target equals the name or the class name.
bool target_matches(std::string_view target, std::string_view module, std::string_view class_name);

}  // namespace qb::hadamard
