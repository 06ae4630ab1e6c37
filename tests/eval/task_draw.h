// Helpers shared by the per-task eval tests (lm-eval tasks, MMLU-Pro, MATH-500, GPQA-Diamond): an
// eval set drawn from one dataset as the sample step draws it, and a golden JSON file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "steps/eval/collection.h"
#include "steps/eval/eval_set.h"
#include "test_util.h"

namespace qb::eval::testing {

// build_eval_set over a collection of the one dataset `task` with args {dataset_dir: dir} + extra,
// drawing `total` items from datasets under `root` (default: the repository's data/datasets).
inline Result<std::vector<EvalEntry>> draw_task(const std::string& task, const std::string& dir, int64_t total,
                                                const nlohmann::json& extra = nlohmann::json::object(),
                                                const std::string& root = source_path("data/datasets")) {
  nlohmann::json args = {{"dataset_dir", dir}};
  if (extra.is_object()) args.update(extra);
  nlohmann::json schema = {{"name", "t"}, {"datasets", nlohmann::json::array({{{"name", task}, {"args", args}}})}};
  auto node = CollectionNode::from_json(schema);
  if (!node.is_ok()) return node.status();
  SampleOptions o;
  o.total = total;
  o.datasets_root = root;
  return build_eval_set(*node, o);
}

// A committed golden file (relative to the repository root), parsed.
inline nlohmann::json golden_json(const std::string& rel) {
  return nlohmann::json::parse(qb::fs::read_file(source_path(rel)).value());
}

}  // namespace qb::eval::testing
