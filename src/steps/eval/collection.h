// evalscope's collection schema and WeightedSampler arithmetic (evalscope 1.12.0,
// evalscope/collections/{schema,sampler}.py).
//
// A collection is a tree: {name, weight, datasets: [dataset | collection, ...]}; a dataset is
// {name, weight, task_type, tags, args}. flatten() normalizes weights per level
// (w_child / Σ w_siblings × parent's share) and records each dataset's hierarchy (collection
// names from the root). weighted_counts() gives dataset i int(w_i · N) items and the last one
// the remainder; each dataset's items are then drawn without replacement with PyRandom
// (see py_random.h), capped at the dataset's size as evalscope does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace qb::eval {

struct CollectionNode {
  std::string name;
  double weight = 1.0;
  bool is_collection = false;
  // A dataset (is_collection false):
  std::string task_type;
  std::vector<std::string> tags;
  nlohmann::json args = nlohmann::json::object();  // benchmark options (subset_list, few_shot_num, …)
  // A collection:
  std::vector<CollectionNode> datasets;

  // evalscope's CollectionSchema.from_dict / to_dict shape (an entry with "datasets" is a
  // collection). Errors name the JSON path, e.g. "datasets[1].weight: expected a number".
  static Result<CollectionNode> from_json(const nlohmann::json& j);
  nlohmann::json to_json() const;
};

struct FlatDataset {
  std::string name;   // the benchmark: "mmlu", "gsm8k"
  double weight = 0;  // normalized share of the whole collection (all sum to 1)
  std::string task_type;
  std::vector<std::string> tags;
  nlohmann::json args;
  std::vector<std::string> hierarchy;  // collection names, root first (evalscope's `categories`)
};

// Weights must be finite and non-negative with a positive sum at every level.
Result<std::vector<FlatDataset>> flatten(const CollectionNode& root);

// Items requested from each flattened dataset for a collection of `total` items.
Result<std::vector<int64_t>> weighted_counts(const std::vector<FlatDataset>& flat, int64_t total);

}  // namespace qb::eval
