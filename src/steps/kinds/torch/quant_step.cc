// The `quant` step: RTN / GPTQ into a compressed-tensors checkpoint (src/steps/quant).
#ifdef QBUILD_WITH_TORCH
#include <ATen/ATen.h>

#include "steps/kinds/step_kinds.h"
#include "steps/kinds/torch/gpu_memory.h"
#include "steps/kinds/torch/source_input.h"
#include "steps/model/model_config.h"
#include "steps/quant/quantize.h"
#include "steps/quant/recipe.h"

namespace qb::steps {

namespace {
Status run_quant_impl(runner::StepContext& ctx) {
  QB_TRY(validate_source_input(ctx));  // a bad source model fails here, naming file and tensor
  nlohmann::json recipe_json = ctx.params;
  recipe_json.erase("compute_dtype");  // the project's, added to the key by the front end
  QB_ASSIGN_OR_RETURN_CTX(quant::QuantRecipe recipe, quant::recipe_from_json(recipe_json), "quant recipe");
  quant::QuantizeRequest req;
  req.recipe = recipe;
  req.model_dir = ctx.inputs.at("model");
  req.tokenizer_dir = req.model_dir;
  req.output_dir = ctx.out_dir;
  if (auto it = ctx.inputs.find("calibration"); it != ctx.inputs.end()) req.calibration_source = it->second;
  req.device = ctx.device == "cuda" ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  // The project's compute dtype (bfloat16 on CUDA, float32 on the CPU; part of the key): an fp32
  // SpinQuant model is then calibrated in bf16 on a GPU, and its unquantized tensors saved so.
  QB_ASSIGN_OR_RETURN(req.compute_dtype, model::parse_dtype(ctx.compute_dtype));
  nlohmann::json report;
  req.report = &report;
  QB_TRY(quant::run_quantize(req));
  return Status::ok();
}

}  // namespace

Status run_quant(runner::StepContext& ctx) { return with_gpu_peak(ctx, run_quant_impl); }

}  // namespace qb::steps
#endif
