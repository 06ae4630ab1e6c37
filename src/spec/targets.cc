#include "spec/targets.h"

#include <cctype>
#include <regex>

namespace qb::spec {

namespace {

bool is_class_name(std::string_view t) {
  return !t.empty() && std::isupper(static_cast<unsigned char>(t[0])) &&
         t.find('.') == std::string_view::npos && t.substr(0, 3) != "re:";
}

}  // namespace

Result<bool> matches_target(std::string_view module, std::string_view target) {
  // Every module this runtime asks about is an nn.Linear: its class names are Linear, Module.
  if (target == "Linear" || target == "Module") return true;
  if (target.substr(0, 3) != "re:") return target == module;
  try {
    const std::regex re(std::string(target.substr(3)), std::regex::ECMAScript);
    const std::string name(module);
    // Python re.match: anchored at the start, not at the end.
    return std::regex_search(name, re, std::regex_constants::match_continuous);
  } catch (const std::regex_error& e) {
    return invalid_argument("invalid regular expression '" + std::string(target) + "': " + e.what());
  }
}

std::string target_problem(std::string_view target) {
  if (target.empty()) return "an empty target matches nothing";
  if (target.substr(0, 3) == "re:") {
    auto r = matches_target("", target);
    return r.is_ok() ? "" : r.status().message();
  }
  if (is_class_name(target) && target != "Linear" && target != "Module")
    return "target '" + std::string(target) + "': qbuild quantizes Linear modules only";
  return "";
}

}  // namespace qb::spec
