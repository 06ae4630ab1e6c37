#include "spec/canonical_json.h"

#include <algorithm>

namespace qb::spec {

namespace {
const nlohmann::json kNull;
}

CanonicalReader::CanonicalReader(const nlohmann::json& j, std::string path, Issues& issues,
                                 std::vector<std::string_view> keys,
                                 std::vector<std::string_view> optional_keys)
    : j_(j.is_object() ? j : kNull), path_(std::move(path)), issues_(issues) {
  if (!j.is_object()) {
    issues_.error(path_, std::string("expected an object, got ") + j.type_name());
    return;
  }
  for (std::string_view k : keys)
    if (!j.contains(k)) issues_.error(at(k), "missing");
  for (const auto& [k, v] : j.items()) {
    bool known = std::find(keys.begin(), keys.end(), k) != keys.end() ||
                 std::find(optional_keys.begin(), optional_keys.end(), k) != optional_keys.end();
    if (!known) issues_.error(at(k), "unknown field");
  }
}

bool CanonicalReader::has(std::string_view key) const { return j_.is_object() && j_.contains(key); }

const nlohmann::json& CanonicalReader::raw(std::string_view key) const {
  if (!has(key)) return kNull;
  return j_.find(key).value();
}

const nlohmann::json* CanonicalReader::value(std::string_view key) {
  if (!has(key)) return nullptr;
  return &j_.find(key).value();
}

void CanonicalReader::wrong(std::string_view key, std::string_view expected) {
  issues_.error(at(key), "expected " + std::string(expected) + ", got " + raw(key).dump());
}

std::int64_t CanonicalReader::i64(std::string_view key) {
  const auto* v = value(key);
  if (!v) return 0;
  if (!v->is_number_integer()) return wrong(key, "an integer"), 0;
  return v->get<std::int64_t>();
}

std::uint64_t CanonicalReader::u64(std::string_view key) {
  const auto* v = value(key);
  if (!v) return 0;
  if (!v->is_number_unsigned()) return wrong(key, "a non-negative integer"), 0;
  return v->get<std::uint64_t>();
}

double CanonicalReader::f64(std::string_view key) {
  const auto* v = value(key);
  if (!v) return 0;
  if (!v->is_number()) return wrong(key, "a number"), 0;
  return v->get<double>();
}

bool CanonicalReader::boolean(std::string_view key) {
  const auto* v = value(key);
  if (!v) return false;
  if (!v->is_boolean()) return wrong(key, "true or false"), false;
  return v->get<bool>();
}

std::string CanonicalReader::str(std::string_view key) {
  const auto* v = value(key);
  if (!v) return "";
  if (!v->is_string()) return wrong(key, "a string"), "";
  return v->get<std::string>();
}

std::optional<std::int64_t> CanonicalReader::opt_i64(std::string_view key) {
  const auto* v = value(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number_integer()) return wrong(key, "an integer or null"), std::nullopt;
  return v->get<std::int64_t>();
}

std::optional<std::string> CanonicalReader::opt_str(std::string_view key) {
  const auto* v = value(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) return wrong(key, "a string or null"), std::nullopt;
  return v->get<std::string>();
}

std::vector<std::string> CanonicalReader::strings(std::string_view key) {
  std::vector<std::string> out;
  const auto* v = value(key);
  if (!v) return out;
  if (!v->is_array()) return wrong(key, "a list of strings"), out;
  for (const auto& e : *v) {
    if (!e.is_string()) return wrong(key, "a list of strings"), std::vector<std::string>{};
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace qb::spec
