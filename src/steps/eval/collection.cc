// Collection schema parsing, weight flattening and per-dataset counts (see collection.h).
#include "steps/eval/collection.h"

#include <cmath>

#include <fmt/format.h>

namespace qb::eval {

namespace {

Result<CollectionNode> parse_node(const nlohmann::json& j, const std::string& path) {
  auto at = [&](const char* key) { return path.empty() ? std::string(key) : path + "." + key; };
  if (!j.is_object()) return invalid_argument(fmt::format("{}: expected an object", path.empty() ? "collection" : path));
  CollectionNode n;
  auto name = j.find("name");
  if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) {
    return invalid_argument(at("name") + ": expected a non-empty string");
  }
  n.name = name->get<std::string>();
  if (auto w = j.find("weight"); w != j.end()) {
    if (!w->is_number()) return invalid_argument(at("weight") + ": expected a number, got " + w->dump());
    n.weight = w->get<double>();
    if (!std::isfinite(n.weight) || n.weight < 0) {
      return invalid_argument(at("weight") + ": expected a finite number >= 0, got " + w->dump());
    }
  }
  if (auto ds = j.find("datasets"); ds != j.end()) {
    n.is_collection = true;
    if (!ds->is_array() || ds->empty()) return invalid_argument(at("datasets") + ": expected a non-empty list");
    for (size_t i = 0; i < ds->size(); ++i) {
      QB_ASSIGN_OR_RETURN(CollectionNode child, parse_node((*ds)[i], fmt::format("{}[{}]", at("datasets"), i)));
      n.datasets.push_back(std::move(child));
    }
    return n;
  }
  if (auto t = j.find("task_type"); t != j.end()) {
    if (!t->is_string()) return invalid_argument(at("task_type") + ": expected a string");
    n.task_type = t->get<std::string>();
  }
  if (auto t = j.find("tags"); t != j.end()) {
    if (!t->is_array()) return invalid_argument(at("tags") + ": expected a list of strings");
    for (const auto& tag : *t) {
      if (!tag.is_string()) return invalid_argument(at("tags") + ": expected a list of strings");
      n.tags.push_back(tag.get<std::string>());
    }
  }
  if (auto a = j.find("args"); a != j.end()) {
    if (!a->is_object()) return invalid_argument(at("args") + ": expected an object");
    n.args = *a;
  }
  return n;
}

Status flatten_into(const CollectionNode& node, double share, std::vector<std::string> names,
                    std::vector<FlatDataset>& out) {
  names.push_back(node.name);
  double total = 0;
  for (const auto& c : node.datasets) total += c.weight;
  if (!(total > 0)) return invalid_argument(fmt::format("collection '{}': weights sum to 0", node.name));
  for (const auto& c : node.datasets) {
    double w = c.weight / total * share;
    if (c.is_collection) {
      QB_TRY(flatten_into(c, w, names, out));
    } else {
      out.push_back(FlatDataset{c.name, w, c.task_type, c.tags, c.args, names});
    }
  }
  return Status::ok();
}

}  // namespace

Result<CollectionNode> CollectionNode::from_json(const nlohmann::json& j) {
  QB_ASSIGN_OR_RETURN(CollectionNode n, parse_node(j, ""));
  if (!n.is_collection) return invalid_argument("datasets: a collection needs a list of datasets");
  return n;
}

nlohmann::json CollectionNode::to_json() const {
  nlohmann::json j = {{"name", name}, {"weight", weight}};
  if (is_collection) {
    j["datasets"] = nlohmann::json::array();
    for (const auto& c : datasets) j["datasets"].push_back(c.to_json());
  } else {
    j["task_type"] = task_type;
    j["tags"] = tags;
    j["args"] = args;
  }
  return j;
}

Result<std::vector<FlatDataset>> flatten(const CollectionNode& root) {
  if (!root.is_collection) return invalid_argument("flatten: the root must be a collection");
  std::vector<FlatDataset> out;
  QB_TRY(flatten_into(root, 1.0, {}, out));
  return out;
}

Result<std::vector<int64_t>> weighted_counts(const std::vector<FlatDataset>& flat, int64_t total) {
  if (total < 0) return invalid_argument(fmt::format("sample count must be >= 0, got {}", total));
  if (flat.empty()) return invalid_argument("collection has no datasets");
  std::vector<int64_t> counts(flat.size());
  int64_t remaining = total;
  for (size_t i = 0; i + 1 < flat.size(); ++i) {
    // Python's int() truncates; the product is computed in double exactly as evalscope does.
    counts[i] = static_cast<int64_t>(flat[i].weight * static_cast<double>(total));
    remaining -= counts[i];
  }
  if (remaining < 0) return internal_error("weighted_counts: weights sum above 1");
  counts.back() = remaining;
  return counts;
}

}  // namespace qb::eval
