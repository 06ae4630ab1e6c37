// Matching module names against compressed-tensors targets and ignore entries, as
// compressed-tensors 0.19 does for the modules qbuild quantizes (every one an nn.Linear):
//   "Linear", "Module"   class names: match every Linear
//   "re:<pattern>"       Python re.match: anchored at the start of the name, not at the end
//   anything else        the exact module name ("lm_head", "model.layers.0.mlp.down_proj")
// Patterns are ECMAScript regexes (the constructs recipes use — alternation, classes, .*, $ —
// mean the same in Python's re).
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace qb::spec {

// Errors: an invalid "re:" pattern ("invalid regular expression 're:((': ...").
Result<bool> matches_target(std::string_view module, std::string_view target);

// Why `target` cannot be used in a recipe's targets/ignore, or "" when it can: an invalid
// regex, or a class name other than Linear/Module (qbuild quantizes Linear modules only).
std::string target_problem(std::string_view target);

}  // namespace qb::spec
