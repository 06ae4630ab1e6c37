#include "steps/model/json_fields.h"

namespace qb::model::detail {

namespace {

Status wrong_type(const std::string& source, const std::string& name, const char* kind,
                  const nlohmann::json& v) {
  return invalid_argument(source + ": field '" + name + "' must be " + kind + ", got " +
                          json_type(v));
}

const nlohmann::json* find(const nlohmann::json& j, const std::string& name) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

std::string json_type(const nlohmann::json& v) {
  if (v.is_number_float()) return "a non-integer number";
  return v.type_name();
}

Result<std::optional<int64_t>> opt_int(const nlohmann::json& j, const std::string& name,
                                       const std::string& source) {
  const nlohmann::json* v = find(j, name);
  if (!v) return std::optional<int64_t>();
  if (v->is_number_integer()) return std::optional<int64_t>(v->get<int64_t>());
  // 8.0 is accepted as 8: some writers emit integral floats.
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d)))
      return std::optional<int64_t>(static_cast<int64_t>(d));
  }
  return wrong_type(source, name, "an integer", *v);
}

Result<std::optional<double>> opt_number(const nlohmann::json& j, const std::string& name,
                                         const std::string& source) {
  const nlohmann::json* v = find(j, name);
  if (!v) return std::optional<double>();
  if (v->is_number()) return std::optional<double>(v->get<double>());
  return wrong_type(source, name, "a number", *v);
}

Result<std::optional<bool>> opt_bool(const nlohmann::json& j, const std::string& name,
                                     const std::string& source) {
  const nlohmann::json* v = find(j, name);
  if (!v) return std::optional<bool>();
  if (v->is_boolean()) return std::optional<bool>(v->get<bool>());
  return wrong_type(source, name, "true or false", *v);
}

Result<std::optional<std::string>> opt_string(const nlohmann::json& j, const std::string& name,
                                              const std::string& source) {
  const nlohmann::json* v = find(j, name);
  if (!v) return std::optional<std::string>();
  if (v->is_string()) return std::optional<std::string>(v->get<std::string>());
  return wrong_type(source, name, "a string", *v);
}

Result<std::vector<std::string>> string_list(const nlohmann::json& j, const std::string& name,
                                             const std::string& source) {
  std::vector<std::string> out;
  const nlohmann::json* v = find(j, name);
  if (!v) return out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
    return out;
  }
  if (!v->is_array()) return wrong_type(source, name, "a string or a list of strings", *v);
  for (const auto& e : *v) {
    if (!e.is_string()) return wrong_type(source, name, "a list of strings", *v);
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<int64_t> req_int(const nlohmann::json& j, const std::string& name,
                        const std::string& source) {
  QB_ASSIGN_OR_RETURN(std::optional<int64_t> v, opt_int(j, name, source));
  if (!v) return invalid_argument(source + ": missing field '" + name + "'");
  return *v;
}

Result<double> req_number(const nlohmann::json& j, const std::string& name,
                          const std::string& source) {
  QB_ASSIGN_OR_RETURN(std::optional<double> v, opt_number(j, name, source));
  if (!v) return invalid_argument(source + ": missing field '" + name + "'");
  return *v;
}

}  // namespace qb::model::detail
