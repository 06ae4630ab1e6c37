// The `sample` step: the eval config's datasets → one frozen, seeded eval set (evalscope's
// weighted collection sampler; prompts fully formatted). Output: eval_set.jsonl, schema.json
// (the evalscope collection schema it was drawn from) and sample_params.json.
#include "steps/kinds/step_kinds.h"

#include <spdlog/spdlog.h>

#include "steps/eval/collection.h"
#include "steps/eval/eval_set.h"
#include "util/fs.h"

namespace qb::steps {

namespace stdfs = std::filesystem;

Status run_sample(runner::StepContext& ctx) {
  const auto& p = ctx.params;
  stdfs::path datasets_root = ctx.project_root / "data" / "datasets";
  std::string mode = p.value("mode", "generative");
  nlohmann::json schema = {{"name", ctx.settings.value("dataset_name", ctx.name)}, {"datasets", nlohmann::json::array()}};
  for (const auto& d : p.at("datasets")) {
    std::string name = d.at("name");
    auto it = ctx.inputs.find("dataset:" + name);
    if (it == ctx.inputs.end()) return internal_error("sample: no input for dataset '" + name + "'");
    nlohmann::json args = {{"dataset_dir", stdfs::relative(it->second, datasets_root).string()},
                           {"few_shot_num", d.value("few_shot_num", 0)}};
    if (!d.value("subset_list", nlohmann::json::array()).empty()) args["subset_list"] = d["subset_list"];
    if (d.contains("format")) args["format"] = d["format"];
    if (name == "mmlu") args["prompt_style"] = mode;
    schema["datasets"].push_back({{"name", name}, {"weight", d.value("weight", 1.0)},
                                  {"task_type", d.value("task_type", "")}, {"tags", d.value("tags", nlohmann::json::array())},
                                  {"args", args}});
  }
  QB_ASSIGN_OR_RETURN(eval::CollectionNode root, eval::CollectionNode::from_json(schema));
  eval::SampleOptions opts;
  opts.total = p.at("total_samples").get<std::int64_t>();
  opts.seed = p.value("seed", std::uint64_t{42});
  opts.datasets_root = datasets_root;
  QB_ASSIGN_OR_RETURN(auto entries, eval::build_eval_set(root, opts));
  QB_TRY(fs::write_file_atomic(ctx.out_dir / "eval_set.jsonl", eval::eval_set_to_jsonl(entries)));
  QB_TRY(fs::write_file_atomic(ctx.out_dir / "schema.json", root.to_json().dump(2) + "\n"));
  QB_TRY(fs::write_file_atomic(ctx.out_dir / "sample_params.json", p.dump(2) + "\n"));
  std::map<std::string, int> per_dataset;
  for (const auto& e : entries) ++per_dataset[e.dataset_name];
  ctx.meta["items"] = entries.size();
  ctx.meta["per_dataset"] = per_dataset;
  spdlog::info("sampled {} items: {}", entries.size(), nlohmann::json(per_dataset).dump());
  return Status::ok();
}

}  // namespace qb::steps
