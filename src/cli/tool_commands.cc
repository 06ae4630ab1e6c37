// `qbuild tokenize`, `qbuild detokenize` (torch-free) and, in a libtorch build, `qbuild generate`,
// `qbuild logits` and `qbuild random-model` (the registry's model tools).
#include "cli/tool_commands.h"

#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "steps/tokenizer/tokenizer.h"
#include "steps/tokenizer/utf8.h"
#include "util/fs.h"
#include "util/subprocess.h"

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

Result<std::vector<std::int64_t>> parse_ids(const std::string& s) {
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
      return invalid_argument("--ids: not a token id: '" + w + "'");
    }
  }
  if (ids.empty()) return invalid_argument("--ids: an empty sequence");
  return ids;
}

Status not_built_in() { return unavailable("this qbuild was built without the model runtime"); }

}  // namespace

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
  auto& g = a.generate_args;
  a.generate->add_option("--model", g.model_dir, "a Hugging Face model folder (dense or compressed-tensors)")->required();
  a.generate->add_option("--tokenizer", g.tokenizer, "tokenizer.json or its folder (default: the model folder)");
  a.generate->add_flag("--chat", g.chat, "wrap the prompt in the chat template (ChatML, thinking off)");
  a.generate->add_option("--max-new-tokens", g.max_new_tokens, "tokens to generate (prompt + these must fit the model's max_position_embeddings)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  a.generate->add_option("--device", g.device, "cpu | cuda | cuda:N")->capture_default_str();
  a.generate->add_option("--dtype", g.dtype, "float32 | bfloat16 | float16 (default: the checkpoint's)");
  a.generate->add_option("prompt", a.prompt_words, "the prompt (joined with spaces)")->required();
  a.logits = app.add_subcommand("logits", "write the last-position logits of token-id sequences as JSON");
  auto& l = a.logits_args;
  a.logits->add_option("--model", l.model_dir, "a Hugging Face model folder (no tokenizer needed)")->required();
  a.logits->add_option("--ids", a.id_lists, "one sequence: \"1 17 300\" (repeat for a batch)")->required();
  a.logits->add_option("--device", l.device, "cpu | cuda | cuda:N")->capture_default_str();
  a.logits->add_option("--dtype", l.dtype, "float32 | bfloat16 | float16 (default: the checkpoint's)");
  a.logits->add_option("--out", l.out, "output file: {\"logits_last\": [[...], ...]}")->required();
  a.random_model = app.add_subcommand(
      "random-model",
      "write a deterministic random Hugging Face checkpoint of a known shape (the demo model: "
      "`qbuild random-model --tokenizer data/tokenizers/qwen3 --out data/models/demo/qwen3-demo`)");
  auto& r = a.random_args;
  a.random_model->add_option("--shape", r.shape, "demo (Qwen3 vocabulary, 2 tiny layers) | tiny | qwen3-8b")
      ->capture_default_str();
  a.random_model->add_option("--seed", r.seed, "random seed")->capture_default_str();
  a.random_model->add_option("--layers", r.layers, "decoder layers (default: the shape's)")->check(CLI::PositiveNumber);
  a.random_model->add_option("--dtype", r.dtype, "stored dtype: bfloat16 (default) | float32 | float16");
  a.random_model->add_option("--device", r.device, "where the weights are drawn: cpu | cuda")->capture_default_str();
  a.random_model->add_option("--tokenizer", r.tokenizer, "copy this tokenizer folder's files into the model");
  a.random_model->add_option("--out", r.out, "the model folder to create")->required();
}

namespace {
int dispatch(const CLI::App& app, const ToolArgs& a, const runner::ModelTools& tools);
}  // namespace

// The model tools run libtorch outside any step: a device failure (out of memory, a driver
// error) is reported here like the step runner reports it, never as an abort.
int run_tool_command(const CLI::App& app, const ToolArgs& a, const runner::ModelTools& tools,
                     const std::filesystem::path& torch_exe) {
  const bool model_tool = (a.generate && a.generate->parsed()) || (a.logits && a.logits->parsed()) ||
                          (a.random_model && a.random_model->parsed());
  if (model_tool && !torch_exe.empty()) {  // returns only when the exec failed
    std::fprintf(stderr, "qbuild: error: %s\n", exec_with_own_args(torch_exe).message().c_str());
    return kExitBuildFailed;
  }
  try {
    return dispatch(app, a, tools);
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (auto cut = what.find("\nException raised from"); cut != std::string::npos) what.resize(cut);  // libtorch's backtrace
    std::fprintf(stderr, "qbuild: error: the model runtime failed: %s\n", what.c_str());
    return kExitBuildFailed;
  }
}

namespace {
int dispatch(const CLI::App& app, const ToolArgs& a, const runner::ModelTools& tools) {
  if (a.tokenize && a.tokenize->parsed()) {
    if (a.file.empty() && a.texts.empty()) return tool_error("tokenize", invalid_argument("give a TEXT or --file F"));
    return run_tokenize(a);
  }
  if (a.detokenize && a.detokenize->parsed()) return run_detokenize(a);
  if (a.generate && a.generate->parsed()) {
    if (!tools.generate) return tool_error("generate", not_built_in());
    runner::GenerateToolArgs g = a.generate_args;
    for (std::size_t i = 0; i < a.prompt_words.size(); ++i) g.prompt += (i ? " " : "") + a.prompt_words[i];
    auto text = tools.generate(g);
    if (!text.is_ok()) return tool_error("generate", text.status());
    std::fwrite(text->data(), 1, text->size(), stdout);  // the result alone on standard output
    std::printf("\n");
    return kExitOk;
  }
  Status s = Status::ok();
  const char* name = nullptr;
  if (a.logits && a.logits->parsed()) {
    name = "logits";
    if (!tools.logits) return tool_error(name, not_built_in());
    runner::LogitsToolArgs l = a.logits_args;
    for (const auto& list : a.id_lists) {
      auto ids = parse_ids(list);
      if (!ids.is_ok()) return tool_error(name, ids.status());
      l.ids.push_back(std::move(*ids));
    }
    s = tools.logits(l);
  } else if (a.random_model && a.random_model->parsed()) {
    name = "random-model";
    if (!tools.random_model) return tool_error(name, not_built_in());
    s = tools.random_model(a.random_args);
    if (s.is_ok()) std::fprintf(stderr, "qbuild random-model: wrote %s\n", a.random_args.out.c_str());
  } else {
    return -1;
  }
  return s.is_ok() ? kExitOk : tool_error(name, s);
}

}  // namespace

}  // namespace qb::cli
