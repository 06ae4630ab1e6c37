// The `generate` step: one model over the frozen eval set (src/steps/generate), from the node's
// GenerateSpec. The base model's node keeps its next-token logits (logits.safetensors, "logits"
// [N, V] fp32: the reference distributions of fidelity); a variant's node compares its own with
// the base's, per item: KL(P_base || P_variant) and top-1 agreement, written into outputs.jsonl.
//
// Artifact: outputs.jsonl (steps/eval/raw_outputs.h), generation.json (model and eval-set keys,
// device, dtype, spec, speed: prefill / decode tokens/s), logits.safetensors (base only), and
// with perplexity documents token_topk.safetensors (base only: the top-32 log-probabilities at
// every scored token, what a variant's per-token KL compares with).
// meta: "model_key", "device", "compute_dtype", "generation" (the speed stats).
//
// Data parallel (spec data_parallel = N > 1): the items are split over N worker processes —
// this qbuild binary's hidden `generate-worker` command (main_torch.cc), one per GPU the runner
// claimed for the node (ctx.gpus; each worker's CUDA_VISIBLE_DEVICES names its own), or N
// processes sharing the step's CPU threads on a CPU project — and merged in item order
// (steps/generate/data_parallel.h). Each worker resumes from its own file under partial_dir.
#ifdef QBUILD_WITH_TORCH
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <string>

#include "spec/eval_spec.h"
#include "steps/eval/stats.h"
#include "steps/generate/data_parallel.h"
#include "steps/generate/generate_run.h"
#include "steps/kinds/step_kinds.h"
#include "steps/kinds/torch/torch_step.h"
#include "steps/model/model_config.h"
#include "steps/model_io/safetensors.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/subprocess.h"

namespace qb::steps {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr const char* kLogitsFile = "logits.safetensors";

// Per-item fidelity against the base generation's logits.
Status compare_with_base(const runner::StepContext& ctx, generate::GenerateRunResult& r) {
  const auto file = ctx.inputs.at("base") / kLogitsFile;
  QB_ASSIGN_OR_RETURN(auto reader, model_io::SafetensorsReader::open(file));
  QB_ASSIGN_OR_RETURN_CTX(at::Tensor base, reader.load("logits"), file.string());
  if (base.dim() != 2 || base.scalar_type() != at::kFloat || base.size(0) != r.last_logits.size(0))
    return corrupt(file.string() + ": 'logits' is not a float32 [" + std::to_string(r.last_logits.size(0)) +
                   ", V] tensor for this eval set");
  if (base.size(1) != r.last_logits.size(1))
    return invalid_argument("fidelity: the base model's vocabulary (" + std::to_string(base.size(1)) +
                            ") differs from this variant's (" + std::to_string(r.last_logits.size(1)) + ")");
  const auto numel = static_cast<size_t>(base.numel());
  at::Tensor b = base.contiguous(), v = r.last_logits.contiguous();
  QB_ASSIGN_OR_RETURN(eval::PositionKl kl, eval::kl_per_position({b.data_ptr<float>(), numel},
                                                                  {v.data_ptr<float>(), numel}, b.size(1)));
  for (size_t i = 0; i < r.items.size(); ++i) {
    if (r.entries[i].prompt_style == "rolling") continue;  // per-token fidelity instead
    r.items[i].kl = kl.kl[i];
    r.items[i].top1 = static_cast<bool>(kl.top1[i]);
  }
  return Status::ok();
}

// N worker processes of this binary (`qbuild generate-worker REQUEST`): one per claimed GPU, or
// N on the CPU, each with its share of the step's threads.
Result<generate::GenerateRunResult> run_parallel(const runner::StepContext& ctx, const generate::GenerateRunOptions& o,
                                                 int64_t n) {
  generate::ParallelOptions p;
  if (o.device.is_cuda()) {
    if (static_cast<int64_t>(ctx.gpus.size()) != n)
      return internal_error("generate: data_parallel " + std::to_string(n) + " but the step holds " +
                            std::to_string(ctx.gpus.size()) + " GPU(s)");
    for (int id : ctx.gpus) p.devices.push_back(std::to_string(id));
  } else {
    p.devices.assign(static_cast<size_t>(n), "");  // "": the workers inherit the environment
    const int64_t threads = ctx.cpu_threads > 0 ? ctx.cpu_threads : static_cast<int64_t>(at::get_num_threads());
    p.cpu_threads = std::max<int64_t>(1, threads / n);
  }
  p.worker_argv = {self_executable().string(), "generate-worker"};
  p.work_dir = ctx.partial_dir / "workers";
  log::info("data parallel: " + std::to_string(n) + " worker processes" +
            (o.device.is_cuda() ? "" : " on the CPU, " + std::to_string(p.cpu_threads) + " threads each"));
  return generate::run_generation_parallel(o, p);
}

Status generate_impl(runner::StepContext& ctx, const spec::GenerateSpec& gs) {
  generate::GenerateRunOptions o;
  o.model_dir = ctx.inputs.at("model");
  o.eval_set_dir = ctx.inputs.at("eval_set");
  o.device = step_device(ctx);
  QB_ASSIGN_OR_RETURN(at::ScalarType dt, model::parse_dtype(gs.compute_dtype));
  o.dtype = dt;
  o.spec = gs;
  o.partial_dir = ctx.partial_dir;
  o.want_logits = gs.logits != "none";
  if (gs.logits == "keep") o.keep_top_k = generate::kTokenTopK;
  if (gs.logits == "compare") {
    if (!ctx.inputs.count("base")) return internal_error("generate: logits 'compare' without a base input");
    const auto tokens = ctx.inputs.at("base") / generate::kTokenTopkFile;
    std::error_code ec;
    if (std::filesystem::exists(tokens, ec)) o.compare_tokens = tokens;
  }
  QB_ASSIGN_OR_RETURN(generate::GenerateRunResult r, gs.data_parallel > 1 ? run_parallel(ctx, o, gs.data_parallel)
                                                                            : generate::run_generation(o));
  if (gs.logits == "keep") {
    QB_TRY(model_io::write_safetensors(ctx.out_dir / kLogitsFile, {{"logits", r.last_logits}},
                                       {{"positions", "last prompt token of each eval item, in eval-set order"},
                                        {"eval_set_key", ctx.input_keys.at("eval_set")}}));
    if (r.token_top_ids.defined())
      QB_TRY(model_io::write_safetensors(ctx.out_dir / generate::kTokenTopkFile,
                                         {{"top_ids", r.token_top_ids}, {"top_logprobs", r.token_top_logprobs}},
                                         {{"positions", "every scored token of the perplexity documents, in eval-set "
                                                        "order"},
                                          {"eval_set_key", ctx.input_keys.at("eval_set")}}));
  } else if (gs.logits == "compare") {
    if (!ctx.inputs.count("base")) return internal_error("generate: logits 'compare' without a base input");
    QB_TRY(compare_with_base(ctx, r));
  }
  QB_TRY(fs::write_file_atomic(ctx.out_dir / "outputs.jsonl", eval::raw_outputs_to_jsonl(r.items)));
  const std::string model_key = ctx.input_keys.count("model") ? ctx.input_keys.at("model") : "";
  ordered_json info = {{"model", ctx.input_names.count("model") ? ctx.input_names.at("model") : ""},
                       {"model_key", model_key},
                       {"eval_set_key", ctx.input_keys.at("eval_set")},
                       {"generate_key", ctx.key},
                       {"device", gs.device},
                       {"compute_dtype", gs.compute_dtype},
                       {"spec", gs.to_json()},
                       {"stats", r.stats}};
  QB_TRY(fs::write_file_atomic(ctx.out_dir / "generation.json", info.dump(2) + "\n"));
  ctx.meta["model_key"] = model_key;
  ctx.meta["device"] = gs.device;
  ctx.meta["compute_dtype"] = gs.compute_dtype;
  ctx.meta["generation"] = r.stats;
  log::info("generated " + std::to_string(r.items.size()) + " items (" + std::to_string(r.resumed) +
            " resumed from an interrupted run)");
  return Status::ok();
}

}  // namespace

int generate_worker(const std::string& request_file) { return generate::generate_worker_main(request_file); }

Status run_generate(runner::StepContext& ctx) {
  QB_ASSIGN_OR_RETURN(spec::GenerateSpec gs, spec::GenerateSpec::from_json(ctx.params));
  return run_torch_step(ctx, gs.device, [&](runner::StepContext& c) { return generate_impl(c, gs); });
}

}  // namespace qb::steps
#endif
