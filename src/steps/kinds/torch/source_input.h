// The source model check at a step's door: the trans, quant and base_eval steps call
// validate_source_input() first, so a corrupt or inconsistent source model fails at its first
// consumer, naming file and tensor (model/source_validation.h), before anything is computed or
// published. An input that is an artifact of an earlier step (a transformed model) is not
// checked again: qbuild wrote it.
#pragma once

#include <string>

#include "runner/step_registry.h"

namespace qb::steps {

// True when input `role` is a source path rather than a store artifact (whose path is the
// object folder of its key, store/layout.h).
bool is_source_input(const runner::StepContext& ctx, const std::string& role);

// validate_source_model() on input `role` when it is a source; ok otherwise.
Status validate_source_input(const runner::StepContext& ctx, const std::string& role = "model");

}  // namespace qb::steps
