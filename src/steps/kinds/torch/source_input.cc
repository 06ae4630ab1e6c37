#ifdef QBUILD_WITH_TORCH
#include "steps/kinds/torch/source_input.h"

#include "steps/model/source_validation.h"
#include "store/layout.h"

namespace qb::steps {

bool is_source_input(const runner::StepContext& ctx, const std::string& role) {
  auto key = ctx.input_keys.find(role);
  if (key == ctx.input_keys.end() || key->second.empty()) return true;
  const auto artifact = store::Layout(ctx.project_root).object_dir(key->second).lexically_normal();
  return ctx.inputs.at(role).lexically_normal() != artifact;
}

Status validate_source_input(const runner::StepContext& ctx, const std::string& role) {
  if (!is_source_input(ctx, role)) return Status::ok();
  return model::validate_source_model(ctx.inputs.at(role));
}

}  // namespace qb::steps
#endif
