// qbuild's entry point: the real step kinds and model tools, and the front end in qbuild_cli.
#include <sstream>

#include "cli/cli.h"
#include "cli/tool_commands.h"
#include "steps/kinds/model_tools.h"
#include "steps/kinds/register_steps.h"

namespace {

qb::Result<std::vector<std::int64_t>> parse_ids(const std::string& s) {
  std::vector<std::int64_t> ids;
  std::string t = s;
  for (char& c : t)
    if (c == ',' || c == '[' || c == ']') c = ' ';
  std::istringstream in(t);
  std::string w;
  while (in >> w) {
    try {
      std::size_t used = 0;
      long long v = std::stoll(w, &used);
      if (used != w.size() || v < 0) throw std::invalid_argument(w);
      ids.push_back(v);
    } catch (const std::exception&) {
      return qb::invalid_argument("--ids: not a token id: '" + w + "'");
    }
  }
  if (ids.empty()) return qb::invalid_argument("--ids: an empty sequence");
  return ids;
}

qb::cli::ModelToolHooks model_tools() {
  if (!qb::steps::model_tools_available()) return {};
  qb::cli::ModelToolHooks h;
  h.generate = [](const qb::cli::ToolArgs& a) -> qb::Result<std::string> {
    qb::steps::GenerateToolArgs g;
    g.model_dir = a.model;
    g.tokenizer = a.tokenizer;
    g.device = a.device;
    g.dtype = a.dtype;
    for (std::size_t i = 0; i < a.texts.size(); ++i) g.prompt += (i ? " " : "") + a.texts[i];
    g.chat = a.chat;
    g.max_new_tokens = a.max_new_tokens;
    return qb::steps::tool_generate(g);
  };
  h.logits = [](const qb::cli::ToolArgs& a) -> qb::Status {
    qb::steps::LogitsToolArgs l;
    l.model_dir = a.model;
    l.device = a.device;
    l.dtype = a.dtype;
    l.out = a.out;
    for (const auto& s : a.ids) {
      QB_ASSIGN_OR_RETURN(auto ids, parse_ids(s));
      l.ids.push_back(std::move(ids));
    }
    return qb::steps::tool_logits(l);
  };
  h.random_model = [](const qb::cli::ToolArgs& a) -> qb::Status {
    qb::steps::RandomModelToolArgs r;
    r.shape = a.shape;
    r.seed = a.seed;
    r.layers = a.layers;
    r.dtype = a.dtype;
    r.device = a.device;
    r.tokenizer = a.tokenizer;
    r.out = a.out;
    return qb::steps::tool_random_model(r);
  };
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  qb::runner::StepRegistry registry;
  qb::steps::register_all(registry);
  qb::cli::set_model_tools(model_tools());
  return qb::cli::run_main(argc, argv, registry);
}
