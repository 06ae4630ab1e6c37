// QuantRecipe: the typed spec of a `quant` node — what the quantize step does, as llm-compressor
// 0.14.0.1 recipes express it (QuantizationModifier = RTN, GPTQModifier = GPTQ; config groups
// or a preset scheme; ignore; kv_cache_scheme), restricted to what vLLM can load from a
// compressed-tensors int or fp8 checkpoint, plus the calibration settings and the compute dtype
// the step runs in. FP8 groups and the KV-cache scheme follow spec/fp8_rules.h.
//
// A recipe may list smoothing stages before its quantization modifier (llm-compressor recipes
// with several modifiers: [SmoothQuantModifier, GPTQModifier], [AWQModifier,
// QuantizationModifier]; spec/smoothing.h). The graph runs them as a `smooth` node of their own
// (SmoothSpec, spec/smooth_spec.h) whose fp model the `quant` node quantizes with
// quantization_stage() — exactly what llm-compressor's default "independent" pipeline computes:
// each modifier calibrates on the model the previous one left.
//
// One home for every parameter: the defaults are the member initializers below (and the preset
// table in quant_recipe.cc), validate() holds every rule the config layer reports at --dry-run
// and the step re-checks, to_json() is the canonical form the graph hashes into the node key
// and from_json() reads back exactly that form (every field present, nothing defaulted).
//
// Canonical JSON (version kQuantRecipeFormat; key order is irrelevant to the hash):
//   {"modifier": "QuantizationModifier"|"GPTQModifier",
//    "config_groups": {"<group>": {"targets": [sorted, unique],
//        "weights": <args>, "input_activations": null | <args>}},
//    "ignore": [sorted, unique], "save_compressed": bool,
//    "device": "cpu"|"cuda", "compute_dtype": "float32"|"bfloat16",
//    ["block_size": int, "dampening_frac": float]            (GPTQ only)
//    ["calibration": {"source_kind": "txt"|"jsonl", "num_samples", "seq_len", "seed"}]
//                                                             (exactly when needs_calibration())
//    ["kv_cache_scheme": <args>]                              (only when set: fp8 KV cache)
//    ["stages": [<stage>, ...]]}                              (only when there are any; the
//                                                              stage JSON is in smoothing.h)
//   <args> = {"num_bits", "type": "int"|"float", "symmetric", "strategy", "group_size": null|int,
//             "dynamic", "observer": null|name, "observer_kwargs": {...}, "scale_rule",
//             "rounding": "half_even", ["actorder": null|"weight" (GPTQ weights)],
//             ["block_structure": [rows, cols] (strategy block only)]}
//   A kv_cache_scheme's observer null means llm-compressor's default for it, "minmax" (it
//   records null in the checkpoint's config too).
//
// Conventions fixed here and recorded in the args (the quantizer and the runtime implement them):
//   - static scales, symmetric: absmax / ((2^bits - 1) / 2), i.e. absmax/127.5 for int8 —
//     llm-compressor's calibration; asymmetric: (max - min)/(2^bits - 1);
//   - dynamic per-token activation scales: absmax / (2^(bits-1) - 1) = absmax/127, as vLLM's
//     int8 kernel computes them at run time;
//   - fp8 (e4m3): scale = absmax / 448 (static and dynamic), values rounded to the nearest
//     e4m3 (ties to even) after clamping to ±448 (qmath/fp8.h);
//   - rounding half-to-even everywhere;
//   - observers: weights memoryless (llm-compressor always swaps in the memoryless twin),
//     static activations static_minmax unless written (llm-compressor 0.14 would pick its
//     moving-average "minmax"; we choose the global min/max its maintainers recommend, and make
//     it explicit in the key).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/issues.h"
#include "spec/quant_args.h"
#include "spec/smoothing.h"
#include "util/status.h"

namespace qb::spec {

class CanonicalReader;

// The fields every scheme's arguments start with — num_bits, type, symmetric, strategy,
// group_size (0 when null) — read from canonical JSON into `a` (the recipe's args and the AWQ
// stage's weight scheme share them).
void read_scheme_core(CanonicalReader& r, QuantArgs& a, Issues& issues);

inline constexpr int kQuantRecipeFormat = 1;

enum class Modifier { kRtn, kGptq };  // "QuantizationModifier" | "GPTQModifier"
const char* modifier_name(Modifier m);

struct ConfigGroup {
  std::string name;                  // "group_0"
  std::vector<std::string> targets;  // "Linear", module names, "re:<regex>"
  QuantArgs weights;
  std::optional<QuantArgs> input_activations;  // nullopt: weight-only
  bool operator==(const ConfigGroup&) const = default;
};

// Calibration data for GPTQ and static activations. The source file is an input of the node
// (keyed by its content), so its path is not part of the recipe.
struct CalibrationSpec {
  std::string source_kind = "txt";  // "txt" | "jsonl"
  std::int64_t num_samples = 512;   // llm-compressor's examples: 512 × 2048 tokens
  std::int64_t seq_len = 2048;
  std::uint64_t seed = 0;
  bool operator==(const CalibrationSpec&) const = default;
};

// Bounds that keep a typo from asking for terabytes (checked by validate()).
inline constexpr std::int64_t kMaxCalibrationSamples = 1'000'000;
inline constexpr std::int64_t kMaxCalibrationSeqLen = 1'048'576;
inline constexpr std::int64_t kMaxCalibrationTokens = std::int64_t{1} << 27;  // 134M tokens

// The calibration settings' rules (paths "calibration.<field>").
void validate_calibration(const CalibrationSpec& c, Issues& issues);

struct QuantRecipe {
  // Smoothing modifiers that run before the quantization modifier, in recipe order.
  std::vector<SmoothingStage> stages;
  Modifier modifier = Modifier::kRtn;
  std::vector<ConfigGroup> groups;  // in name order
  std::vector<std::string> ignore;  // module names, class names, "re:<regex>"; sorted, unique
  std::int64_t block_size = 128;    // GPTQ: columns per block
  double dampening_frac = 0.01;     // GPTQ: H += dampening_frac · mean(diag H) · I
  bool save_compressed = true;
  std::optional<CalibrationSpec> calibration;  // set exactly when needs_calibration()
  // FP8 KV cache (k_scale / v_scale calibrated per attention layer); nullopt: not quantized.
  std::optional<QuantArgs> kv_cache_scheme;
  // Where and in which dtype the step calibrates (and saves unquantized tensors): the project's
  // resolved device and compute_dtype. Both change the bits, so both are part of the key.
  std::string device = "cpu";  // cpu | cuda
  std::string compute_dtype = "float32";

  // Smoothing stages, GPTQ, any group with static input activations, or a KV-cache scheme.
  bool needs_calibration() const;
  // The quantization modifier alone: no stages, and calibration only if it needs it (what the
  // `quant` node after a `smooth` node runs).
  QuantRecipe quantization_stage() const;
  // Every rule, with canonical field paths ("config_groups.group_0.weights.num_bits").
  void validate(Issues& issues) const;
  nlohmann::json to_json() const;
  // The canonical form only; errors name the field. Does not validate.
  static Result<QuantRecipe> from_json(const nlohmann::json& j);
  bool operator==(const QuantRecipe&) const = default;
};

// The preset schemes (compressed-tensors 0.19 quant_scheme.py, those qbuild runs), in the style
// of llama.cpp's quant-type table: name, what it is, and the config group it expands to.
struct SchemePreset {
  std::string_view name;     // "W8A8"
  std::string_view summary;  // one line for docs and --help
  QuantArgs weights;
  std::optional<QuantArgs> input_activations;
};
const std::vector<SchemePreset>& scheme_presets();
// A preset by name (ASCII case-insensitive), or nullptr.
const SchemePreset* find_scheme(std::string_view name);
// The group a preset expands to, named "group_0" (a preset and the same recipe written out
// have equal canonical JSON).
ConfigGroup preset_group(const SchemePreset& preset, std::vector<std::string> targets);

// The canonical args JSON (see above) and its scale rule.
nlohmann::json args_to_json(const QuantArgs& a, bool gptq_weights);
std::string scale_rule(const QuantArgs& a);

}  // namespace qb::spec
