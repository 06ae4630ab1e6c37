// The step functions behind each registered kind (one file each): adapters from the runner's
// StepContext to the step libraries. Code versions live in register_steps.cc.
#pragma once

#include "runner/step_registry.h"

namespace qb::steps {

Status run_sample(runner::StepContext& ctx);
Status run_score(runner::StepContext& ctx);
#ifdef QBUILD_WITH_TORCH
Status run_quant(runner::StepContext& ctx);
Status run_smooth(runner::StepContext& ctx);
Status run_trans(runner::StepContext& ctx);
Status run_generate(runner::StepContext& ctx);
// `qbuild generate-worker REQUEST.json`: one shard of a data-parallel generate node (the exit
// status: 0 ok, 1 failed with the message on stderr; steps/generate/data_parallel.h).
int generate_worker(const std::string& request_file);
Status run_check(runner::StepContext& ctx);
// The model tools (torch/model_tools.cc).
Result<std::string> tool_generate(const runner::GenerateToolArgs& a);
Status tool_logits(const runner::LogitsToolArgs& a);
Status tool_random_model(const runner::RandomModelToolArgs& a);
#endif

}  // namespace qb::steps
