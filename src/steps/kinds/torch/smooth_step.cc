// The `smooth` step: a recipe's smoothing stages (SmoothQuantModifier, AWQModifier) folded into
// an fp checkpoint (src/steps/quant/smooth.h), from the node's SmoothSpec
// (src/spec/smooth_spec.h) — the only values it computes with, so that the key and the bits
// agree. The `quant` node after it quantizes the result with the recipe's quantization stage.
// The equivalence check's metrics and the step's timings go into the artifact's meta.
#ifdef QBUILD_WITH_TORCH
#include <ATen/ATen.h>

#include "spec/smooth_spec.h"
#include "steps/kinds/step_kinds.h"
#include "steps/kinds/torch/torch_step.h"
#include "steps/model/model_config.h"
#include "steps/quant/smooth.h"

namespace qb::steps {

Status run_smooth(runner::StepContext& ctx) {
  QB_ASSIGN_OR_RETURN(spec::SmoothSpec spec, spec::SmoothSpec::from_json(ctx.params));
  return run_torch_step(ctx, spec.device, [&](runner::StepContext& c) -> Status {
    quant::SmoothRequest req;
    req.spec = spec;
    req.model_dir = c.inputs.at("model");
    req.tokenizer_dir = req.model_dir;
    req.output_dir = c.out_dir;
    if (auto it = c.inputs.find("calibration"); it != c.inputs.end()) req.calibration_source = it->second;
    req.device = step_device(c);
    QB_ASSIGN_OR_RETURN(req.compute_dtype, model::parse_dtype(spec.compute_dtype));
    QB_ASSIGN_OR_RETURN(nlohmann::json meta, quant::run_smooth(req));
    for (auto it = meta.begin(); it != meta.end(); ++it) c.meta[it.key()] = it.value();
    c.meta["device"] = spec.device;
    c.meta["compute_dtype"] = spec.compute_dtype;
    return Status::ok();
  });
}

}  // namespace qb::steps
#endif
