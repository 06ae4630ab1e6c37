#include "steps/model/quant_config.h"

#include "steps/model/json_fields.h"

namespace qb::model {

using detail::opt_bool;
using detail::opt_int;
using detail::opt_string;

Result<qmath::QuantArgs> parse_quant_args(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) return invalid_argument(source + ": not a JSON object");
  qmath::QuantArgs a;
  QB_ASSIGN_OR_RETURN(auto bits, opt_int(j, "num_bits", source));
  a.num_bits = static_cast<int>(bits.value_or(8));
  QB_ASSIGN_OR_RETURN(auto type, opt_string(j, "type", source));
  if (type) {
    QB_ASSIGN_OR_RETURN_CTX(a.type, qmath::parse_quant_type(*type), source);
  }
  QB_ASSIGN_OR_RETURN(auto symmetric, opt_bool(j, "symmetric", source));
  a.symmetric = symmetric.value_or(true);
  QB_ASSIGN_OR_RETURN(auto group_size, opt_int(j, "group_size", source));
  a.group_size = group_size.value_or(0);
  QB_ASSIGN_OR_RETURN(auto strategy, opt_string(j, "strategy", source));
  if (strategy) {
    QB_ASSIGN_OR_RETURN_CTX(a.strategy, qmath::parse_strategy(*strategy), source);
  } else {
    // compressed-tensors: no strategy + a group size -> group; neither -> tensor.
    a.strategy = a.group_size > 0 ? qmath::Strategy::kGroup : qmath::Strategy::kTensor;
  }
  if (j.contains("dynamic") && j["dynamic"].is_string())
    return invalid_argument(source + ": dynamic '" + j["dynamic"].get<std::string>() +
                            "' is not supported (true or false)");
  QB_ASSIGN_OR_RETURN(auto dynamic, opt_bool(j, "dynamic", source));
  a.dynamic = dynamic.value_or(false);
  QB_ASSIGN_OR_RETURN(auto observer, opt_string(j, "observer", source));
  if (observer) {
    QB_ASSIGN_OR_RETURN_CTX(a.observer, qmath::parse_observer(*observer), source);
  }
  if (j.contains("block_structure") && !j["block_structure"].is_null()) {
    const auto& bs = j["block_structure"];
    if (!bs.is_array() || bs.size() != 2 || !bs[0].is_number_integer() ||
        !bs[1].is_number_integer())
      return invalid_argument(source + ": block_structure must be [rows, cols], got " + bs.dump());
    a.block_structure = {bs[0].get<int64_t>(), bs[1].get<int64_t>()};
  }
  if (a.type == qmath::QuantType::kFloat && a.num_bits != 8)
    return invalid_argument(source + ": type 'float' with num_bits " + std::to_string(a.num_bits) +
                            " is not supported (fp8 e4m3: num_bits 8)");
  QB_TRY_CTX(qmath::check_quant_args(a), source);
  return a;
}

Result<std::optional<QuantizationConfig>> QuantizationConfig::from_model_config(
    const nlohmann::json& config, const std::string& source) {
  if (!config.is_object() || !config.contains("quantization_config") ||
      config["quantization_config"].is_null())
    return std::optional<QuantizationConfig>();
  const nlohmann::json& q = config["quantization_config"];
  const std::string src = source + ": quantization_config";
  if (!q.is_object()) return invalid_argument(src + ": not a JSON object");
  QB_ASSIGN_OR_RETURN(auto method, opt_string(q, "quant_method", src));
  if (method.value_or("") != "compressed-tensors")
    return invalid_argument(src + ": quant_method '" + method.value_or("") +
                            "' is not supported (compressed-tensors)");
  // A transform-only model (SpinQuant without quantization) has no config_groups.
  if (!q.contains("config_groups") || q["config_groups"].is_null() ||
      (q["config_groups"].is_object() && q["config_groups"].empty()))
    return std::optional<QuantizationConfig>();
  QuantizationConfig c;
  QB_ASSIGN_OR_RETURN(auto format, opt_string(q, "format", src));
  c.format = format.value_or("dense");
  QB_ASSIGN_OR_RETURN(auto status, opt_string(q, "quantization_status", src));
  c.status = status.value_or("");
  if (c.status != "compressed")
    return invalid_argument(src + ": quantization_status '" + c.status +
                            "' is not supported (compressed)");
  if (q.contains("kv_cache_scheme") && !q["kv_cache_scheme"].is_null()) {
    // vLLM's _validate_kv_cache_scheme: fp8, static, symmetric, per tensor or per head.
    const std::string ksrc = src + ": kv_cache_scheme";
    QB_ASSIGN_OR_RETURN(qmath::QuantArgs kv, parse_quant_args(q["kv_cache_scheme"], ksrc));
    if (!kv.is_fp8() || kv.dynamic ||
        (kv.strategy != qmath::Strategy::kTensor && kv.strategy != qmath::Strategy::kAttnHead))
      return invalid_argument(ksrc + ": only static fp8 (type float, num_bits 8) per tensor or "
                                     "per attention head is supported");
    c.kv_cache = kv;
  }
  if (q.contains("sparsity_config") && !q["sparsity_config"].is_null() &&
      !q["sparsity_config"].empty())
    return invalid_argument(src + ": sparsity_config is not supported");
  QB_ASSIGN_OR_RETURN(c.ignore, detail::string_list(q, "ignore", src));
  if (!q["config_groups"].is_object())
    return invalid_argument(src + ": field 'config_groups' must be an object, got " +
                            detail::json_type(q["config_groups"]));
  for (const auto& [name, g] : q["config_groups"].items()) {
    const std::string gsrc = src + ": config_groups." + name;
    if (!g.is_object()) return invalid_argument(gsrc + ": not a JSON object");
    QuantGroup group;
    group.name = name;
    QB_ASSIGN_OR_RETURN(group.targets, detail::string_list(g, "targets", gsrc));
    if (group.targets.empty()) return invalid_argument(gsrc + ": missing field 'targets'");
    if (g.contains("weights") && !g["weights"].is_null()) {
      QB_ASSIGN_OR_RETURN(group.weights, parse_quant_args(g["weights"], gsrc + ".weights"));
    }
    if (g.contains("input_activations") && !g["input_activations"].is_null()) {
      QB_ASSIGN_OR_RETURN(group.input_activations,
                          parse_quant_args(g["input_activations"], gsrc + ".input_activations"));
    }
    if (g.contains("output_activations") && !g["output_activations"].is_null())
      return invalid_argument(gsrc + ": output_activations are not supported");
    QB_ASSIGN_OR_RETURN(auto gformat, opt_string(g, "format", gsrc));
    group.format = gformat.value_or(c.format);
    c.groups.push_back(std::move(group));
  }
  return std::optional<QuantizationConfig>(std::move(c));
}

Result<const QuantGroup*> QuantizationConfig::group_for(std::string_view module) const {
  for (const std::string& ign : ignore) {
    QB_ASSIGN_OR_RETURN(bool hit, matches_target(module, ign));
    if (hit) return static_cast<const QuantGroup*>(nullptr);
  }
  const QuantGroup* found = nullptr;
  for (const QuantGroup& g : groups) {
    for (const std::string& t : g.targets) {
      QB_ASSIGN_OR_RETURN(bool hit, matches_target(module, t));
      if (!hit) continue;
      if (found && found != &g)
        return invalid_argument("quantization_config: module '" + std::string(module) +
                                "' matches config groups '" + found->name + "' and '" + g.name +
                                "'");
      found = &g;
    }
  }
  return found;
}

}  // namespace qb::model
