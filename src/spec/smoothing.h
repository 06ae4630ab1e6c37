// The smoothing stages of a quant recipe — llm-compressor 0.14.0.1's SmoothQuantModifier and
// AWQModifier (modifiers/transform/smoothquant, modifiers/transform/awq) — as typed specs: their
// defaults (member initializers; the default mappings are llm-compressor's for Qwen3, Qwen2 and
// Llama, the only families qbuild runs, so they can be spelled out), their rules and their
// canonical JSON.
//
// A mapping names a "smooth" module and the "balance" Linears that read its output: each input
// channel j of the balance layers is multiplied by s_j and the smooth module's output channel j
// divided by it — an exact transform of the fp model. Names are compressed-tensors targets:
// an exact module name or "re:<regex>" (Python re.match). Within a decoder layer of the supported
// families the modules are (C hidden, Q = heads·head_dim, K = kv_heads·head_dim, F intermediate):
//
//   role                       in → out   its output is read by
//   input_layernorm            C  → C     self_attn.q_proj, k_proj, v_proj
//   self_attn.q_proj / k_proj  C  → Q / K (q_norm, k_norm, RoPE: not linear)
//   self_attn.v_proj           C  → K     self_attn.o_proj (through attention: linear in v)
//   self_attn.o_proj           Q  → C     (the residual stream)
//   post_attention_layernorm   C  → C     mlp.gate_proj, mlp.up_proj
//   mlp.gate_proj              C  → F     (SiLU: not linear)
//   mlp.up_proj                C  → F     mlp.down_proj (act = silu(gate) · up: linear in up)
//   mlp.down_proj              F  → C     (the residual stream)
//
// so a smooth module is one of input_layernorm, post_attention_layernorm, v_proj, up_proj, and
// its balance layers must be exactly the Linears that read its output (a reader left out would
// see the smoothed activations uncompensated and change the model: rejected). v_proj → o_proj
// needs K == Q, i.e. no grouped-query attention: AWQ skips it elsewhere (as llm-compressor does),
// SmoothQuant rejects it when the model is known (the step's plan).
//
// Canonical JSON of a stage (SmoothingStage), inside QuantRecipe's "stages" list:
//   {"modifier": "SmoothQuantModifier", "smoothing_strength": float,
//    "mappings": [{"smooth_layer": str, "balance_layers": [str, ...]}, ...], "ignore": [sorted]}
//   {"modifier": "AWQModifier", "mappings": [...], "duo_scaling": true | false | "both",
//    "n_grid": int}
// Mappings keep their order (AWQ applies them in that order; its first balance layer is the one
// whose input is averaged), as do balance layers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "spec/issues.h"
#include "util/status.h"

namespace qb::spec {

struct SmoothMapping {
  std::string smooth_layer;
  std::vector<std::string> balance_layers;
  bool operator==(const SmoothMapping&) const = default;
};

// The modules of a decoder layer (see the table above), in the order of torch's named_modules().
enum class LayerRole {
  kQProj, kKProj, kVProj, kOProj, kQNorm, kKNorm,
  kGateProj, kUpProj, kDownProj,
  kInputLayernorm, kPostAttentionLayernorm,
};
inline constexpr int kNumLayerRoles = 11;
const char* role_name(LayerRole r);  // "self_attn.q_proj", "input_layernorm", ...
bool role_is_linear(LayerRole r);
// The Linears that read `r`'s output linearly (empty: `r` cannot be a smooth layer).
std::vector<LayerRole> role_readers(LayerRole r);

// llm-compressor 0.14.0.1's defaults for Qwen3ForCausalLM, Qwen2ForCausalLM, LlamaForCausalLM.
std::vector<SmoothMapping> default_smoothquant_mappings();  // smoothquant/utils.py
std::vector<SmoothMapping> default_awq_mappings();          // awq/mappings.py default_mappings

struct SmoothQuantStage {
  double smoothing_strength = 0.5;  // α in s = max|X|^α / max|W|^(1-α)
  std::vector<SmoothMapping> mappings = default_smoothquant_mappings();
  // A mapping is skipped when its smooth layer and all its balance layers are ignored (module
  // names, "re:" patterns, or the class names Linear / Module).
  std::vector<std::string> ignore;  // sorted, unique
  bool operator==(const SmoothQuantStage&) const = default;
};

// AWQ's grid: true = [(0, no duo)] + n_grid-1 ratios with duo scaling; false = n_grid ratios
// without; both = n_grid/2 ratios, each without and with (awq/base.py _get_grid_search_params).
enum class DuoScaling { kFalse, kTrue, kBoth };

struct AwqStage {
  std::vector<SmoothMapping> mappings = default_awq_mappings();
  DuoScaling duo_scaling = DuoScaling::kTrue;
  std::int64_t n_grid = 20;
  bool operator==(const AwqStage&) const = default;
};

using SmoothingStage = std::variant<SmoothQuantStage, AwqStage>;

const char* stage_modifier_name(const SmoothingStage& s);  // "SmoothQuantModifier" | "AWQModifier"

// The (ratio, duo) pairs AWQ's grid search tries, in order.
std::vector<std::pair<double, bool>> awq_grid(const AwqStage& s);

// Which decoder-layer roles a mapping pattern names, found by matching it against the module
// names of decoder layers 0..kProbeLayers-1 (patterns that select layers by index are fine).
inline constexpr int kProbeLayers = 64;
struct PatternRoles {
  std::vector<LayerRole> roles;      // in role order, unique
  std::vector<std::string> outside;  // modules it matches outside the layers' leaves
};
// Errors: an invalid regex.
Result<PatternRoles> pattern_roles(std::string_view pattern);

// Every rule of the stages alone (paths "stages[i]..."): strengths and grid sizes in range,
// mapping patterns that name leaf modules of a decoder layer, one smooth module per mapping
// among the four that can be smoothed, balance layers that are exactly its readers.
void validate_stages(const std::vector<SmoothingStage>& stages, Issues& issues);

nlohmann::json stage_to_json(const SmoothingStage& s);
// The canonical form only (see above); errors go to `issues` at `path`.
SmoothingStage stage_from_json(const nlohmann::json& j, const std::string& path, Issues& issues);

}  // namespace qb::spec
