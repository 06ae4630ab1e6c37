// Resolving smoothing mappings against a model (see smooth_plan.h).
#include "steps/quant/smooth_plan.h"

#include <algorithm>

#include "spec/targets.h"

namespace qb::quant {
namespace {

using spec::LayerRole;

// compressed-tensors' matching for any module of a layer: class names Module (everything) and
// Linear (Linears only), an exact name, or "re:" (Python re.match).
Result<bool> matches(const std::string& module, bool is_linear, const std::string& target) {
  if (target == "Module") return true;
  if (target == "Linear") return is_linear;
  if (target.rfind("re:", 0) != 0 && !target.empty() && std::isupper(static_cast<unsigned char>(target[0])) &&
      target.find('.') == std::string::npos)
    return false;  // another class name (a norm's): never a Linear of ours
  return spec::matches_target(module, target);
}

Result<bool> matches_any(const std::string& module, bool is_linear, const std::vector<std::string>& targets) {
  for (const auto& t : targets) {
    QB_ASSIGN_OR_RETURN(bool m, matches(module, is_linear, t));
    if (m) return true;
  }
  return false;
}

// The in/out features of a Linear role.
std::pair<std::int64_t, std::int64_t> linear_shape(LayerRole r, const model::ModelConfig& c) {
  const std::int64_t q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  switch (r) {
    case LayerRole::kQProj: return {c.hidden_size, q};
    case LayerRole::kKProj:
    case LayerRole::kVProj: return {c.hidden_size, kv};
    case LayerRole::kOProj: return {q, c.hidden_size};
    case LayerRole::kGateProj:
    case LayerRole::kUpProj: return {c.hidden_size, c.intermediate_size};
    case LayerRole::kDownProj: return {c.intermediate_size, c.hidden_size};
    default: return {0, 0};
  }
}

AwqParent parent_of(LayerRole smooth) {
  switch (smooth) {
    case LayerRole::kInputLayernorm: return AwqParent::kAttention;
    case LayerRole::kPostAttentionLayernorm: return AwqParent::kMlp;
    case LayerRole::kVProj: return AwqParent::kOProj;
    default: return AwqParent::kDownProj;
  }
}

// The weight quantization of a Linear under the quantization stage, or nullopt (not targeted).
Result<std::optional<spec::QuantArgs>> quantized_as(const std::string& module, LayerRole role,
                                                    const spec::AwqQuantization& q, const model::ModelConfig& c) {
  QB_ASSIGN_OR_RETURN(bool ignored, matches_any(module, true, q.ignore));
  if (ignored) return std::optional<spec::QuantArgs>();
  for (const auto& g : q.groups) {
    QB_ASSIGN_OR_RETURN(bool hit, matches_any(module, true, g.targets));
    if (!hit) continue;
    const auto in = linear_shape(role, c).first;
    if (g.weights.strategy == spec::Strategy::kGroup && in % g.weights.group_size != 0)
      return invalid_argument(module + ": in_features " + std::to_string(in) + " is not divisible by group_size " +
                              std::to_string(g.weights.group_size) + " (group '" + g.name +
                              "'); ignore the module or change group_size");
    return std::optional<spec::QuantArgs>(g.weights);
  }
  return std::optional<spec::QuantArgs>();
}

}  // namespace

std::string module_of(LayerRole role, std::int64_t layer) {
  return "model.layers." + std::to_string(layer) + "." + spec::role_name(role);
}

Result<StagePlan> plan_stage(const spec::SmoothingStage& stage, const model::ModelConfig& config,
                             const std::optional<spec::AwqQuantization>& quantization,
                             const std::vector<std::string>& transformed) {
  const auto* sq = std::get_if<spec::SmoothQuantStage>(&stage);
  const auto* awq = std::get_if<spec::AwqStage>(&stage);
  if (awq && !quantization) return internal_error("plan_stage: an AWQ stage needs the quantization stage");
  const auto& mappings = sq ? sq->mappings : awq->mappings;
  const std::string who = spec::stage_modifier_name(stage);
  StagePlan plan;
  plan.layers.resize(static_cast<std::size_t>(config.num_layers));
  for (std::size_t mi = 0; mi < mappings.size(); ++mi) {
    const spec::SmoothMapping& m = mappings[mi];
    for (std::int64_t l = 0; l < config.num_layers; ++l) {
      // Which of this layer's modules each pattern matches.
      auto roles_matching = [&](const std::string& pattern) -> Result<std::vector<LayerRole>> {
        std::vector<LayerRole> out;
        QB_ASSIGN_OR_RETURN(auto pr, spec::pattern_roles(pattern));
        for (auto r : pr.roles) {
          QB_ASSIGN_OR_RETURN(bool hit, spec::matches_target(module_of(r, l), pattern));
          if (hit) out.push_back(r);
        }
        return out;
      };
      QB_ASSIGN_OR_RETURN(auto smooth, roles_matching(m.smooth_layer));
      ResolvedMapping rm;
      rm.layer = l;
      bool any_balance = false, all_balance = true;
      for (const auto& b : m.balance_layers) {
        QB_ASSIGN_OR_RETURN(auto roles, roles_matching(b));
        any_balance |= !roles.empty();
        all_balance &= !roles.empty();
        for (auto r : roles) rm.balance.push_back(r);
      }
      if (smooth.empty() && !any_balance) continue;  // the mapping names other layers only
      if (smooth.size() != 1 || !all_balance)
        return invalid_argument(who + " mapping " + std::to_string(mi) + " ('" + m.smooth_layer +
                                "'): layer " + std::to_string(l) +
                                " has only part of it (a smooth layer and every balance pattern must match in "
                                "each layer it names)");
      rm.smooth = smooth.front();
      rm.smooth_name = module_of(rm.smooth, l);
      for (auto r : rm.balance) rm.balance_names.push_back(module_of(r, l));
      rm.parent = parent_of(rm.smooth);
      // v_proj -> o_proj needs v_proj's outputs to be o_proj's inputs.
      if (rm.smooth == LayerRole::kVProj && config.num_kv_heads != config.num_heads) {
        const std::string why = "v_proj has " + std::to_string(config.num_kv_heads * config.head_dim) +
                                " outputs but o_proj " + std::to_string(config.num_heads * config.head_dim) +
                                " inputs (grouped-query attention)";
        if (sq)
          return invalid_argument(who + ": " + rm.smooth_name + " -> o_proj cannot be smoothed: " + why +
                                  "; remove the mapping");
        plan.skipped.push_back({rm.smooth_name, why});
        continue;
      }
      std::vector<std::string> touched = rm.balance_names;
      touched.push_back(rm.smooth_name);
      for (const auto& t : touched)
        if (std::find(transformed.begin(), transformed.end(), t) != transformed.end())
          return invalid_argument(who + ": " + t +
                                  " has an online input transform (R4): its input is rotated at run time, so "
                                  "the mapping of '" + rm.smooth_name + "' would not be exact; remove the mapping");
      if (sq) {
        bool all_ignored = true;
        for (const auto& name : touched) {
          const bool linear = name != rm.smooth_name || spec::role_is_linear(rm.smooth);
          QB_ASSIGN_OR_RETURN(bool ig, matches_any(name, linear, sq->ignore));
          all_ignored &= ig;
        }
        if (all_ignored) {
          plan.skipped.push_back({rm.smooth_name, "its smooth layer and all its balance layers are ignored"});
          continue;
        }
      } else {
        bool any_targeted = false;
        for (std::size_t k = 0; k < rm.balance.size(); ++k) {
          QB_ASSIGN_OR_RETURN(auto args, quantized_as(rm.balance_names[k], rm.balance[k], *quantization, config));
          any_targeted |= args.has_value();
          rm.balance_args.push_back(args);
        }
        if (spec::role_is_linear(rm.smooth)) {
          QB_ASSIGN_OR_RETURN(auto args, quantized_as(rm.smooth_name, rm.smooth, *quantization, config));
          any_targeted |= args.has_value();
        }
        if (!any_targeted) {
          plan.skipped.push_back({rm.smooth_name, "no layer of the mapping is targeted for quantization"});
          continue;
        }
      }
      plan.layers[static_cast<std::size_t>(l)].push_back(std::move(rm));
    }
  }
  return plan;
}

}  // namespace qb::quant
