// Small helpers for model_io's error messages (private to this folder).
#pragma once

#include <filesystem>
#include <string>

namespace qb::model_io {

inline std::string quote(const std::string& s) { return "'" + s + "'"; }
inline std::string quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// nlohmann's exception text without its "[json.exception.parse_error.101] " prefix.
inline std::string json_error_text(const std::exception& e) {
  std::string m = e.what();
  if (auto p = m.find("] "); m.rfind("[json.", 0) == 0 && p != std::string::npos) m = m.substr(p + 2);
  return m;
}

}  // namespace qb::model_io
