// The `check` step: a source model (data/models/...) validated once, before any step reads it
// (model/source_validation.h: config.json bounds and consistency, every implied tensor present
// with its shape and a float dtype, no NaN/Inf, a tokenizer that fits the vocabulary). The graph
// gives each source model one check node and makes every trans, quant and generate step that
// reads the source depend on it, so a corrupt download fails at its first consumer, naming the
// file and the tensor, and nothing downstream runs or publishes. Keyed by the source's content:
// a second study on the same model is a cache hit.
//
// Artifact: check.json ({"model", "seconds"}); meta "seconds".
#ifdef QBUILD_WITH_TORCH
#include <chrono>

#include "steps/kinds/step_kinds.h"
#include "steps/kinds/torch/torch_step.h"
#include "steps/model/source_validation.h"
#include "util/fs.h"
#include "util/log.h"

namespace qb::steps {

Status run_check(runner::StepContext& ctx) {
  return run_torch_step(ctx, "cpu", [](runner::StepContext& c) -> Status {
    const auto t0 = std::chrono::steady_clock::now();
    const auto& dir = c.inputs.at("model");
    QB_TRY(model::validate_source_model(dir));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    c.meta["seconds"] = s;
    log::info("source model '" + c.input_names["model"] + "' is valid (" + std::to_string(s) + " s)");
    return fs::write_file_atomic(c.out_dir / "check.json",
                                 nlohmann::json{{"model", c.input_names["model"]}, {"seconds", s}}.dump(2) + "\n");
  });
}

}  // namespace qb::steps
#endif
