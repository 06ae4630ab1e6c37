// The smooth node's spec (see smooth_spec.h).
#include "spec/smooth_spec.h"

#include "spec/canonical_json.h"
#include "spec/project.h"

namespace qb::spec {

namespace {

using nlohmann::json;

json weights_json(const QuantArgs& a) {
  return {{"num_bits", a.num_bits},
          {"type", quant_type_name(a.type)},
          {"symmetric", a.symmetric},
          {"strategy", strategy_name(a.strategy)},
          {"group_size", a.strategy == Strategy::kGroup ? json(a.group_size) : json(nullptr)}};
}

QuantArgs weights_from_json(const json& j, const std::string& at, Issues& issues) {
  CanonicalReader r(j, at, issues, {"num_bits", "type", "symmetric", "strategy", "group_size"});
  QuantArgs a;
  read_scheme_core(r, a, issues);
  a.observer = ObserverKind::kMemorylessMinMax;  // what AWQ's search uses, whatever the recipe says
  return a;
}

}  // namespace

std::optional<SmoothSpec> SmoothSpec::of(const QuantRecipe& recipe) {
  if (recipe.stages.empty()) return std::nullopt;
  SmoothSpec s;
  s.stages = recipe.stages;
  for (const auto& st : recipe.stages)
    if (std::holds_alternative<AwqStage>(st)) {
      AwqQuantization q;
      for (const auto& g : recipe.groups) {
        ConfigGroup w;
        w.name = g.name;
        w.targets = g.targets;
        w.weights = g.weights;
        w.weights.observer = ObserverKind::kMemorylessMinMax;
        w.weights.observer_options = {};
        w.weights.actorder = ActOrder::kNone;
        q.groups.push_back(std::move(w));
      }
      q.ignore = recipe.ignore;
      s.quantization = std::move(q);
      break;
    }
  if (recipe.calibration) s.calibration = *recipe.calibration;
  s.device = recipe.device;
  s.compute_dtype = recipe.compute_dtype;
  return s;
}

void SmoothSpec::validate(Issues& issues) const {
  if (stages.empty()) issues.error("stages", "a smooth node needs at least one smoothing stage");
  validate_stages(stages, issues);
  bool awq = false;
  for (const auto& st : stages) awq |= std::holds_alternative<AwqStage>(st);
  if (awq != quantization.has_value())
    issues.error("quantization", awq ? "an AWQ stage needs the quantization it searches scales for"
                                     : "'quantization' is set but no stage is AWQ");
  if (quantization && quantization->groups.empty())
    issues.error("quantization.config_groups", "'config_groups' is empty");
  validate_calibration(calibration, issues);
  validate_compute(device, compute_dtype, issues);
}

json SmoothSpec::to_json() const {
  json st = json::array();
  for (const auto& s : stages) st.push_back(stage_to_json(s));
  json q = nullptr;
  if (quantization) {
    json groups = json::object();
    for (const auto& g : quantization->groups)
      groups[g.name] = {{"targets", g.targets}, {"weights", weights_json(g.weights)}};
    q = {{"config_groups", groups}, {"ignore", quantization->ignore}};
  }
  return {{"stages", st},
          {"quantization", q},
          {"calibration",
           {{"source_kind", calibration.source_kind},
            {"num_samples", calibration.num_samples},
            {"seq_len", calibration.seq_len},
            {"seed", calibration.seed}}},
          {"device", device},
          {"compute_dtype", compute_dtype}};
}

Result<SmoothSpec> SmoothSpec::from_json(const json& j) {
  Issues issues;
  CanonicalReader top(j, "", issues, {"stages", "quantization", "calibration", "device", "compute_dtype"});
  SmoothSpec s;
  const json& st = top.raw("stages");
  if (!st.is_array()) issues.error("stages", "expected a list");
  else
    for (std::size_t i = 0; i < st.size(); ++i) s.stages.push_back(stage_from_json(st[i], item("stages", i), issues));
  if (const json& q = top.raw("quantization"); !q.is_null()) {
    CanonicalReader qr(q, "quantization", issues, {"config_groups", "ignore"});
    AwqQuantization aq;
    const json& cg = qr.raw("config_groups");
    if (!cg.is_object()) issues.error("quantization.config_groups", "expected an object");
    else
      for (const auto& [name, gj] : cg.items()) {
        const std::string at = field("quantization.config_groups", name);
        CanonicalReader gr(gj, at, issues, {"targets", "weights"});
        ConfigGroup g;
        g.name = name;
        g.targets = gr.strings("targets");
        g.weights = weights_from_json(gr.raw("weights"), field(at, "weights"), issues);
        aq.groups.push_back(std::move(g));
      }
    aq.ignore = qr.strings("ignore");
    s.quantization = std::move(aq);
  }
  CanonicalReader c(top.raw("calibration"), "calibration", issues, {"source_kind", "num_samples", "seq_len", "seed"});
  s.calibration.source_kind = c.str("source_kind");
  s.calibration.num_samples = c.i64("num_samples");
  s.calibration.seq_len = c.i64("seq_len");
  s.calibration.seed = c.u64("seed");
  s.device = top.str("device");
  s.compute_dtype = top.str("compute_dtype");
  QB_TRY(issues.to_status("smooth spec"));
  return s;
}

}  // namespace qb::spec
