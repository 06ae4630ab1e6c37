// A build without libtorch: no model tools.
#ifndef QBUILD_WITH_TORCH
#include "steps/kinds/model_tools.h"

namespace qb::steps {
bool model_tools_available() { return false; }
Result<std::string> tool_generate(const GenerateToolArgs&) { return unavailable("this qbuild was built without libtorch"); }
Status tool_logits(const LogitsToolArgs&) { return unavailable("this qbuild was built without libtorch"); }
Status tool_random_model(const RandomModelToolArgs&) { return unavailable("this qbuild was built without libtorch"); }
}  // namespace qb::steps
#endif
