// "Did you mean ...?" for misspelt keys and enum values: the closest candidate by edit distance.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qb {

// Levenshtein distance (insertions, deletions, substitutions; ASCII case-insensitive).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough: distance <= 2 or <= a third of the
// candidate's length. Ties go to the earlier candidate. Exact matches are not suggestions.
std::optional<std::string> did_you_mean(std::string_view word,
                                        const std::vector<std::string_view>& candidates);

// "; did you mean 'x'?" or "" (for appending to a message).
std::string did_you_mean_suffix(std::string_view word,
                                const std::vector<std::string_view>& candidates);

}  // namespace qb
