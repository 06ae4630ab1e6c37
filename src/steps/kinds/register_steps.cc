#include "steps/kinds/register_steps.h"

#include "steps/kinds/step_kinds.h"

namespace qb::steps {

// Bump a kind's code version when its output changes meaning: every key of that kind changes.
void register_all(runner::StepRegistry& registry) {
  registry.add({"sample", 1, false, "draw the frozen eval set (evalscope's weighted sampler)", run_sample});
#ifdef QBUILD_WITH_TORCH
  registry.add({"trans", 1, true, "SpinQuant rotations fused in float64 + equivalence check", run_trans});
  registry.add({"quant", 1, true, "RTN / GPTQ quantization into a compressed-tensors checkpoint", run_quant});
  registry.add({"base_eval", 1, true, "evaluate the source model: baseline scores, logits for fidelity", run_base_eval});
  registry.add({"eval", 1, true, "evaluate a variant: MMLU / GSM8K scores, fidelity vs. the base model", run_eval});
#endif
}

}  // namespace qb::steps
