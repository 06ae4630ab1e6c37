// The `trans` step: SpinQuant R1/R2/R4 fused into an fp32 checkpoint, then the automatic
// equivalence check (src/steps/transforms), from the node's SpinQuantParams and the check's
// settings (src/spec/spinquant.h). The check's metrics go into the artifact's meta.
#ifdef QBUILD_WITH_TORCH
#include <ATen/ATen.h>

#include "spec/spinquant.h"
#include "steps/kinds/step_kinds.h"
#include "steps/kinds/torch/torch_step.h"
#include "steps/transforms/spinquant.h"

namespace qb::steps {

Status run_trans(runner::StepContext& ctx) {
  QB_ASSIGN_OR_RETURN(spec::SpinQuantParams params, spec::SpinQuantParams::from_json(ctx.params));
  QB_ASSIGN_OR_RETURN(spec::EquivalenceCheck check,
                      spec::EquivalenceCheck::from_json(ctx.settings.value("equivalence", nlohmann::json::object())));
  return run_torch_step(ctx, params.device, [&](runner::StepContext& c) -> Status {
    transforms::SpinQuantRequest req;
    req.params = params;
    req.input_dir = c.inputs.at("model");
    req.output_dir = c.out_dir;
    req.device = step_device(c);
    req.equivalence.max_rel_error = check.max_rel_error;
    // Text prompts need the source's tokenizer.json; without one the check uses fixed token ids.
    std::error_code ec;
    if (std::filesystem::exists(req.input_dir / "tokenizer.json", ec)) req.equivalence.prompts = check.prompts;
    QB_ASSIGN_OR_RETURN(nlohmann::json meta, transforms::run_spinquant(req));
    for (auto it = meta.begin(); it != meta.end(); ++it) c.meta[it.key()] = it.value();
    // Carry the tokenizer files along so the transformed model is self-contained.
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json"})
      if (std::filesystem::exists(req.input_dir / f, ec) && !std::filesystem::exists(c.out_dir / f, ec))
        std::filesystem::copy_file(req.input_dir / f, c.out_dir / f, ec);
    c.meta["device"] = params.device;
    return Status::ok();
  });
}

}  // namespace qb::steps
#endif
