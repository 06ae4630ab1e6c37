// Strict typed reading of config values (see fields.h).
#include "config/fields.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "util/suggest.h"

namespace qb::config {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::string_view digits = s;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
  if (!all_digits(digits)) return std::nullopt;
  if (s[0] == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// YAML 1.2 core floats without .inf/.nan: [-+]? (\.[0-9]+ | [0-9]+ (\.[0-9]*)?) ([eE][-+]?[0-9]+)?
std::optional<double> parse_float(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  std::string_view body = s;
  if (!body.empty() && body[0] == '-') body.remove_prefix(1);
  if (body.empty() || !(std::isdigit(static_cast<unsigned char>(body[0])) || body[0] == '.'))
    return std::nullopt;
  for (char c : body)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' ||
          c == '+' || c == '-'))
      return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

void expected(Diagnostics& d, const Node& n, std::string_view what, std::string_view field) {
  d.error(n.loc, fmt::format("expected {} for '{}', got {}", what, field, describe(n)));
}

}  // namespace

std::string describe(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kNull: return "null";
    case Node::Kind::kSequence: return "a list";
    case Node::Kind::kMapping: return "a mapping";
    case Node::Kind::kScalar: break;
  }
  return n.plain ? "'" + n.text + "'" : "the string \"" + n.text + "\"";
}

std::optional<std::int64_t> read_int(Diagnostics& d, const Node& n, std::string_view field) {
  if (n.is_scalar() && n.plain)
    if (auto v = parse_int(n.text)) return v;
  expected(d, n, "an integer", field);
  return std::nullopt;
}

std::optional<double> read_float(Diagnostics& d, const Node& n, std::string_view field) {
  if (n.is_scalar() && n.plain)
    if (auto v = parse_float(n.text)) return v;
  expected(d, n, "a number", field);
  return std::nullopt;
}

std::optional<bool> read_bool(Diagnostics& d, const Node& n, std::string_view field) {
  if (n.is_scalar() && n.plain) {
    if (n.text == "true" || n.text == "True" || n.text == "TRUE") return true;
    if (n.text == "false" || n.text == "False" || n.text == "FALSE") return false;
  }
  expected(d, n, "true or false", field);
  return std::nullopt;
}

std::optional<std::string> read_string(Diagnostics& d, const Node& n, std::string_view field) {
  if (n.is_scalar()) return n.text;
  expected(d, n, "a string", field);
  return std::nullopt;
}

std::optional<std::string> read_enum(Diagnostics& d, const Node& n, std::string_view field,
                                     const std::vector<std::string_view>& allowed,
                                     bool ignore_case) {
  if (!n.is_scalar()) {
    expected(d, n, "a string", field);
    return std::nullopt;
  }
  for (std::string_view a : allowed)
    if (ignore_case ? iequals(a, n.text) : a == n.text) return std::string(a);
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  d.error(n.loc, fmt::format("invalid value '{}' for '{}' (allowed: {}){}", n.text, field, list,
                             did_you_mean_suffix(n.text, allowed)));
  return std::nullopt;
}

namespace {

// A list whose items all read with `read_one`; every bad item is reported.
template <typename T>
std::optional<std::vector<T>> read_list(
    Diagnostics& d, const Node& n, std::string_view field,
    std::optional<T> (*read_one)(Diagnostics&, const Node&, std::string_view)) {
  if (!n.is_sequence()) {
    expected(d, n, "a list", field);
    return std::nullopt;
  }
  std::vector<T> out;
  bool ok = true;
  for (const Node& item : n.items) {
    auto v = read_one(d, item, field);
    if (v) out.push_back(*v);
    else ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> read_string_list(Diagnostics& d, const Node& n,
                                                         std::string_view field) {
  return read_list<std::string>(d, n, field, &read_string);
}

std::optional<std::vector<std::int64_t>> read_int_list(Diagnostics& d, const Node& n,
                                                       std::string_view field) {
  return read_list<std::int64_t>(d, n, field, &read_int);
}

MapReader::MapReader(Diagnostics& diags, const Node& node, std::string name, SourceLoc anchor,
                     std::vector<std::string_view> allowed)
    : diags_(diags), name_(std::move(name)), anchor_(std::move(anchor)) {
  if (node.is_null()) return;
  if (!node.is_mapping()) {
    valid_ = false;
    if (name_.empty())
      diags_.error(node.loc, "expected a mapping at the top level, got " + describe(node));
    else
      expected(diags_, node, "a mapping", name_);
    return;
  }
  for (const auto& entry : node.entries) {
    const Node& key = entry.first;
    if (!key.is_scalar()) {
      diags_.error(key.loc, "expected a string key, got " + describe(key));
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), key.text) == allowed.end()) {
      std::string where = name_.empty() ? "unknown top-level key '" + key.text + "'"
                                        : "unknown key '" + key.text + "' in '" + name_ + "'";
      diags_.error(key.loc, where + did_you_mean_suffix(key.text, allowed));
      continue;
    }
    auto first = std::find_if(entries_.begin(), entries_.end(),
                              [&](const auto* e) { return e->first.text == key.text; });
    if (first != entries_.end()) {
      diags_.error(key.loc, "duplicate key '" + key.text + "'")
          .notes.push_back(Diagnostics::note((*first)->first.loc, "first defined here"));
      continue;
    }
    entries_.push_back(&entry);
  }
}

const Node* MapReader::find(std::string_view key) const {
  for (const auto* e : entries_)
    if (e->first.text == key) return &e->second;
  return nullptr;
}

const Node* MapReader::find_key(std::string_view key) const {
  for (const auto* e : entries_)
    if (e->first.text == key) return &e->first;
  return nullptr;
}

const Node* MapReader::require(std::string_view key) {
  const Node* n = find(key);
  if (!n && valid_) {
    diags_.error(anchor_, name_.empty()
                              ? fmt::format("missing required field '{}'", key)
                              : fmt::format("missing required field '{}' in '{}'", key, name_));
  }
  return n;
}

std::vector<std::string> MapReader::keys() const {
  std::vector<std::string> out;
  for (const auto* e : entries_) out.push_back(e->first.text);
  return out;
}

std::optional<std::int64_t> MapReader::get_int(std::string_view key,
                                               std::optional<std::int64_t> fallback) {
  const Node* n = find(key);
  return n ? read_int(diags_, *n, key) : fallback;
}

std::optional<double> MapReader::get_float(std::string_view key, std::optional<double> fallback) {
  const Node* n = find(key);
  return n ? read_float(diags_, *n, key) : fallback;
}

std::optional<bool> MapReader::get_bool(std::string_view key, std::optional<bool> fallback) {
  const Node* n = find(key);
  return n ? read_bool(diags_, *n, key) : fallback;
}

std::optional<std::string> MapReader::get_string(std::string_view key,
                                                 std::optional<std::string> fallback) {
  const Node* n = find(key);
  return n ? read_string(diags_, *n, key) : fallback;
}

std::optional<std::string> MapReader::get_enum(std::string_view key,
                                               const std::vector<std::string_view>& allowed,
                                               std::optional<std::string> fallback,
                                               bool ignore_case) {
  const Node* n = find(key);
  return n ? read_enum(diags_, *n, key, allowed, ignore_case) : fallback;
}

std::optional<std::int64_t> MapReader::get_positive_int(std::string_view key,
                                                        std::optional<std::int64_t> fallback) {
  auto v = get_int(key, fallback);
  if (v && *v <= 0 && find(key)) {
    diags_.error(find(key)->loc, fmt::format("'{}' must be positive, got {}", key, *v));
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> MapReader::get_non_negative_int(std::string_view key,
                                                            std::optional<std::int64_t> fallback) {
  auto v = get_int(key, fallback);
  if (v && *v < 0 && find(key)) {
    diags_.error(find(key)->loc, fmt::format("'{}' must not be negative, got {}", key, *v));
    return std::nullopt;
  }
  return v;
}

std::optional<double> MapReader::get_positive_float(std::string_view key,
                                                    std::optional<double> fallback) {
  auto v = get_float(key, fallback);
  if (v && *v <= 0 && find(key)) {
    diags_.error(find(key)->loc,
                 fmt::format("'{}' must be positive, got {}", key, find(key)->text));
    return std::nullopt;
  }
  return v;
}

}  // namespace qb::config
