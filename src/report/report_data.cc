// Gathering one report's content (see report_data.h).
#include "report/report_data.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "graph/plan.h"
#include "util/strings.h"

namespace qb::report {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Recipe differences are computed for every ordered pair of variants up to this many (a study
// rarely has more; beyond, the page would carry megabytes of lines).
constexpr std::size_t kMaxDiffVariants = 60;

// Columns the page interprets itself (the rest are "extra").
bool known_column(const std::string& c, const std::vector<std::string>& benchmarks) {
  static const std::set<std::string> kFixed = {
      "variant", "trans", "quant", "status", "model_key", "eval_set_key", "eval_key", "generate_key",
      "qbuild_version", "fidelity_kl", "fidelity_kl_stderr", "fidelity_top1", "fidelity_mcnemar_p",
      "fidelity_only_base", "fidelity_only_variant", "prefill_tokens_per_s", "decode_tokens_per_s",
      "peak_gpu_gib", "peak_rss_gib", "generate_device", "recovery_mean"};
  if (kFixed.count(c)) return true;
  for (const auto& b : benchmarks)
    for (const char* s : {"_acc", "_stderr", "_n", "_recovery"})
      if (c == b + s) return true;
  return false;
}

// "model.layers.12.self_attn.q_proj" -> ("12", "q_proj"); "lm_head" -> ("head", "lm_head").
std::pair<std::string, std::string> layer_and_module(const std::string& name) {
  const std::string module = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
  const auto at = name.find("layers.");
  if (at == std::string::npos) return {"head", module};
  std::size_t i = at + 7, j = i;
  while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) ++j;
  if (j == i) return {"head", module};
  return {name.substr(i, j - i), module};
}

int module_rank(const std::string& m) {
  static const std::vector<std::string> kOrder = {"q_proj", "k_proj", "v_proj", "o_proj",
                                                  "gate_proj", "up_proj", "down_proj", "lm_head"};
  auto it = std::find(kOrder.begin(), kOrder.end(), m);
  return it == kOrder.end() ? static_cast<int>(kOrder.size()) : static_cast<int>(it - kOrder.begin());
}

json number_or_null(const json& j) { return j.is_number() && std::isfinite(j.get<double>()) ? j : json(nullptr); }

}  // namespace

ordered_json heatmap_of(const std::string& variant, const json& quant_report) {
  ordered_json cells = ordered_json::array();
  std::set<std::string> metrics;
  std::vector<std::string> layers, modules;
  for (const auto& l : quant_report["linears"]) {
    if (!l.is_object()) continue;
    auto [layer, module] = layer_and_module(l.value("module", ""));
    ordered_json c = {{"layer", layer}, {"module", module}};
    auto put = [&](const char* name, const json& v) {
      if (!v.is_number()) return;
      c[name] = number_or_null(v);
      metrics.insert(name);
    };
    put("weight_rel_error", l.value("weight_rel_error", json()));
    put("gptq_loss", l.value("gptq_loss", json()));
    put("input_scale", l.value("input_scale", json()));
    if (l.contains("activations") && l["activations"].is_object()) {
      put("input_absmax", l["activations"].value("absmax", json()));
      put("input_p99", l["activations"].value("p99", json()));
    }
    if (std::find(layers.begin(), layers.end(), layer) == layers.end()) layers.push_back(layer);
    if (std::find(modules.begin(), modules.end(), module) == modules.end()) modules.push_back(module);
    cells.push_back(std::move(c));
  }
  // Layers in numeric order (the head last), modules in the decoder's order.
  std::stable_sort(layers.begin(), layers.end(), [](const std::string& a, const std::string& b) {
    const bool da = a != "head", db = b != "head";
    if (da != db) return da;
    return da ? std::stoll(a) < std::stoll(b) : false;
  });
  std::stable_sort(modules.begin(), modules.end(),
                   [](const std::string& a, const std::string& b) { return module_rank(a) < module_rank(b); });
  // The relative weight error first: every quantized Linear has it.
  std::vector<std::string> ms;
  for (const char* m : {"weight_rel_error", "gptq_loss", "input_absmax", "input_p99", "input_scale"})
    if (metrics.count(m)) ms.push_back(m);
  return {{"variant", variant}, {"metrics", ms}, {"layers", layers}, {"modules", modules}, {"cells", cells}};
}

ordered_json timeline_of(const std::vector<store::RunRow>& runs) {
  // The last invocation that ran a step (a no-op build records none; cache hits are no work).
  std::string inv;
  for (const auto& r : runs)
    if (r.status != "hit") inv = r.invocation;  // runs come in id order: the last wins
  if (inv.empty()) return nullptr;
  std::vector<const store::RunRow*> mine;
  std::set<std::string> hosts;
  for (const auto& r : runs)
    if (r.invocation == inv && r.status != "hit") {
      mine.push_back(&r);
      hosts.insert(r.host);
    }
  std::sort(mine.begin(), mine.end(), [](auto* a, auto* b) { return a->started < b->started; });
  const double t0 = mine.front()->started;
  double last_end = t0;
  for (const auto* r : mine) last_end = std::max(last_end, r->ended > 0 ? r->ended : r->started);
  std::map<std::string, std::vector<double>> cpu_lanes;  // host -> end time of each CPU lane
  ordered_json out = ordered_json::array();
  for (const auto* r : mine) {
    // A run still going (or killed without a record) has no end: it is drawn to the last known.
    const double end = r->ended > 0 ? r->ended : last_end;
    std::string lane;
    const std::string at = hosts.size() > 1 ? " @ " + r->host : "";
    if (!r->gpu.empty()) {
      lane = "GPU " + r->gpu + at;
    } else {
      auto& lanes = cpu_lanes[r->host];
      std::size_t k = 0;
      while (k < lanes.size() && lanes[k] > r->started) ++k;
      if (k == lanes.size()) lanes.push_back(end);
      else lanes[k] = end;
      lane = "CPU " + std::to_string(k + 1) + at;
    }
    out.push_back({{"lane", lane},
                   {"kind", r->kind},
                   {"name", r->name},
                   {"status", r->ended > 0 ? r->status : "running or killed"},
                   {"start", r->started - t0},
                   {"end", end - t0}});
  }
  return {{"invocation", inv}, {"runs", out}};
}

Result<ordered_json> gather_report(Sources& src, const ResultsTable& table, const std::string& dataset_name,
                                   const std::string& as_of) {
  const auto benchmarks = table.benchmarks();
  std::vector<std::string> gaps;
  auto gap = [&](const std::string& g) {
    if (std::find(gaps.begin(), gaps.end(), g) == gaps.end()) gaps.push_back(g);
  };
  std::vector<std::string> extra;
  for (const auto& c : table.columns())
    if (!known_column(c, benchmarks)) extra.push_back(c);

  bool recovery_column = false;
  for (const auto& b : benchmarks) recovery_column |= table.has(b + "_recovery");
  if (!table.base()) gap("no base-model row in " + table.name() + ": recovery cannot be computed (enable fidelity in the eval config)");

  ordered_json rows = ordered_json::array(), heatmaps = ordered_json::array();
  std::map<std::string, json> params;  // variant -> {"transform", "recipe"}
  std::vector<std::string> recipe_variants;
  for (const auto& row : table.rows()) {
    const std::string variant = row.text("variant");
    ordered_json r = {{"variant", variant}, {"trans", row.text("trans")}, {"quant", row.text("quant")},
                      {"status", row.text("status")}, {"base", row.is_base()}, {"line", row.line}};
    ordered_json num = ordered_json::object(), text = ordered_json::object();
    json not_finite = json::array();
    for (const auto& c : table.columns()) {
      if (is_numeric_column(c)) {
        Number n = cell(row, c);
        num[c] = n.finite() ? json(n.value) : json(nullptr);
        if (n.present && !n.finite()) {
          not_finite.push_back(c);
          gap(table.name() + ":" + std::to_string(row.line) + ": " + variant + ": " + c + " is " + row.text(c) +
              " (not a number): shown as a gap, left out of the charts");
        }
      } else {
        text[c] = row.text(c);
      }
    }
    r["num"] = num;
    r["not_finite"] = not_finite;
    r["text"] = text;
    ordered_json rec = ordered_json::object();
    for (const auto& b : benchmarks) {
      auto v = recovery(table, row, b);
      rec[b] = v ? json(*v) : json(nullptr);
    }
    r["recovery"] = rec;

    QB_ASSIGN_OR_RETURN(std::string model_key, model_key_of(src, row));
    QB_ASSIGN_OR_RETURN(ModelInfo m, model_info(src, model_key));
    if (m.kind.empty())  // (a source the configs no longer name matters to model cards only)
      for (const auto& g : m.gaps) gap(variant + ": " + g);
    r["size_bytes"] = m.weight_bytes ? json(*m.weight_bytes) : json(nullptr);
    r["quant_seconds"] = m.quant_seconds ? json(*m.quant_seconds) : json(nullptr);
    r["quant_device"] = m.quant_device;
    r["card"] = m.kind == "quant" ? json("models/" + variant + "/README.md") : json(nullptr);
    rows.push_back(std::move(r));

    if (row.is_base()) continue;
    if (m.kind == "quant") {
      auto qr = read_quant_report(m);
      if (qr.is_ok()) heatmaps.push_back(heatmap_of(variant, *qr));
      else heatmaps.push_back({{"variant", variant}, {"missing", "no quantization report: " + qr.status().message()}});
      params[variant] = {{"transform", m.transform.is_null() ? json("none") : m.transform}, {"recipe", m.recipe}};
      recipe_variants.push_back(variant);
    } else {
      const std::string why = m.kind.empty() ? "the model is not in the store" : "the model is not a quantized one (" + m.kind + ")";
      heatmaps.push_back({{"variant", variant}, {"missing", "no quantization report: " + why}});
    }
  }

  ordered_json diffs = ordered_json::object();
  if (recipe_variants.size() > kMaxDiffVariants)
    gap("recipe differences are listed among the first " + std::to_string(kMaxDiffVariants) + " of " +
        std::to_string(recipe_variants.size()) + " variants");
  const std::size_t nd = std::min(recipe_variants.size(), kMaxDiffVariants);
  for (std::size_t i = 0; i < nd; ++i)
    for (std::size_t j = 0; j < nd; ++j) {
      if (i == j) continue;
      const auto& a = recipe_variants[i];
      const auto& b = recipe_variants[j];
      diffs[a + "\t" + b] = graph::json_diff(params[a], params[b]);
    }

  QB_ASSIGN_OR_RETURN(auto runs, src.index.runs(""));
  ordered_json out = {{"format", kReportFormat},
                      {"dataset_name", dataset_name},
                      {"csv", table.name()},
                      {"as_of", as_of},
                      {"qbuild_version", QBUILD_VERSION_STRING},
                      {"benchmarks", benchmarks},
                      {"recovery_from", recovery_column ? "column" : "ratio"},
                      {"extra_columns", extra},
                      {"rows", rows},
                      {"heatmaps", heatmaps},
                      {"timeline", timeline_of(runs)},
                      {"recipes", {{"variants", recipe_variants}, {"params", json(params)}, {"diffs", diffs}}},
                      {"gaps", gaps}};
  return out;
}

}  // namespace qb::report
