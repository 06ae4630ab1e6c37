#include "steps/kinds/register_steps.h"

#include "steps/kinds/step_kinds.h"

namespace qb::steps {

// Bump a kind's code version when its output changes meaning: every key of that kind changes.
// Version 2 of sample/trans/quant: keys are the typed specs' canonical JSON (src/spec/), with
// the device and compute dtype a node runs with; generate and score replace eval/base_eval.
void register_all(runner::StepRegistry& registry) {
  registry.add({"sample", 2, false, "draw the frozen eval set (evalscope's weighted sampler)", run_sample});
  registry.add({"score", 1, false, "score raw outputs (evalscope 1.12.0's rules), fidelity vs. the base model", run_score});
#ifdef QBUILD_WITH_TORCH
  registry.add({"check", 1, false, "validate a source model once: config, tensors, NaN/Inf, tokenizer", run_check});
  registry.add({"trans", 2, true, "SpinQuant rotations fused in float64 + equivalence check", run_trans});
  registry.add({"smooth", 1, true, "SmoothQuant / AWQ scales folded into an fp checkpoint + equivalence check",
                run_smooth});
  registry.add({"quant", 2, true, "RTN / GPTQ quantization into a compressed-tensors checkpoint", run_quant});
  registry.add({"generate", 1, true, "run a model over an eval set: raw outputs, logits for fidelity", run_generate});
  registry.set_tools({tool_generate, tool_logits, tool_random_model});
#endif
}

}  // namespace qb::steps
