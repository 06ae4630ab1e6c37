// The model tools of a libtorch build (`qbuild generate`, `logits`, `random-model`), registered
// with the step kinds in register_steps.cc.
#ifdef QBUILD_WITH_TORCH
#include "steps/kinds/step_kinds.h"

#include "steps/model/random_model.h"
#include "steps/model/tools.h"
#include "util/fs.h"

namespace qb::steps {

Result<std::string> tool_generate(const runner::GenerateToolArgs& a) {
  model::ToolModelOptions mo{a.model_dir, a.device, a.dtype};
  model::TextOptions to;
  to.chat = a.chat;
  to.max_new_tokens = a.max_new_tokens;
  std::string tok = a.tokenizer.empty() ? a.model_dir : a.tokenizer;
  QB_ASSIGN_OR_RETURN(model::TextGeneration g, model::run_generate(mo, tok, a.prompt, to));
  return g.text;
}

Status tool_logits(const runner::LogitsToolArgs& a) {
  model::ToolModelOptions mo{a.model_dir, a.device, a.dtype};
  QB_ASSIGN_OR_RETURN(nlohmann::json j, model::run_logits(mo, a.ids));
  return fs::write_file_atomic(a.out, j.dump() + "\n");
}

Status tool_random_model(const runner::RandomModelToolArgs& a) {
  model::RandomCheckpointRequest req;
  req.shape = a.shape;
  req.seed = a.seed;
  req.layers = a.layers;
  QB_ASSIGN_OR_RETURN(auto dtype, model::parse_dtype_option(a.dtype));
  req.dtype = dtype.value_or(at::kBFloat16);
  QB_ASSIGN_OR_RETURN(req.device, model::parse_device(a.device));
  req.tokenizer_dir = a.tokenizer;
  req.out_dir = a.out;
  return model::write_random_checkpoint(req);
}

}  // namespace qb::steps
#endif
