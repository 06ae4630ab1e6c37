// The `score` step (CPU, seconds): the raw outputs of a generate node scored against the frozen
// eval set with evalscope's rules (src/steps/eval/score_run.h), from the node's ScoreSpec. With
// fidelity, it summarizes the generation's per-item KL / top-1 against the base model and runs
// McNemar's exact test on per-item correctness against the base model's score node.
//
// Artifact: predictions/<dataset>.jsonl, items.jsonl, report.json, config.json.
// meta["scores"] = {"datasets": {ds: {acc, stderr, n}}, "overall": {...}, "fidelity": {...}}
// (gpqa_diamond with shuffle_seeds adds seeds, seed_std, seed_min, seed_max: eval::scores_of),
// which `qbuild` flattens into results/<dataset_name>.csv; meta["model_key"] and
// meta["generation"] (speed) come from the generation it scored.
#include <optional>

#include <spdlog/spdlog.h>

#include "spec/eval_spec.h"
#include "steps/eval/score_run.h"
#include "steps/eval/stats.h"
#include "steps/kinds/step_kinds.h"
#include "util/fs.h"

namespace qb::steps {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

Result<json> read_json_file(const std::filesystem::path& p) {
  QB_ASSIGN_OR_RETURN(std::string text, fs::read_file(p));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return corrupt(p.string() + ": not JSON");
  return j;
}

// Recovery against the base model's score artifact (its report.json).
Status add_recovery(const std::filesystem::path& base_dir, json& scores, ordered_json& report) {
  QB_ASSIGN_OR_RETURN(json base_report, read_json_file(base_dir / "report.json"));
  const json base = eval::scores_of(ordered_json(base_report));
  if (auto r = eval::recovery(base, scores)) report["recovery"] = *r;
  return Status::ok();
}

}  // namespace

Status run_score(runner::StepContext& ctx) {
  QB_ASSIGN_OR_RETURN(spec::ScoreSpec ss, spec::ScoreSpec::from_json(ctx.params));
  spec::Issues issues;
  ss.validate(issues);
  QB_TRY(issues.to_status("score spec"));
  const auto& gen_dir = ctx.inputs.at("generation");
  QB_ASSIGN_OR_RETURN(auto entries, eval::load_eval_set(ctx.inputs.at("eval_set") / "eval_set.jsonl"));
  QB_ASSIGN_OR_RETURN(auto outputs, eval::load_raw_outputs(gen_dir / "outputs.jsonl", entries.size()));
  QB_ASSIGN_OR_RETURN(json generation, read_json_file(gen_dir / "generation.json"));

  eval::ScoreOptions so;
  so.strip_think_block = ss.strip_thinking;
  QB_ASSIGN_OR_RETURN(eval::ScoreRun run, eval::score_outputs(entries, outputs, so));
  json scores = eval::scores_of(run.report);

  ordered_json report = {{"model", generation.value("model", "")},
                         {"model_key", generation.value("model_key", "")},
                         {"eval_set_key", ctx.input_keys.at("eval_set")},
                         {"generate_key", ctx.input_keys.at("generation")},
                         {"eval_key", ctx.key},
                         {"scorer", ss.scorer}};
  report.update(run.report);
  if (ss.fidelity) {
    if (!ctx.inputs.count("base")) return internal_error("score: fidelity without a base input");
    std::vector<double> kl, token_kl;
    std::vector<bool> top1;
    int64_t token_top1 = 0;
    std::vector<size_t> scored;  // items with a correctness (not perplexity documents)
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (entries[i].prompt_style == "rolling") {
        if (!outputs[i].token_top1)
          return corrupt((gen_dir / "outputs.jsonl").string() + ": item " + std::to_string(i) +
                         " has no per-token fidelity values: the generation did not compare with the base model");
        token_kl.insert(token_kl.end(), outputs[i].token_kl.begin(), outputs[i].token_kl.end());
        token_top1 += *outputs[i].token_top1;
        continue;
      }
      scored.push_back(i);
      if (!outputs[i].kl || !outputs[i].top1)
        return corrupt((gen_dir / "outputs.jsonl").string() + ": item " + std::to_string(i) +
                       " has no fidelity values (kl, top1): the generation did not compare with the base model");
      kl.push_back(*outputs[i].kl);
      top1.push_back(*outputs[i].top1);
    }
    const eval::KlStats k = eval::summarize_kl(kl, top1);
    QB_ASSIGN_OR_RETURN(std::vector<bool> base_all, eval::read_item_correctness(ctx.inputs.at("base"), entries.size()));
    std::vector<bool> mine, base_correct;
    for (size_t i : scored) {
      mine.push_back(run.scores[i].correct);
      base_correct.push_back(base_all[i]);
    }
    QB_ASSIGN_OR_RETURN(eval::McNemar mc, eval::mcnemar_exact(base_correct, mine));
    scores["fidelity"] = {{"kl", k.mean_kl},       {"kl_stderr", k.stderr_kl}, {"top1", k.top1_agreement},
                          {"mcnemar_p", mc.p_value}, {"only_base", mc.only_a},  {"only_variant", mc.only_b}};
    report["fidelity"] = {{"base_model", ctx.input_names.count("base") ? ctx.input_names.at("base") : ""},
                          {"base_key", ctx.input_keys.at("base")},
                          {"positions", k.positions},
                          {"what", "next-token distributions at each prompt's last position"},
                          {"kl_mean", k.mean_kl},
                          {"kl_stderr", k.stderr_kl},
                          {"kl_max", k.max_kl},
                          {"top1_agreement", k.top1_agreement},
                          {"top1_stderr", k.stderr_top1},
                          {"mcnemar", {{"n", mc.n}, {"only_base_correct", mc.only_a}, {"only_variant_correct", mc.only_b},
                                       {"p_value", mc.p_value}}}};
    if (scored.empty()) {  // perplexity only: no last-position logits, no correctness
      scores["fidelity"] = json::object();
      report["fidelity"].erase("kl_mean");
      report["fidelity"].erase("mcnemar");
    }
    if (!token_kl.empty()) {
      const eval::TokenKlStats t = eval::summarize_token_kl(token_kl, token_top1);
      scores["fidelity"]["token_kl"] = t.mean;
      scores["fidelity"]["token_kl_p99"] = t.p99;
      scores["fidelity"]["token_top1"] = t.top1_agreement;
      report["fidelity"]["perplexity_tokens"] = {
          {"what", "every scored token of the perplexity documents: KL(P_base || P_variant) over the base's top-k "
                   "tokens plus one bucket for the rest (a lower bound of the full KL), as llama.cpp's statistics"},
          {"tokens", t.tokens}, {"kl_mean", t.mean}, {"kl_stderr", t.stderr_}, {"kl_min", t.min},
          {"kl_p50", t.p50}, {"kl_p90", t.p90}, {"kl_p95", t.p95}, {"kl_p99", t.p99}, {"kl_p99_9", t.p999},
          {"kl_max", t.max}, {"top1_agreement", t.top1_agreement}};
    }
    QB_TRY(add_recovery(ctx.inputs.at("base"), scores, report));
  }
  report["generation"] = generation.value("stats", json::object());
  QB_TRY(eval::write_score_outputs(ctx.out_dir, entries, outputs, run.scores, report));
  ordered_json config = {{"kind", "score"},
                         {"score_spec", ss.to_json()},
                         {"generate_spec", generation.value("spec", json::object())},
                         {"inputs", ctx.input_names},
                         {"input_keys", ctx.input_keys},
                         {"device", generation.value("device", "")},
                         {"compute_dtype", generation.value("compute_dtype", "")}};
  if (auto sp = read_json_file(ctx.inputs.at("eval_set") / "sample_params.json"); sp.is_ok()) config["sample_spec"] = *sp;
  QB_TRY(fs::write_file_atomic(ctx.out_dir / "config.json", config.dump(2) + "\n"));
  ctx.meta["scores"] = scores;
  ctx.meta["model_key"] = generation.value("model_key", "");
  ctx.meta["generation"] = generation.value("stats", json::object());

  std::string line;
  for (const auto& [ds, v] : scores["datasets"].items()) {
    if (v.contains("word_perplexity"))
      line += fmt::format("{} word_perplexity {:.4f} (n={}) ", ds, v["word_perplexity"].get<double>(), v["n"].get<int64_t>());
    else if (v.contains("seeds"))  // gpqa_diamond's shuffle_seeds: the mean over seeds and its spread
      line += fmt::format("{} {:.4f} (n={}, mean of {} seeds, {:.4f}..{:.4f}) ", ds, v["acc"].get<double>(),
                          v["n"].get<int64_t>(), v["seeds"].get<int64_t>(), v["seed_min"].get<double>(),
                          v["seed_max"].get<double>());
    else
      line += fmt::format("{} {:.4f} (n={}) ", ds, v["acc"].get<double>(), v["n"].get<int64_t>());
  }
  if (ss.fidelity && scores["fidelity"].contains("kl"))
    line += fmt::format("| KL {:.6f}, top-1 {:.4f}, McNemar p {:.4f}", scores["fidelity"]["kl"].get<double>(),
                        scores["fidelity"]["top1"].get<double>(), scores["fidelity"]["mcnemar_p"].get<double>());
  spdlog::info("{}", line);
  return Status::ok();
}

}  // namespace qb::steps
