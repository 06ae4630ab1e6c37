// register_all (register_steps.h) of the libtorch build: every kind with its function, and the
// model tools. Compiled into qbuild_kinds_torch, so only qbuild-torch links it.
#ifdef QBUILD_WITH_TORCH
#include "steps/kinds/register_steps.h"
#include "steps/kinds/step_kinds.h"

namespace qb::steps {

void register_all(runner::StepRegistry& registry) {
  register_kinds(registry, {{"sample", run_sample},
                            {"score", run_score},
                            {"check", run_check},
                            {"trans", run_trans},
                            {"smooth", run_smooth},
                            {"quant", run_quant},
                            {"generate", run_generate}});
  registry.set_tools({tool_generate, tool_logits, tool_random_model});
}

}  // namespace qb::steps
#endif
