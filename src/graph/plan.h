// The plan: for each selected step node, whether it is cached, will run (and why), or cannot
// run in this build. `qbuild --dry-run` prints it; `qbuild explain` adds the hashed fields.
// It is computed from the store and the index, not from `ninja -n`, which cannot see keys.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/graph.h"
#include "store/index.h"
#include "store/object_store.h"

namespace qb::graph {

enum class Action { kCached, kRun, kUnavailable };

struct PlanItem {
  int node = -1;
  Action action = Action::kRun;
  std::vector<std::string> reasons;  // e.g. "recipe changed: a.b: 0.01 → 0.02"
};

struct Plan {
  std::vector<PlanItem> items;  // topological order; step nodes only
  int to_run = 0, cached = 0, unavailable = 0;
};

// `in_store(key)`: whether the artifact is in the store (the build passes what its check of
// every artifact found). `damaged`: artifacts found damaged (key → what is wrong), planned to run
// again with that reason even when still in the store (a read-only command reports them and
// moves nothing).
Result<Plan> make_plan(const Graph& g, const std::set<int>& selected,
                       const std::function<bool(const std::string& key)>& in_store, store::Index& index,
                       const std::map<std::string, std::string>& damaged = {});
// The same, asking the store.
Result<Plan> make_plan(const Graph& g, const std::set<int>& selected, const store::ObjectStore& store,
                       store::Index& index, const std::map<std::string, std::string>& damaged = {});

// One line per difference between two canonical JSON values: "path: old → new",
// "path: added new", "path: removed old".
std::vector<std::string> json_diff(const nlohmann::json& before, const nlohmann::json& after,
                                   const std::string& path = "");

// Human-readable plan, one node per line plus indented reasons.
std::string render_plan(const Graph& g, const Plan& plan, bool verbose);

}  // namespace qb::graph
