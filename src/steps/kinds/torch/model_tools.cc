#ifdef QBUILD_WITH_TORCH
#include "steps/kinds/model_tools.h"

#include "steps/model/tools.h"
#include "util/fs.h"

namespace qb::steps {

bool model_tools_available() { return true; }

Result<std::string> tool_generate(const GenerateToolArgs& a) {
  model::ToolModelOptions mo{a.model_dir, a.device, a.dtype};
  model::TextOptions to;
  to.chat = a.chat;
  to.max_new_tokens = a.max_new_tokens;
  std::string tok = a.tokenizer.empty() ? a.model_dir : a.tokenizer;
  QB_ASSIGN_OR_RETURN(model::TextGeneration g, model::run_generate(mo, tok, a.prompt, to));
  return g.text;
}

Status tool_logits(const LogitsToolArgs& a) {
  model::ToolModelOptions mo{a.model_dir, a.device, a.dtype};
  QB_ASSIGN_OR_RETURN(nlohmann::json j, model::run_logits(mo, a.ids));
  return fs::write_file_atomic(a.out, j.dump() + "\n");
}

}  // namespace qb::steps
#endif
