// The `eval` and `base_eval` steps: one model over the frozen eval set (eval_run.h).
//
//   base_eval  the untransformed, unquantized source model, once per (eval set, source model):
//              its scores (the baseline row of the results CSV), its per-item correctness, and
//              its next-token logits at each prompt's last position (logits.safetensors,
//              "logits" [N, V] fp32) — the reference distributions of the fidelity metrics.
//   eval       a variant; with a `base` input it also records the fidelity against that base:
//              KL(P_base || P_variant) and top-1 agreement over the same positions, and
//              McNemar's exact test on per-item correctness (is the accuracy change noise?).
//
// Artifact: predictions/<dataset>.jsonl, items.jsonl, report.json, config.json (+ logits for
// base_eval). meta["scores"] = {"datasets": {ds: {acc, stderr, n}}, "overall": {...},
// "fidelity": {...}}, which `qbuild` flattens into results/<dataset_name>.csv.
#ifdef QBUILD_WITH_TORCH
#include <ATen/ATen.h>

#include "steps/eval/stats.h"
#include "steps/kinds/step_kinds.h"
#include "steps/kinds/torch/gpu_memory.h"
#include "steps/kinds/torch/source_input.h"
#include "steps/kinds/torch/eval_run.h"
#include "steps/model/model_config.h"
#include "steps/model_io/safetensors.h"
#include "util/fs.h"
#include "util/log.h"

namespace qb::steps {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr const char* kLogitsFile = "logits.safetensors";

Result<EvalRunOptions> run_options(const runner::StepContext& ctx, bool want_logits) {
  EvalRunOptions o;
  o.model_dir = ctx.inputs.at("model");
  o.eval_set_dir = ctx.inputs.at("eval_set");
  o.device = ctx.device == "cuda" ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  QB_ASSIGN_OR_RETURN(at::ScalarType dt, model::parse_dtype(ctx.compute_dtype));
  o.dtype = dt;
  o.params = ctx.params;
  o.partial_dir = ctx.partial_dir;
  o.want_logits = want_logits;
  return o;
}

// {"datasets": {ds: {acc, stderr, n}}, "overall": {acc, stderr, n}} from eval::make_report().
json scores_of(const ordered_json& report) {
  json s = {{"datasets", json::object()}};
  for (const auto& d : report.at("datasets"))
    s["datasets"][d.at("dataset_name").get<std::string>()] = {{"acc", d.at("acc")}, {"stderr", d.at("stderr")}, {"n", d.at("n")}};
  const auto& o = report.at("overall");
  s["overall"] = {{"acc", o.at("acc")}, {"stderr", o.at("stderr")}, {"n", o.at("n")}};
  return s;
}

std::string describe(const json& scores) {
  std::string out;
  for (const auto& [ds, v] : scores["datasets"].items())
    out += ds + " " + std::to_string(v["acc"].get<double>()) + " (n=" + std::to_string(v["n"].get<int64_t>()) + ") ";
  return out;
}

Status write_common(runner::StepContext& ctx, const EvalRunResult& r, ordered_json report_extra) {
  ordered_json report = {{"model", ctx.input_names.count("model") ? ctx.input_names.at("model") : ""},
                         {"model_key", ctx.input_keys.count("model") ? ctx.input_keys.at("model") : ""},
                         {"eval_set_key", ctx.input_keys.at("eval_set")},
                         {"eval_key", ctx.key}};
  report.update(r.report);
  if (report_extra.is_object()) report.update(report_extra);
  report["stats"] = r.stats;
  QB_TRY(write_eval_outputs(ctx.out_dir, r, report));
  ordered_json config = {{"kind", ctx.kind},
                         {"eval_params", ctx.params},
                         {"inputs", ctx.input_names},
                         {"input_keys", ctx.input_keys},
                         {"device", ctx.device},
                         {"compute_dtype", ctx.compute_dtype},
                         {"sample_params", r.sample_params}};
  QB_TRY(fs::write_file_atomic(ctx.out_dir / "config.json", config.dump(2) + "\n"));
  ctx.meta["eval_stats"] = r.stats;
  return Status::ok();
}

Status base_eval_impl(runner::StepContext& ctx) {
  QB_TRY(validate_source_input(ctx));  // a bad source model fails here, naming file and tensor
  QB_ASSIGN_OR_RETURN(EvalRunOptions o, run_options(ctx, true));
  QB_ASSIGN_OR_RETURN(EvalRunResult r, run_eval_set(o));
  QB_TRY(model_io::write_safetensors(ctx.out_dir / kLogitsFile, {{"logits", r.last_logits}},
                                     {{"positions", "last prompt token of each eval item, in eval-set order"},
                                      {"eval_set_key", ctx.input_keys.at("eval_set")}}));
  QB_TRY(write_common(ctx, r, {}));
  ctx.meta["scores"] = scores_of(r.report);
  log::info("base model: " + describe(ctx.meta["scores"]));
  return Status::ok();
}

Status eval_impl(runner::StepContext& ctx) {
  auto base = ctx.inputs.find("base");
  const bool fidelity = base != ctx.inputs.end();
  QB_ASSIGN_OR_RETURN(EvalRunOptions o, run_options(ctx, fidelity));
  QB_ASSIGN_OR_RETURN(EvalRunResult r, run_eval_set(o));
  json scores = scores_of(r.report);
  ordered_json extra;
  if (fidelity) {
    const auto file = base->second / kLogitsFile;
    QB_ASSIGN_OR_RETURN(auto reader, model_io::SafetensorsReader::open(file));
    QB_ASSIGN_OR_RETURN_CTX(at::Tensor base_logits, reader.load("logits"), file.string());
    if (base_logits.dim() != 2 || base_logits.scalar_type() != at::kFloat ||
        base_logits.size(0) != r.last_logits.size(0))
      return corrupt(file.string() + ": 'logits' is not a float32 [" + std::to_string(r.last_logits.size(0)) +
                     ", V] tensor for this eval set");
    if (base_logits.size(1) != r.last_logits.size(1))
      return invalid_argument("fidelity: the base model's vocabulary (" + std::to_string(base_logits.size(1)) +
                              ") differs from this variant's (" + std::to_string(r.last_logits.size(1)) + ")");
    const auto numel = static_cast<size_t>(base_logits.numel());
    at::Tensor b = base_logits.contiguous(), v = r.last_logits.contiguous();
    QB_ASSIGN_OR_RETURN(eval::KlStats kl, eval::kl_divergence({b.data_ptr<float>(), numel},
                                                              {v.data_ptr<float>(), numel}, b.size(1)));
    QB_ASSIGN_OR_RETURN(std::vector<bool> base_correct, read_item_correctness(base->second, r.entries.size()));
    std::vector<bool> mine;
    for (const auto& it : r.items) mine.push_back(it.score.correct);
    QB_ASSIGN_OR_RETURN(eval::McNemar mc, eval::mcnemar_exact(base_correct, mine));
    scores["fidelity"] = {{"kl", kl.mean_kl},       {"kl_stderr", kl.stderr_kl}, {"top1", kl.top1_agreement},
                          {"mcnemar_p", mc.p_value}, {"only_base", mc.only_a},     {"only_variant", mc.only_b}};
    extra["fidelity"] = {{"base_model", ctx.input_names.count("base") ? ctx.input_names.at("base") : ""},
                         {"base_key", ctx.input_keys.at("base")},
                         {"positions", kl.positions},
                         {"what", "next-token distributions at each prompt's last position"},
                         {"kl_mean", kl.mean_kl},
                         {"kl_stderr", kl.stderr_kl},
                         {"kl_max", kl.max_kl},
                         {"top1_agreement", kl.top1_agreement},
                         {"top1_stderr", kl.stderr_top1},
                         {"mcnemar", {{"n", mc.n}, {"only_base_correct", mc.only_a}, {"only_variant_correct", mc.only_b},
                                      {"p_value", mc.p_value}}}};
  }
  QB_TRY(write_common(ctx, r, extra));
  ctx.meta["scores"] = scores;
  std::string line = describe(scores);
  if (fidelity)
    line += "| KL " + std::to_string(scores["fidelity"]["kl"].get<double>()) + ", top-1 " +
            std::to_string(scores["fidelity"]["top1"].get<double>()) + ", McNemar p " +
            std::to_string(scores["fidelity"]["mcnemar_p"].get<double>());
  log::info(line);
  return Status::ok();
}

}  // namespace

Status run_base_eval(runner::StepContext& ctx) { return with_gpu_peak(ctx, base_eval_impl); }
Status run_eval(runner::StepContext& ctx) { return with_gpu_peak(ctx, eval_impl); }

}  // namespace qb::steps
#endif
