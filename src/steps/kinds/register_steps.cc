#include "steps/kinds/register_steps.h"

namespace qb::steps {

void register_all(runner::StepRegistry& registry) {}

}  // namespace qb::steps
