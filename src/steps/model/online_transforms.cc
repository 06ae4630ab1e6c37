#include "steps/model/online_transforms.h"

#include "steps/model/json_fields.h"
#include "steps/model/quant_config.h"

namespace qb::model {

RotationTransform::RotationTransform(hadamard::Rotation rotation, bool inverse, std::string label)
    : rotation_(std::move(rotation)), inverse_(inverse), label_(std::move(label)) {}

at::Tensor RotationTransform::apply(const at::Tensor& x) const {
  return inverse_ ? rotation_.apply_inverse(x) : rotation_.apply(x);
}

Result<OnlineTransforms> OnlineTransforms::from_model_config(const nlohmann::json& config,
                                                             const std::string& source) {
  OnlineTransforms out;
  // llm-compressor writes it inside quantization_config; a top-level one is accepted too.
  const nlohmann::json* found = nullptr;
  std::string src = source + ": transform_config";
  if (config.is_object() && config.contains("quantization_config") &&
      config["quantization_config"].is_object() &&
      config["quantization_config"].contains("transform_config")) {
    found = &config["quantization_config"]["transform_config"];
    src = source + ": quantization_config.transform_config";
  } else if (config.is_object() && config.contains("transform_config")) {
    found = &config["transform_config"];
  }
  if (!found) return out;
  const nlohmann::json& tc = *found;
  if (tc.is_null() || (tc.is_object() && tc.empty())) return out;
  if (!tc.is_object() || !tc.contains("config_groups") || !tc["config_groups"].is_object())
    return invalid_argument(src + ": missing field 'config_groups'");
  for (const auto& [name, scheme] : tc["config_groups"].items()) {
    const std::string ssrc = src + ": config_groups." + name;
    QB_ASSIGN_OR_RETURN(auto type_name, detail::opt_string(scheme, "type", ssrc));
    if (!type_name) return invalid_argument(ssrc + ": missing field 'type'");
    QB_ASSIGN_OR_RETURN(auto type, hadamard::parse_rotation_type(*type_name));
    QB_ASSIGN_OR_RETURN(auto head_dim, detail::opt_int(scheme, "head_dim", ssrc));
    QB_ASSIGN_OR_RETURN(auto randomize, detail::opt_bool(scheme, "randomize", ssrc));
    if (!scheme.contains("apply") || !scheme["apply"].is_array())
      return invalid_argument(ssrc + ": missing field 'apply'");
    for (const auto& args : scheme["apply"]) {
      QB_ASSIGN_OR_RETURN(auto location, detail::opt_string(args, "location", ssrc + ".apply"));
      const std::string loc = location.value_or("");
      if (loc == "weight_input" || loc == "weight_output") continue;  // fused offline
      if (loc != "input")
        return invalid_argument(ssrc + ": online location '" + loc +
                                "' is not supported (input)");
      if (randomize.value_or(false))
        return invalid_argument(ssrc + ": randomize: true is not supported for online transforms");
      Entry e;
      e.scheme = name;
      e.type = type;
      e.block_size = head_dim.value_or(0);
      QB_ASSIGN_OR_RETURN(auto inverse, detail::opt_bool(args, "inverse", ssrc + ".apply"));
      e.inverse = inverse.value_or(false);
      QB_ASSIGN_OR_RETURN(e.targets, detail::string_list(args, "targets", ssrc + ".apply"));
      QB_ASSIGN_OR_RETURN(e.ignore, detail::string_list(args, "ignore", ssrc + ".apply"));
      out.entries_.push_back(std::move(e));
    }
  }
  return out;
}

namespace {
Result<bool> matches_any(std::string_view module, const std::vector<std::string>& patterns) {
  for (const std::string& p : patterns) {
    QB_ASSIGN_OR_RETURN(bool hit, matches_target(module, p));
    if (hit) return true;
  }
  return false;
}
}  // namespace

Result<std::shared_ptr<const InputTransform>> OnlineTransforms::for_module(
    const model_io::Checkpoint& ckpt, std::string_view module, int64_t in_features) const {
  const Entry* found = nullptr;
  for (const Entry& e : entries_) {
    QB_ASSIGN_OR_RETURN(bool hit, matches_any(module, e.targets));
    QB_ASSIGN_OR_RETURN(bool ignored, matches_any(module, e.ignore));
    if (!hit || ignored) continue;
    if (found)
      return invalid_argument("transform_config: module '" + std::string(module) +
                              "' has two online input transforms ('" + found->scheme + "', '" +
                              e.scheme + "')");
    found = &e;
  }
  if (!found) return std::shared_ptr<const InputTransform>();
  const std::string weight_name = std::string(module) + "." + found->scheme + "_input.weight";
  const std::string label = found->scheme + " " + hadamard::rotation_type_name(found->type) +
                            (found->inverse ? " (inverse)" : "");
  auto make = [&](Result<hadamard::Rotation> r) -> Result<std::shared_ptr<const InputTransform>> {
    if (!r.is_ok()) return r.status().with_context(std::string(module) + ": " + label);
    return std::shared_ptr<const InputTransform>(
        std::make_shared<RotationTransform>(std::move(r).value(), found->inverse, label));
  };
  // compressed-tensors builds one weight per scheme and size and shares it between the modules
  // it targets; safetensors stores a shared tensor once, under the first module's name
  // (llm-compressor's checkpoints and qbuild's keep "model.layers.0.mlp.down_proj.R4_input.weight").
  std::string stored = weight_name;
  if (!ckpt.has(stored)) {
    const std::string suffix = "." + found->scheme + "_input.weight";
    for (const auto& name : ckpt.tensor_names()) {
      if (name.size() <= suffix.size() || !name.ends_with(suffix)) continue;
      QB_ASSIGN_OR_RETURN(bool same_scheme,
                          matches_any(name.substr(0, name.size() - suffix.size()), found->targets));
      if (same_scheme) {
        stored = name;
        break;
      }
    }
  }
  if (ckpt.has(stored)) {
    QB_ASSIGN_OR_RETURN(at::Tensor w, ckpt.load(stored));
    if (found->block_size > 0 && (w.dim() != 2 || w.size(0) != found->block_size))
      return invalid_argument(stored + ": expected [" + std::to_string(found->block_size) +
                              ", " + std::to_string(found->block_size) + "]");
    return make(hadamard::Rotation::from_weight(found->type, w, in_features));
  }
  if (found->type != hadamard::RotationType::kHadamard)
    return not_found(weight_name + ": missing (a " + hadamard::rotation_type_name(found->type) +
                     " transform must be stored in the checkpoint)");
  hadamard::RotationOptions o;
  o.type = found->type;
  o.size = in_features;
  o.block_size = found->block_size;
  return make(hadamard::Rotation::create(o));
}

}  // namespace qb::model
