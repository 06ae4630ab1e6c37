// Scoring raw outputs and writing a score artifact's files (see score_run.h).
#include "steps/eval/score_run.h"

#include <array>
#include <map>

#include "steps/eval/rows.h"
#include "util/fs.h"

namespace qb::eval {

using nlohmann::json;
using nlohmann::ordered_json;

Result<ScoreRun> score_outputs(const std::vector<EvalEntry>& entries, const std::vector<RawOutput>& outputs,
                               const ScoreOptions& opts) {
  if (outputs.size() != entries.size())
    return invalid_argument("score: " + std::to_string(outputs.size()) + " outputs for " +
                            std::to_string(entries.size()) + " eval-set entries");
  ScoreRun run;
  for (size_t i = 0; i < entries.size(); ++i) {
    const EvalEntry& e = entries[i];
    const RawOutput& r = outputs[i];
    Score s;
    if (e.prompt_style == "loglikelihood") {
      if (r.loglikelihoods.size() != 4)
        return invalid_argument("score: item " + std::to_string(i) + " needs 4 log-likelihoods, has " +
                                std::to_string(r.loglikelihoods.size()));
      std::array<double, 4> ll{};
      std::copy_n(r.loglikelihoods.begin(), 4, ll.begin());
      QB_ASSIGN_OR_RETURN(s, score_loglikelihoods(e, ll));
    } else {
      QB_ASSIGN_OR_RETURN(s, score_generation(e, r.output, opts));
    }
    s.index = static_cast<int64_t>(i);
    run.scores.push_back(std::move(s));
  }
  QB_ASSIGN_OR_RETURN(run.report, make_report(entries, run.scores));
  return run;
}

Status write_score_outputs(const std::filesystem::path& out_dir, const std::vector<EvalEntry>& entries,
                           const std::vector<RawOutput>& outputs, const std::vector<Score>& scores,
                           const ordered_json& report) {
  std::map<std::string, std::string> per_dataset;
  std::string items;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const auto& o = outputs[i];
    const auto& s = scores[i];
    ordered_json p = {{"index", e.index},
                      {"subset", e.subset_name},
                      {"prompt", e.prompt},
                      {"output", e.prompt_style == "loglikelihood" ? s.extracted : o.output},
                      {"extracted", s.extracted},
                      {"gold", e.gold},
                      {"correct", s.correct}};
    if (e.prompt_style == "loglikelihood") {
      p["loglikelihoods"] = o.loglikelihoods;
    } else {
      p["finish"] = o.finish;
      p["output_tokens"] = o.output_tokens;
    }
    per_dataset[e.dataset_name] += p.dump(-1, ' ', false, ordered_json::error_handler_t::replace) + "\n";
    items += ordered_json{{"index", e.index}, {"dataset", e.dataset_name}, {"correct", s.correct},
                          {"extracted", s.extracted}}
                 .dump(-1, ' ', false, ordered_json::error_handler_t::replace) +
             "\n";
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir / "predictions", ec);
  if (ec) return io_error("creating '" + (out_dir / "predictions").string() + "': " + ec.message());
  for (const auto& [ds, text] : per_dataset)
    QB_TRY(fs::write_file_atomic(out_dir / "predictions" / (ds + ".jsonl"), text));
  QB_TRY(fs::write_file_atomic(out_dir / "items.jsonl", items));
  return fs::write_file_atomic(out_dir / "report.json", report.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n");
}

Result<std::vector<bool>> read_item_correctness(const std::filesystem::path& artifact_dir, size_t expected) {
  const std::filesystem::path file = artifact_dir / "items.jsonl";
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(file));
  std::vector<bool> out;
  QB_TRY(for_each_line(text, [&](int line, std::string_view s) -> Status {
    json j = json::parse(s, nullptr, false);
    if (j.is_discarded() || !j.contains("correct") || !j["correct"].is_boolean())
      return corrupt(file.string() + ":" + std::to_string(line) + ": not an item line with a boolean 'correct'");
    out.push_back(j["correct"].get<bool>());
    return Status::ok();
  }));
  if (out.size() != expected)
    return corrupt(file.string() + ": " + std::to_string(out.size()) + " items, expected " + std::to_string(expected));
  return out;
}

}  // namespace qb::eval
