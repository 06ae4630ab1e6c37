// Small string utilities: quoting for POSIX shells, joining, time stamps.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qb {

// 'single-quoted' for /bin/sh unless the string is made only of safe characters.
std::string shell_quote(std::string_view s);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// The offset of the first byte of `s` that is not part of a well-formed UTF-8 sequence
// (overlong forms, surrogates and code points above U+10FFFF count as malformed), or nullopt.
std::optional<std::size_t> first_invalid_utf8(std::string_view s);
// Local time as "YYYYmmdd_HHMMSS" (log folders) and ISO-8601 UTC ("2026-11-23T23:04:05Z").
std::string timestamp_compact();
std::string timestamp_iso_utc();
double unix_time_now();  // seconds, sub-second resolution
std::string hostname();

}  // namespace qb
