#include "graph/plan.h"

#include <map>

namespace qb::graph {

namespace {
// What a kind's params are, in "<what> changed: <field>: old → new".
const char* what_changed(const std::string& kind) {
  if (kind == "quant") return "recipe";
  if (kind == "trans") return "transform";
  if (kind == "smooth") return "smoothing";
  if (kind == "sample") return "sampling";
  if (kind == "generate") return "generation";
  if (kind == "score") return "scoring";
  return "params";
}
}  // namespace

std::vector<std::string> json_diff(const nlohmann::json& a, const nlohmann::json& b, const std::string& path) {
  std::vector<std::string> out;
  auto label = [&](const std::string& k) { return path.empty() ? k : path + "." + k; };
  if (a.is_object() && b.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key())) out.push_back(label(it.key()) + ": removed " + it.value().dump());
      else {
        auto sub = json_diff(it.value(), b.at(it.key()), label(it.key()));
        out.insert(out.end(), sub.begin(), sub.end());
      }
    }
    for (auto it = b.begin(); it != b.end(); ++it)
      if (!a.contains(it.key())) out.push_back(label(it.key()) + ": added " + it.value().dump());
    return out;
  }
  if (a != b) out.push_back((path.empty() ? std::string("(value)") : path) + ": " + a.dump() + " → " + b.dump());
  return out;
}

Result<Plan> make_plan(const Graph& g, const std::set<int>& selected, const store::ObjectStore& store,
                       store::Index& index, const std::map<std::string, std::string>& damaged) {
  return make_plan(g, selected, [&](const std::string& key) { return store.contains(key); }, index, damaged);
}

Result<Plan> make_plan(const Graph& g, const std::set<int>& selected,
                       const std::function<bool(const std::string& key)>& in_store, store::Index& index,
                       const std::map<std::string, std::string>& damaged) {
  Plan plan;
  std::map<int, Action> action_of;
  for (int i : selected) {  // std::set: ascending = topological (inputs are added first)
    const Node& n = g.node(i);
    if (n.is_source()) continue;
    PlanItem item;
    item.node = i;
    if (!n.available) {
      item.action = Action::kUnavailable;
      bool self = true;
      for (const auto& in : n.inputs)
        if (!g.node(in.node).available) {
          item.reasons.push_back("needs " + g.node(in.node).kind + " '" + g.node(in.node).name + "', which cannot run");
          self = false;
        }
      if (self) item.reasons.push_back("step kind '" + n.kind + "' is not available in this build of qbuild");
    } else if (in_store(n.key) && !damaged.count(n.key)) {
      item.action = Action::kCached;
      item.reasons.push_back("cached");
    } else {
      item.action = Action::kRun;
      QB_ASSIGN_OR_RETURN(auto last, index.last_built(n.identity));
      if (auto d = damaged.find(n.key); d != damaged.end()) {
        item.reasons.push_back("artifact damaged: " + d->second);
      } else if (!last) {
        item.reasons.push_back("new: never built");
      } else if (last->key == n.key) {
        item.reasons.push_back("artifact missing from cache/ (deleted?)");
      } else {
        auto diffs = json_diff(last->params, n.params);
        for (auto& d : diffs) item.reasons.push_back(std::string(what_changed(n.kind)) + " changed: " + d);
        for (const auto& in : n.inputs) {
          std::string old = last->inputs.value(in.role, "");
          const Node& src = g.node(in.node);
          if (old != src.key) {
            std::string why = "input changed: " + in.role + " '" + src.name + "'";
            auto a = action_of.find(in.node);
            if (a != action_of.end() && a->second == Action::kRun) why += " (rebuilt in this run)";
            item.reasons.push_back(why);
          }
        }
        for (auto it = last->inputs.begin(); it != last->inputs.end(); ++it) {
          bool present = false;
          for (const auto& in : n.inputs) present |= in.role == it.key();
          if (!present) item.reasons.push_back("input removed: " + it.key());
        }
        int old_version = last->meta.value("code_version", 0);
        if (old_version != n.code_version)
          item.reasons.push_back("step code changed: version " + std::to_string(old_version) + " → " +
                                 std::to_string(n.code_version));
        if (item.reasons.empty()) item.reasons.push_back("key changed");
      }
    }
    action_of[i] = item.action;
    if (item.action == Action::kRun) ++plan.to_run;
    if (item.action == Action::kCached) ++plan.cached;
    if (item.action == Action::kUnavailable) ++plan.unavailable;
    plan.items.push_back(std::move(item));
  }
  return plan;
}

std::string render_plan(const Graph& g, const Plan& plan, bool verbose) {
  std::string out;
  for (const auto& item : plan.items) {
    const Node& n = g.node(item.node);
    const char* tag = item.action == Action::kRun ? "run   " : item.action == Action::kCached ? "cached" : "cannot";
    if (item.action == Action::kCached && !verbose) continue;
    out += std::string(tag) + "  " + n.kind + " " + n.name + "  [" + n.key.substr(0, 12) + "]\n";
    if (item.action != Action::kCached)
      for (const auto& r : item.reasons) out += "          " + r + "\n";
  }
  out += std::to_string(plan.to_run) + " to run, " + std::to_string(plan.cached) + " cached";
  if (plan.unavailable) out += ", " + std::to_string(plan.unavailable) + " cannot run in this build";
  out += "\n";
  return out;
}

}  // namespace qb::graph
