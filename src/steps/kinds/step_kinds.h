// The step functions behind each registered kind (one file each): adapters from the runner's
// StepContext to the step libraries. Code versions live in register_steps.cc.
#pragma once

#include "runner/step_registry.h"

namespace qb::steps {

Status run_sample(runner::StepContext& ctx);
#ifdef QBUILD_WITH_TORCH
Status run_quant(runner::StepContext& ctx);
Status run_trans(runner::StepContext& ctx);
Status run_eval(runner::StepContext& ctx);
Status run_base_eval(runner::StepContext& ctx);
#endif

}  // namespace qb::steps
