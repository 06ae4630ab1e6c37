// The `sample` step: the node's SampleSpec → one frozen, seeded eval set (evalscope's weighted
// collection sampler; prompts fully formatted). Output: eval_set.jsonl, schema.json
// (the evalscope collection schema it was drawn from) and sample_params.json. Perplexity tasks are
// not drawn: every document of theirs follows the drawn items (lm-eval evaluates whole splits).
#include "steps/kinds/step_kinds.h"

#include <spdlog/spdlog.h>

#include "spec/eval_spec.h"
#include "spec/tasks.h"
#include "steps/eval/collection.h"
#include "steps/eval/eval_set.h"
#include "util/fs.h"

namespace qb::steps {

namespace stdfs = std::filesystem;

Status run_sample(runner::StepContext& ctx) {
  QB_ASSIGN_OR_RETURN(spec::SampleSpec sp, spec::SampleSpec::from_json(ctx.params));
  spec::Issues issues;
  sp.validate(issues);
  QB_TRY(issues.to_status("sample spec"));
  stdfs::path datasets_root = ctx.project_root / "data" / "datasets";
  nlohmann::json schema = {{"name", ctx.settings.value("dataset_name", ctx.name)}, {"datasets", nlohmann::json::array()}};
  const std::string collection = schema["name"].get<std::string>();
  std::vector<eval::EvalEntry> documents;  // perplexity tasks: every document, after the drawn items
  for (const auto& d : sp.datasets) {
    auto it = ctx.inputs.find("dataset:" + d.name);
    if (it == ctx.inputs.end()) return internal_error("sample: no input for dataset '" + d.name + "'");
    if (spec::is_perplexity_task(d.name)) {
      QB_ASSIGN_OR_RETURN(eval::FileFormat format, eval::parse_format(d.format));
      QB_ASSIGN_OR_RETURN(auto docs, eval::perplexity_entries(d.name, it->second, format, d.task_type, d.tags,
                                                              {collection}));
      for (auto& e : docs) documents.push_back(std::move(e));
      continue;
    }
    nlohmann::json args = {{"dataset_dir", stdfs::relative(it->second, datasets_root).string()},
                           {"few_shot_num", d.few_shot_num},
                           {"format", d.format}};
    if (!d.subset_list.empty()) args["subset_list"] = d.subset_list;
    if (d.shuffle_seeds) args["shuffle_seeds"] = *d.shuffle_seeds;
    if (d.name == "mmlu") args["prompt_style"] = sp.mode;
    schema["datasets"].push_back({{"name", d.name}, {"weight", d.weight}, {"task_type", d.task_type}, {"tags", d.tags},
                                  {"args", args}});
  }
  std::vector<eval::EvalEntry> entries;
  nlohmann::json schema_out = schema;
  if (!schema["datasets"].empty()) {  // the drawn part is exactly evalscope's sampler over the rest
    QB_ASSIGN_OR_RETURN(eval::CollectionNode root, eval::CollectionNode::from_json(schema));
    schema_out = root.to_json();
    eval::SampleOptions opts;
    opts.total = sp.total_samples;
    opts.seed = sp.seed;
    opts.datasets_root = datasets_root;
    QB_ASSIGN_OR_RETURN(entries, eval::build_eval_set(root, opts));
  }
  for (auto& e : documents) entries.push_back(std::move(e));
  for (size_t i = 0; i < entries.size(); ++i) entries[i].index = static_cast<int64_t>(i);
  QB_TRY(fs::write_file_atomic(ctx.out_dir / "eval_set.jsonl", eval::eval_set_to_jsonl(entries)));
  QB_TRY(fs::write_file_atomic(ctx.out_dir / "schema.json", schema_out.dump(2) + "\n"));
  QB_TRY(fs::write_file_atomic(ctx.out_dir / "sample_params.json", sp.to_json().dump(2) + "\n"));
  std::map<std::string, int> per_dataset;
  for (const auto& e : entries) ++per_dataset[e.dataset_name];
  ctx.meta["items"] = entries.size();
  ctx.meta["per_dataset"] = per_dataset;
  spdlog::info("sampled {} items: {}", entries.size(), nlohmann::json(per_dataset).dump());
  return Status::ok();
}

}  // namespace qb::steps
