// The `quant` step: RTN / GPTQ into a compressed-tensors checkpoint (src/steps/quant), from the
// node's QuantRecipe (src/spec/quant_recipe.h) — the only values it computes with, so that the
// key and the bits agree. The manifest records the device and dtype actually used.
#ifdef QBUILD_WITH_TORCH
#include <ATen/ATen.h>

#include "spec/quant_recipe.h"
#include "steps/kinds/step_kinds.h"
#include "steps/kinds/torch/torch_step.h"
#include "steps/model/model_config.h"
#include "steps/quant/quantize.h"

namespace qb::steps {

Status run_quant(runner::StepContext& ctx) {
  QB_ASSIGN_OR_RETURN(spec::QuantRecipe recipe, spec::QuantRecipe::from_json(ctx.params));
  return run_torch_step(ctx, recipe.device, [&](runner::StepContext& c) -> Status {
    quant::QuantizeRequest req;
    req.recipe = recipe;
    req.model_dir = c.inputs.at("model");
    req.tokenizer_dir = req.model_dir;
    req.output_dir = c.out_dir;
    if (auto it = c.inputs.find("calibration"); it != c.inputs.end()) req.calibration_source = it->second;
    req.device = step_device(c);
    // A run killed mid-way (preempted, timed out, cancelled) left its finished layers here; the
    // rerun continues after them (steps/quant/layer_checkpoint.h).
    req.resume_dir = c.partial_dir;
    // bfloat16 on CUDA, float32 on the CPU unless the project says otherwise: an fp32 SpinQuant
    // model is then calibrated in bf16 on a GPU, and its unquantized tensors saved so.
    QB_ASSIGN_OR_RETURN(req.compute_dtype, model::parse_dtype(recipe.compute_dtype));
    nlohmann::json report;
    req.report = &report;
    QB_TRY(quant::run_quantize(req));
    c.meta["device"] = recipe.device;
    c.meta["compute_dtype"] = recipe.compute_dtype;
    return Status::ok();
  });
}

}  // namespace qb::steps
#endif
