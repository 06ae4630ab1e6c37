// Parsing JSON from files qbuild did not write itself (datasets, eval sets, outputs) with a
// bound on nesting: nlohmann::json destroys and serializes values recursively, so a row nested
// 100,000 levels deep would overflow the stack long after parsing. Deeper values are refused
// while parsing (the parser itself is iterative), with an error naming the place.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace qb {

inline constexpr int kMaxJsonDepth = 64;  // real datasets nest 3–5 levels

// invalid_argument "<where>: <nlohmann's parse error>" or "<where>: nested deeper than 64 levels".
Result<nlohmann::json> parse_json_bounded(std::string_view text, const std::string& where,
                                          int max_depth = kMaxJsonDepth);

}  // namespace qb
