// QuantRecipe: what the quantize step does, as llm-compressor 0.14.0.1 recipes express it
// (QuantizationModifier = RTN, GPTQModifier = GPTQ; config_groups or a preset scheme; ignore),
// restricted to what vLLM can load from a compressed-tensors int checkpoint.
//
// recipe_from_json() reads the canonical params the config layer writes for a quant node
// (src/config/specs.h QuantSpec::params) and also the looser llm-compressor spelling
// ("scheme": "W8A8", "targets", modifier-level "actorder"); it validates like
// compressed-tensors 0.19 + vLLM and names the offending field:
//   token strategy needs dynamic: true          activations cannot be per-channel
//   group needs group_size > 0                  dynamic activations: per-token only
//   static activations: per-tensor only         activations: symmetric 8-bit int
//   W8A8 weights: 8-bit symmetric tensor|channel weight-only: 4 or 8 bits, channel|group
//   type float (fp8) is not implemented        actorder group/dynamic were removed
// A group_size that does not divide a Linear's in_features is found when the model is known
// (run_quantize), as compressed-tensors does.
//
// Presets (compressed-tensors 0.19 quant_scheme.py): W8A8 = int8 per-channel symmetric weights +
// int8 dynamic per-token activations; W8A16 = int8 weights group 128; W4A16 = int4 group 128.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/qmath/quant_args.h"
#include "util/status.h"

namespace qb::quant {

enum class Modifier { kRtn, kGptq };  // "QuantizationModifier" | "GPTQModifier"
const char* modifier_name(Modifier m);

struct ConfigGroup {
  std::string name;                  // "group_0"
  std::vector<std::string> targets;  // "Linear", module names, "re:<regex>"
  qmath::QuantArgs weights;
  std::optional<qmath::QuantArgs> input_activations;  // nullopt: weight-only
};

// Calibration data for GPTQ and static activations. The source file itself is named by the
// request (its path is not part of the recipe's identity).
struct CalibrationSettings {
  std::string source_kind = "txt";  // "txt" | "jsonl" | "dataset"
  std::int64_t num_samples = 512;
  std::int64_t seq_len = 2048;
  std::uint64_t seed = 0;
};

struct QuantRecipe {
  Modifier modifier = Modifier::kRtn;
  std::vector<ConfigGroup> groups;
  std::vector<std::string> ignore;  // module names, class names, "re:<regex>"
  std::int64_t block_size = 128;    // GPTQ
  double dampening_frac = 0.01;     // GPTQ
  bool save_compressed = true;
  std::optional<CalibrationSettings> calibration;

  // GPTQ, or any group with static input activations.
  bool needs_calibration() const;
};

// A preset scheme ("W8A8", "W8A16", "W4A16"; case-insensitive) for `targets`, named "group_0".
// Errors: unknown name (the message lists the known ones).
Result<ConfigGroup> preset_group(std::string_view scheme, std::vector<std::string> targets);

// Errors (invalid_argument) name the field: "recipe: config_groups.group_0.input_activations:
// strategy token requires dynamic: true".
Result<QuantRecipe> recipe_from_json(const nlohmann::json& params);

// The vLLM-loadability and consistency rules above for one group ("recipe: <where>: ...").
Status validate_group(const ConfigGroup& g, Modifier modifier, const std::string& where);

}  // namespace qb::quant
