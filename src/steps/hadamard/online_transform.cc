// Reading compressed-tensors transform_config online transforms; see online_transform.h.
#include "steps/hadamard/online_transform.h"

#include <regex>

namespace qb::hadamard {
namespace {

Result<std::vector<std::string>> string_list(const nlohmann::json& j, const std::string& what) {
  std::vector<std::string> out;
  if (j.is_string()) return std::vector<std::string>{j.get<std::string>()};
  if (!j.is_array()) return invalid_argument(what + ": expected a string or a list of strings");
  for (const auto& v : j) {
    if (!v.is_string()) return invalid_argument(what + ": expected a string or a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

bool target_matches(std::string_view target, std::string_view module, std::string_view class_name) {
  if (target.starts_with("re:")) {
    try {
      const std::regex re(std::string(target.substr(3)));
      return std::regex_search(module.begin(), module.end(), re, std::regex_constants::match_continuous);
    } catch (const std::regex_error&) {
      return false;
    }
  }
  return target == module || target == class_name;
}

bool OnlineTransform::applies_to(std::string_view module, std::string_view class_name) const {
  auto any = [&](const std::vector<std::string>& v) {
    for (const auto& t : v)
      if (target_matches(t, module, class_name)) return true;
    return false;
  };
  return any(targets) && !any(ignore);
}

std::string OnlineTransform::weight_name(std::string_view module) const {
  return std::string(module) + "." + group + "_" + location + ".weight";
}

Result<std::vector<OnlineTransform>> online_transforms(const nlohmann::json& config) {
  std::vector<OnlineTransform> out;
  const auto qc = config.find("quantization_config");
  if (qc == config.end() || !qc->is_object()) return out;
  const auto tc = qc->find("transform_config");
  if (tc == qc->end() || tc->is_null() || (tc->is_object() && tc->empty())) return out;
  const std::string where = "config.json quantization_config.transform_config";
  if (!tc->is_object() || !tc->contains("config_groups") || !(*tc)["config_groups"].is_object())
    return invalid_argument(where + ": expected an object with config_groups");
  for (const auto& [name, scheme] : (*tc)["config_groups"].items()) {
    const std::string ctx = where + ".config_groups." + name;
    if (!scheme.is_object() || !scheme.contains("type") || !scheme["type"].is_string())
      return invalid_argument(ctx + ": expected an object with a string 'type'");
    QB_ASSIGN_OR_RETURN_CTX(RotationType type, parse_rotation_type(scheme["type"].get<std::string>()), ctx);
    std::optional<int64_t> head_dim;
    if (auto h = scheme.find("head_dim"); h != scheme.end() && !h->is_null()) {
      if (!h->is_number_integer() || h->get<int64_t>() <= 0)
        return invalid_argument(ctx + ".head_dim: expected a positive integer or null");
      head_dim = h->get<int64_t>();
    }
    const auto apply = scheme.find("apply");
    if (apply == scheme.end()) continue;
    if (!apply->is_array()) return invalid_argument(ctx + ".apply: expected a list");
    for (size_t i = 0; i < apply->size(); ++i) {
      const auto& a = (*apply)[i];
      const std::string actx = ctx + ".apply[" + std::to_string(i) + "]";
      if (!a.is_object() || !a.contains("location") || !a["location"].is_string() || !a.contains("targets"))
        return invalid_argument(actx + ": expected an object with 'targets' and a string 'location'");
      const std::string loc = a["location"].get<std::string>();
      if (loc == "weight_input" || loc == "weight_output") continue;
      if (loc != "input" && loc != "output")
        return invalid_argument(actx + ": online location '" + loc +
                                "' is not supported (only input and output)");
      OnlineTransform t;
      t.group = name;
      t.type = type;
      t.head_dim = head_dim;
      t.location = loc;
      if (auto inv = a.find("inverse"); inv != a.end()) {
        if (!inv->is_boolean()) return invalid_argument(actx + ".inverse: expected a boolean");
        t.inverse = inv->get<bool>();
      }
      QB_ASSIGN_OR_RETURN(t.targets, string_list(a["targets"], actx + ".targets"));
      if (auto ig = a.find("ignore"); ig != a.end()) {
        QB_ASSIGN_OR_RETURN(t.ignore, string_list(*ig, actx + ".ignore"));
      }
      out.push_back(std::move(t));
    }
  }
  return out;
}

}  // namespace qb::hadamard
