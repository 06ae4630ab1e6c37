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
    if (e.prompt_style == "rolling") {
      if (!r.loglikelihood)
        return invalid_argument("score: item " + std::to_string(i) + " is a perplexity document without a "
                                "rolling log-likelihood");
    } else if (e.prompt_style == "loglikelihood") {
      if (r.loglikelihoods.size() != e.continuations.size())
        return invalid_argument("score: item " + std::to_string(i) + " needs " +
                                std::to_string(e.continuations.size()) + " log-likelihoods, has " +
                                std::to_string(r.loglikelihoods.size()));
      QB_ASSIGN_OR_RETURN(s, score_loglikelihoods(e, r.loglikelihoods));
    } else {
      QB_ASSIGN_OR_RETURN(s, score_generation(e, r.output, opts));
    }
    s.index = static_cast<int64_t>(i);
    run.scores.push_back(std::move(s));
  }
  QB_ASSIGN_OR_RETURN(run.report, make_report(entries, run.scores));
  // Perplexity tasks, in order of first appearance.
  std::vector<std::string> order;
  std::map<std::string, std::vector<size_t>> docs;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].prompt_style != "rolling") continue;
    if (!docs.count(entries[i].dataset_name)) order.push_back(entries[i].dataset_name);
    docs[entries[i].dataset_name].push_back(i);
  }
  if (!order.empty()) run.report["perplexity"] = ordered_json::array();
  for (const auto& ds : order) {
    std::vector<double> ll;
    std::vector<int64_t> tokens, words, bytes;
    for (size_t i : docs[ds]) {
      const EvalEntry& e = entries[i];
      if (!e.metadata.contains("words") || !e.metadata.contains("bytes") || !e.metadata["words"].is_number_integer() ||
          !e.metadata["bytes"].is_number_integer())
        return invalid_argument("score: perplexity item " + std::to_string(i) + " has no words/bytes counts");
      ll.push_back(*outputs[i].loglikelihood);
      tokens.push_back(outputs[i].tokens);
      words.push_back(e.metadata["words"].get<int64_t>());
      bytes.push_back(e.metadata["bytes"].get<int64_t>());
    }
    const Perplexity p = aggregate_perplexity(ll, tokens, words, bytes);
    run.report["perplexity"].push_back({{"dataset_name", ds},
                                        {"documents", p.documents},
                                        {"tokens", p.tokens},
                                        {"words", p.words},
                                        {"bytes", p.bytes},
                                        {"loglikelihood", p.loglikelihood},
                                        {"word_perplexity", p.word_perplexity},
                                        {"byte_perplexity", p.byte_perplexity},
                                        {"bits_per_byte", p.bits_per_byte},
                                        {"token_perplexity", p.token_perplexity}});
  }
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
    if (auto k = e.metadata.find("shuffle_seed"); k != e.metadata.end()) p["shuffle_seed"] = *k;  // gpqa_diamond
    if (e.prompt_style == "rolling") {
      p.erase("output");
      p.erase("extracted");
      p.erase("gold");
      p.erase("correct");
      p["loglikelihood"] = o.loglikelihood.value_or(0.0);
      p["tokens"] = o.tokens;
      p["words"] = e.metadata.value("words", 0);
      p["bytes"] = e.metadata.value("bytes", 0);
    } else if (e.prompt_style == "loglikelihood") {
      p["loglikelihoods"] = o.loglikelihoods;
      if (s.correct_norm) p["correct_norm"] = *s.correct_norm;
    } else {
      p["finish"] = o.finish;
      p["output_tokens"] = o.output_tokens;
    }
    per_dataset[e.dataset_name] += p.dump(-1, ' ', false, ordered_json::error_handler_t::replace) + "\n";
    ordered_json item{{"index", e.index}, {"dataset", e.dataset_name}, {"correct", s.correct}, {"extracted", s.extracted}};
    if (s.correct_norm) item["correct_norm"] = *s.correct_norm;
    if (e.prompt_style == "rolling") item["scored"] = false;  // a perplexity document: no correctness
    items += item.dump(-1, ' ', false, ordered_json::error_handler_t::replace) +
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

json scores_of(const ordered_json& report) {
  json s = {{"datasets", json::object()}};
  for (const auto& d : report.at("datasets")) {
    json& x = s["datasets"][d.at("dataset_name").get<std::string>()];
    x = {{"acc", d.at("acc")}, {"stderr", d.at("stderr")}, {"n", d.at("n")}};
    if (d.contains("acc_norm")) {
      x["acc_norm"] = d.at("acc_norm");
      x["acc_norm_stderr"] = d.at("acc_norm_stderr");
    }
    if (d.contains("shuffle_seeds")) {  // acc is already the mean over seeds; the spread beside it
      const auto& sd = d.at("shuffle_seeds");
      x["seeds"] = sd.at("seeds").size();
      if (sd.contains("std")) x["seed_std"] = sd.at("std");
      x["seed_min"] = sd.at("min");
      x["seed_max"] = sd.at("max");
    }
  }
  if (report.contains("perplexity"))
    for (const auto& p : report.at("perplexity"))
      s["datasets"][p.at("dataset_name").get<std::string>()] = {{"word_perplexity", p.at("word_perplexity")},
                                                                 {"byte_perplexity", p.at("byte_perplexity")},
                                                                 {"bits_per_byte", p.at("bits_per_byte")},
                                                                 {"n", p.at("documents")}};
  if (report.contains("overall")) {
    const auto& o = report.at("overall");
    s["overall"] = {{"acc", o.at("acc")}, {"stderr", o.at("stderr")}, {"n", o.at("n")}};
  }
  return s;
}

namespace {
std::optional<double> recovery_metric(const json& d) {
  if (d.contains("word_perplexity")) {
    const double p = d.at("word_perplexity").get<double>();
    return p > 0 ? std::optional<double>(1.0 / p) : std::nullopt;
  }
  if (d.contains("acc_norm")) return d.at("acc_norm").get<double>();
  if (d.contains("acc")) return d.at("acc").get<double>();
  return std::nullopt;
}
}  // namespace

std::optional<ordered_json> recovery(const json& base, json& scores) {
  double sum = 0;
  int count = 0;
  ordered_json per = ordered_json::object();
  for (auto& [ds, mine] : scores["datasets"].items()) {
    if (!base.contains("datasets") || !base["datasets"].contains(ds)) continue;
    auto b = recovery_metric(base["datasets"][ds]);
    auto v = recovery_metric(mine);
    if (!b || !v || *b <= 0) continue;
    const double r = *v / *b;
    mine["recovery"] = r;
    per[ds] = r;
    sum += r;
    ++count;
  }
  if (count == 0) return std::nullopt;
  scores["recovery_mean"] = sum / count;
  return ordered_json{{"what", "variant / base per benchmark: acc_norm where the task has it, else acc; perplexity "
                               "tasks base word_perplexity / variant word_perplexity"},
                      {"datasets", per},
                      {"mean", sum / count}};
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
