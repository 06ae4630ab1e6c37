// Which config names and output suffixes are safe. Names (trans/quant `name`, the eval's
// `dataset_name`) become file names and build.ninja/shell words: spaces, '$' and ':' are
// allowed (the graph layer escapes them), but not '/', a leading '.', NUL or control characters.
// An output_suffix is appended to model names, so it is stricter: no '/', '\', "..", no leading
// '.', not empty.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace qb::config {

// Names and suffixes become parts of file names (logs/<inv>/<variant>_<dataset>_generate.log):
// each is bounded here, and the graph checks the composed names against NAME_MAX (255).
inline constexpr std::size_t kMaxNameBytes = 128;

// Why `name` is unsafe ("contains '/'"), or nullopt when it is fine.
std::optional<std::string> unsafe_name_reason(std::string_view name);
std::optional<std::string> unsafe_suffix_reason(std::string_view suffix);

// `s` with control characters written as \xNN, for quoting in messages.
std::string printable(std::string_view s);

}  // namespace qb::config
