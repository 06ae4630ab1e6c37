#include "spec/issues.h"

namespace qb::spec {

Status Issues::to_status(std::string_view what) const {
  for (const Issue& i : all_) {
    if (!i.error) continue;
    std::string m(what);
    if (!i.path.empty()) m += (m.empty() ? "" : ": ") + i.path;
    return invalid_argument(m + (m.empty() ? "" : ": ") + i.message);
  }
  return Status::ok();
}

std::string field(std::string_view parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  std::string s(parent);
  s += '.';
  s += name;
  return s;
}

std::string item(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

}  // namespace qb::spec
