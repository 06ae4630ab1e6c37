// The `trans` step: SpinQuant R1/R2/R4 fused into an fp32 checkpoint, then the automatic
// equivalence check (src/steps/transforms). The check's metrics go into the artifact's meta.
#ifdef QBUILD_WITH_TORCH
#include <ATen/ATen.h>

#include "steps/kinds/step_kinds.h"
#include "steps/kinds/torch/gpu_memory.h"
#include "steps/kinds/torch/source_input.h"
#include "steps/transforms/spinquant.h"

namespace qb::steps {

namespace {
Status run_trans_impl(runner::StepContext& ctx) {
  QB_TRY(validate_source_input(ctx));  // a bad source model fails here, naming file and tensor
  transforms::SpinQuantRequest req;
  QB_ASSIGN_OR_RETURN_CTX(req.params, transforms::params_from_json(ctx.params), "SpinQuant parameters");
  req.input_dir = ctx.inputs.at("model");
  req.output_dir = ctx.out_dir;
  req.device = ctx.device == "cuda" ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  auto eq = ctx.settings.value("equivalence", nlohmann::json::object());
  req.equivalence.max_rel_error = eq.value("max_rel_error", req.equivalence.max_rel_error);
  // Text prompts need the source's tokenizer.json; without one the check uses fixed token ids.
  std::error_code ec;
  if (std::filesystem::exists(req.input_dir / "tokenizer.json", ec))
    req.equivalence.prompts = eq.value("prompts", std::vector<std::string>{});
  QB_ASSIGN_OR_RETURN(nlohmann::json meta, transforms::run_spinquant(req));
  for (auto it = meta.begin(); it != meta.end(); ++it) ctx.meta[it.key()] = it.value();
  // Carry the tokenizer files along so the transformed model is self-contained.
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json"})
    if (std::filesystem::exists(req.input_dir / f, ec) && !std::filesystem::exists(ctx.out_dir / f, ec))
      std::filesystem::copy_file(req.input_dir / f, ctx.out_dir / f, ec);
  return Status::ok();
}

}  // namespace

Status run_trans(runner::StepContext& ctx) { return with_gpu_peak(ctx, run_trans_impl); }

}  // namespace qb::steps
#endif
