// `qbuild tokenize`, `qbuild detokenize` (torch-free) and, in a libtorch build, `qbuild generate`
// and `qbuild logits` (tool_commands_model.cc).
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

}  // namespace

void add_model_tool_commands(CLI::App& app, ToolArgs& a);  // tool_commands_model.cc (libtorch) or none
int run_model_tool_command(const ToolArgs& a);

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
  add_model_tool_commands(app, a);
}

int run_tool_command(const CLI::App& app, const ToolArgs& a) {
  if (a.tokenize && a.tokenize->parsed()) {
    if (a.file.empty() && a.texts.empty()) return tool_error("tokenize", invalid_argument("give a TEXT or --file F"));
    return run_tokenize(a);
  }
  if (a.detokenize && a.detokenize->parsed()) return run_detokenize(a);
  return run_model_tool_command(a);
}

}  // namespace qb::cli
