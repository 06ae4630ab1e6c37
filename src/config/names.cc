// Name and suffix safety rules (see names.h).
#include "config/names.h"

#include <algorithm>

#include <fmt/format.h>

namespace qb::config {
namespace {

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
    else out += c;
  }
  return out;
}

std::optional<std::string> unsafe_name_reason(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (has_control(name)) return "it contains a NUL or control character";
  if (name.find('/') != std::string_view::npos) return "it contains '/'";
  if (name[0] == '.') return "it starts with '.'";
  return std::nullopt;
}

std::optional<std::string> unsafe_suffix_reason(std::string_view suffix) {
  if (suffix.empty()) return "it is empty";
  if (has_control(suffix)) return "it contains a NUL or control character";
  if (suffix.find('/') != std::string_view::npos) return "it contains '/'";
  if (suffix.find('\\') != std::string_view::npos) return "it contains '\\'";
  if (suffix.find("..") != std::string_view::npos) return "it contains '..'";
  if (suffix[0] == '.') return "it starts with '.'";
  return std::nullopt;
}

}  // namespace qb::config
