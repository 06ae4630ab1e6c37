// `qbuild tokenize`, `qbuild detokenize` (torch-free) and, in a libtorch build, `qbuild generate`,
// `qbuild logits` and `qbuild random-model` (through ModelToolHooks, set by main.cc).
#include "cli/tool_commands.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "steps/tokenizer/tokenizer.h"
#include "steps/tokenizer/utf8.h"
#include "util/fs.h"

namespace qb::cli {

namespace {

int tool_error(const char* tool, const Status& s) {
  std::fprintf(stderr, "qbuild %s: error: %s\n", tool, s.message().c_str());
  return s.code() == Code::kInvalidArgument ? kExitUsage : kExitBuildFailed;
}

int run_tokenize(const ToolArgs& a) {
  auto tok = tok::Tokenizer::load(a.tokenizer);
  if (!tok.is_ok()) return tool_error("tokenize", tok.status());
  std::string text;
  if (!a.file.empty()) {
    auto t = fs::read_file(a.file);
    if (!t.is_ok()) return tool_error("tokenize", t.status());
    text = *t;
  } else {
    for (std::size_t i = 0; i < a.texts.size(); ++i) text += (i ? " " : "") + a.texts[i];
  }
  if (auto bad = tok::find_invalid_utf8(text))
    return tool_error("tokenize", invalid_argument("input is not valid UTF-8 (byte offset " + std::to_string(*bad) + ")"));
  auto ids = tok->encode(text, !a.skip_special);
  if (a.json) {
    std::printf("%s\n", nlohmann::json(ids).dump().c_str());
  } else {
    for (std::size_t i = 0; i < ids.size(); ++i) std::printf(i ? " %d" : "%d", ids[i]);
    std::printf("\n");
  }
  return kExitOk;
}

int run_detokenize(const ToolArgs& a) {
  auto tok = tok::Tokenizer::load(a.tokenizer);
  if (!tok.is_ok()) return tool_error("detokenize", tok.status());
  std::vector<std::int32_t> ids;
  for (const auto& group : a.ids) {  // accepts "1 2 3" or 1 2 3 or [1, 2, 3]
    std::string s = group;
    for (char& c : s)
      if (c == ',' || c == '[' || c == ']') c = ' ';
    std::size_t pos = 0;
    while (pos < s.size()) {
      while (pos < s.size() && s[pos] == ' ') ++pos;
      if (pos >= s.size()) break;
      std::size_t end = s.find(' ', pos);
      std::string t = s.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      try {
        std::size_t used = 0;
        long v = std::stol(t, &used);
        if (used != t.size()) throw std::invalid_argument(t);
        ids.push_back(static_cast<std::int32_t>(v));
      } catch (const std::exception&) {
        return tool_error("detokenize", invalid_argument("not a token id: '" + t + "'"));
      }
      pos = end == std::string::npos ? s.size() : end;
    }
  }
  if (Status s = tok->check_ids(ids); !s.is_ok()) return tool_error("detokenize", s);
  std::string text = tok->decode(ids, a.skip_special);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::printf("\n");
  return kExitOk;
}

ModelToolHooks g_model_tools;

int run_generate(const ToolArgs& a) {
  if (!g_model_tools.generate) return tool_error("generate", unavailable("this qbuild was built without the model runtime"));
  auto r = g_model_tools.generate(a);
  if (!r.is_ok()) return tool_error("generate", r.status());
  std::fwrite(r->data(), 1, r->size(), stdout);
  std::printf("\n");
  return kExitOk;
}

int run_random_model(const ToolArgs& a) {
  if (!g_model_tools.random_model)
    return tool_error("random-model", unavailable("this qbuild was built without the model runtime"));
  if (Status s = g_model_tools.random_model(a); !s.is_ok()) return tool_error("random-model", s);
  std::fprintf(stderr, "qbuild random-model: wrote %s\n", a.out.c_str());  // a log line: no result on stdout
  return kExitOk;
}

int run_logits(const ToolArgs& a) {
  if (!g_model_tools.logits) return tool_error("logits", unavailable("this qbuild was built without the model runtime"));
  if (Status s = g_model_tools.logits(a); !s.is_ok()) return tool_error("logits", s);
  return kExitOk;
}

}  // namespace

void set_model_tools(ModelToolHooks hooks) { g_model_tools = std::move(hooks); }

void add_tool_commands(CLI::App& app, ToolArgs& a) {
  a.tokenize = app.add_subcommand("tokenize", "print the token ids of a text (space-separated, or --json)");
  a.tokenize->add_option("--tokenizer", a.tokenizer, "tokenizer.json or a folder holding it")->required();
  a.tokenize->add_flag("--json", a.json, "print a JSON list");
  a.tokenize->add_option("--file", a.file, "read the text from a file");
  a.tokenize->add_flag("--no-special", a.skip_special, "treat special-token text as plain text");
  a.tokenize->add_option("text", a.texts, "the text (joined with spaces)");
  a.detokenize = app.add_subcommand("detokenize", "print the text of token ids");
  a.detokenize->add_option("--tokenizer", a.tokenizer, "tokenizer.json or a folder holding it")->required();
  a.detokenize->add_flag("--skip-special", a.skip_special, "leave special tokens out");
  a.detokenize->add_option("ids", a.ids, "token ids")->required();
  a.generate = app.add_subcommand("generate", "print a model's greedy continuation of a prompt");
  a.generate->add_option("--model", a.model, "a Hugging Face model folder (dense or compressed-tensors)")->required();
  a.generate->add_option("--tokenizer", a.tokenizer, "tokenizer.json or its folder (default: the model folder)");
  a.generate->add_flag("--chat", a.chat, "wrap the prompt in the chat template (ChatML, thinking off)");
  a.generate->add_option("--max-new-tokens", a.max_new_tokens, "tokens to generate")->capture_default_str();
  a.generate->add_option("--device", a.device, "cpu | cuda | cuda:N")->capture_default_str();
  a.generate->add_option("--dtype", a.dtype, "float32 | bfloat16 | float16 (default: the checkpoint's)");
  a.generate->add_option("prompt", a.texts, "the prompt (joined with spaces)")->required();
  a.logits = app.add_subcommand("logits", "write the last-position logits of token-id sequences as JSON");
  a.logits->add_option("--model", a.model, "a Hugging Face model folder (no tokenizer needed)")->required();
  a.logits->add_option("--ids", a.ids, "one sequence: \"1 17 300\" (repeat for a batch)")->required();
  a.logits->add_option("--device", a.device, "cpu | cuda | cuda:N")->capture_default_str();
  a.logits->add_option("--dtype", a.dtype, "float32 | bfloat16 | float16 (default: the checkpoint's)");
  a.logits->add_option("--out", a.out, "output file: {\"logits_last\": [[...], ...]}")->required();
  a.random_model = app.add_subcommand(
      "random-model",
      "write a deterministic random Hugging Face checkpoint of a known shape (the demo model: "
      "`qbuild random-model --tokenizer data/tokenizers/qwen3 --out data/models/demo/qwen3-demo`)");
  a.random_model->add_option("--shape", a.shape, "demo (Qwen3 vocabulary, 2 tiny layers) | tiny | qwen3-8b")
      ->capture_default_str();
  a.random_model->add_option("--seed", a.seed, "random seed")->capture_default_str();
  a.random_model->add_option("--layers", a.layers, "decoder layers (default: the shape's)")->check(CLI::PositiveNumber);
  a.random_model->add_option("--dtype", a.dtype, "stored dtype: bfloat16 (default) | float32 | float16");
  a.random_model->add_option("--device", a.device, "where the weights are drawn: cpu | cuda")->capture_default_str();
  a.random_model->add_option("--tokenizer", a.tokenizer, "copy this tokenizer folder's files into the model");
  a.random_model->add_option("--out", a.out, "the model folder to create")->required();
}

int run_tool_command(const CLI::App& app, const ToolArgs& a) {
  if (a.tokenize && a.tokenize->parsed()) {
    if (a.file.empty() && a.texts.empty()) return tool_error("tokenize", invalid_argument("give a TEXT or --file F"));
    return run_tokenize(a);
  }
  if (a.detokenize && a.detokenize->parsed()) return run_detokenize(a);
  if (a.generate && a.generate->parsed()) return run_generate(a);
  if (a.logits && a.logits->parsed()) return run_logits(a);
  if (a.random_model && a.random_model->parsed()) return run_random_model(a);
  return -1;
}

}  // namespace qb::cli
