// `qbuild score` (see score_command.h). One line of output per record; bad records are reported
// as FILE:LINE on stderr and make the exit code 2, the others are still scored.
#include "cli/score_command.h"

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "steps/eval/rows.h"
#include "steps/eval/scorer.h"
#include "steps/eval/stats.h"
#include "util/fs.h"

namespace qb::cli {

namespace {

constexpr const char* kFooter = R"(FILE.jsonl holds one JSON object per line (empty lines are skipped):
  {"output": "<the model's raw output>", "gold": "<gold answer>", "choices": ["...", ...]}
  gold: GSM8K the final answer (the text after "####"; a number is accepted), MMLU the letter;
  choices: MMLU only, required (its length sets the letters A, B, ...). Other fields are ignored.

Per line: whether the first <think>...</think> block was removed, the extraction rule that fired,
the extracted answer, the reference compared with, and the rule that decided. The last line is
the accuracy with its standard error. Exit code 2 when a line could not be scored (FILE:LINE: on
stderr).)";

std::string json_quoted(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void add_score_command(CLI::App& app, ScoreArgs& a) {
  a.command = app.add_subcommand(
      "score", "score raw model outputs with the eval step's rules (evalscope 1.12.0) and show why each counts");
  a.command->add_option("--dataset", a.dataset, "gsm8k | mmlu")->required();
  a.command->add_option("--remove-until", a.remove_until,
                        "evalscope's remove_until filter: score the text after the first occurrence");
  a.command->add_flag("--json", a.json, "one JSON object per line with every step");
  a.command->add_option("file", a.file, "a JSONL file (see below)")->required();
  a.command->footer(kFooter);
}

int run_score_command(const ScoreArgs& a) {
  if (!a.command || !a.command->parsed()) return -1;
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "qbuild score: error: %s\n", s.message().c_str());
    return s.code() == Code::kInvalidArgument || s.code() == Code::kNotFound ? kExitUsage : kExitBuildFailed;
  };
  auto benchmark = eval::parse_benchmark(a.dataset);
  if (!benchmark.is_ok()) return fail(benchmark.status());
  auto text = fs::read_file(a.file);
  if (!text.is_ok()) return fail(text.status());
  eval::ScorerOptions opts;
  opts.remove_until = a.remove_until;

  if (!a.json) std::printf("# scorer %s\n", std::string(eval::kScorerVersion).c_str());
  int64_t n = 0, correct = 0, bad = 0;
  Status st = eval::for_each_line(*text, [&](int line, std::string_view s) -> Status {
    if (s.find_first_not_of(" \t") == std::string_view::npos) return Status::ok();
    const std::string where = fmt::format("{}:{}", a.file, line);
    auto in = eval::parse_score_input(s, *benchmark);
    Result<eval::ScoreTrace> t = in.is_ok() ? eval::score_output(*benchmark, in->output, in->gold, in->num_choices, opts)
                                            : Result<eval::ScoreTrace>(in.status());
    if (!t.is_ok()) {
      std::fprintf(stderr, "%s: error: %s\n", where.c_str(), t.status().message().c_str());
      ++bad;
      return Status::ok();
    }
    ++n;
    correct += t->correct;
    if (a.json) {
      nlohmann::ordered_json j = {{"line", line},           {"think_removed", t->think_removed},
                                  {"completion", t->completion}, {"filtered", t->filtered},
                                  {"rule", t->rule},         {"extracted", t->extracted},
                                  {"reference", t->reference}, {"correct", t->correct},
                                  {"verdict", t->verdict}};
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::printf("%s: %s  extracted %s (%s) vs %s: %s%s\n", where.c_str(), t->correct ? "correct" : "wrong",
                  json_quoted(t->extracted).c_str(), t->rule.c_str(), json_quoted(t->reference).c_str(), t->verdict.c_str(),
                  t->think_removed ? "  [think block removed]" : "");
    }
    return Status::ok();
  });
  if (!st.is_ok()) return fail(st);
  eval::Accuracy acc = eval::accuracy(correct, n);
  std::string summary = fmt::format("{} of {} correct: acc {:.4f} ± {:.4f}", correct, n, acc.acc, acc.stderr_);
  if (bad) summary += fmt::format(" ({} line{} not scored)", bad, bad == 1 ? "" : "s");
  if (a.json) {
    std::fprintf(stderr, "%s\n", summary.c_str());
  } else {
    std::printf("%s\n", summary.c_str());
  }
  return bad ? kExitUsage : kExitOk;
}

}  // namespace qb::cli
