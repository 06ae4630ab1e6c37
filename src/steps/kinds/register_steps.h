// Registers every step kind built into this qbuild (what `qbuild --help` lists) and, in a
// libtorch build, the model tools. A kind that is
// not registered here shows up at graph time as "not available in this build".
#pragma once

#include "runner/step_registry.h"

namespace qb::steps {

void register_all(runner::StepRegistry& registry);

}  // namespace qb::steps
