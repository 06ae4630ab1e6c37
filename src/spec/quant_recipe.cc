// The quant recipe's rules, presets and canonical JSON (see quant_recipe.h).
#include "spec/quant_recipe.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "spec/canonical_json.h"
#include "spec/fp8_rules.h"
#include "spec/project.h"
#include "spec/targets.h"

namespace qb::spec {

namespace {

using nlohmann::json;

QuantArgs int_weights(int bits, Strategy strategy, std::int64_t group_size) {
  QuantArgs a;
  a.num_bits = bits;
  a.strategy = strategy;
  a.group_size = group_size;
  a.observer = ObserverKind::kMemorylessMinMax;
  return a;
}

QuantArgs asym(QuantArgs a) {
  a.symmetric = false;
  return a;
}

QuantArgs dynamic_token_acts() {
  QuantArgs a;
  a.strategy = Strategy::kToken;
  a.dynamic = true;
  return a;
}

// compressed-tensors 0.19 quant_scheme.py FP8 / FP8_DYNAMIC / FP8_BLOCK: e4m3 everywhere.
QuantArgs fp8(QuantArgs a) {
  a.type = QuantType::kFloat;
  a.num_bits = 8;
  return a;
}

QuantArgs fp8_block_weights() {
  QuantArgs a = fp8(int_weights(8, Strategy::kBlock, 0));
  a.block_structure = {128, 128};
  return a;
}

QuantArgs fp8_static_tensor_acts() {
  QuantArgs a = fp8({});
  a.observer = ObserverKind::kStaticMinMax;
  return a;
}

QuantArgs fp8_dynamic_group_acts(std::int64_t group_size) {
  QuantArgs a = fp8({});
  a.strategy = Strategy::kGroup;
  a.group_size = group_size;
  a.dynamic = true;
  return a;
}

// The observer kwargs an observer reads (llm-compressor 0.14's defaults; see quant_args.h).
json observer_kwargs(const QuantArgs& a) {
  json kw = json::object();
  if (!a.observer) return kw;
  const ObserverKind o = *a.observer;
  const ObserverOptions& opt = a.observer_options;
  if (o == ObserverKind::kMinMax || o == ObserverKind::kMse) kw["averaging_constant"] = opt.averaging_constant;
  if (o == ObserverKind::kMse || o == ObserverKind::kMemorylessMse) {
    kw["maxshrink"] = opt.maxshrink;
    kw["patience"] = std::int64_t{opt.patience};
    kw["grid"] = opt.grid;
    kw["norm"] = opt.norm;
  }
  return kw;
}

std::string join(const std::vector<std::int64_t>& v) {
  std::string s;
  for (auto x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

bool contains(const std::vector<std::int64_t>& v, std::int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Rules for one group: compressed-tensors 0.19's QuantizationArgs validation and what vLLM can
// load (CompressedTensorsW8A8Int8: 8-bit symmetric per-tensor/per-channel weights with static
// per-tensor or dynamic per-token symmetric int8 activations; CompressedTensorsWNA16: 4/8-bit
// per-channel/per-group weights, symmetric or with zero points).
void validate_group(const ConfigGroup& g, Modifier modifier, const std::string& at, Issues& out) {
  if (g.targets.empty()) out.error(field(at, "targets"), "'targets' must not be empty");
  for (std::size_t i = 0; i < g.targets.size(); ++i)
    if (std::string p = target_problem(g.targets[i]); !p.empty()) out.error(item(field(at, "targets"), i), p);

  if (is_fp8_group(g)) return validate_fp8_group(g, modifier, at, out);  // spec/fp8_rules.h

  const QuantArgs& w = g.weights;
  const std::string wa = field(at, "weights");
  if (!contains({4, 8}, w.num_bits))
    out.error(field(wa, "num_bits"),
              fmt::format("num_bits {} is not supported for int weights (allowed: {})", w.num_bits, join({4, 8})));
  if (w.dynamic)
    out.error(field(wa, "dynamic"),
              "dynamic weight quantization is not supported: weights are quantized once, offline");
  if (w.strategy == Strategy::kToken || w.strategy == Strategy::kAttnHead)
    out.error(field(wa, "strategy"),
              fmt::format("strategy '{}' cannot be applied to weights", strategy_name(w.strategy)));
  if (w.strategy == Strategy::kBlock)
    out.error(field(wa, "strategy"), "strategy 'block' is for fp8 weights ('type: float') only");
  if ((w.strategy == Strategy::kGroup) != (w.group_size > 0))
    out.error(field(wa, "group_size"), "'group_size' must be positive exactly when strategy is 'group'");
  if (modifier == Modifier::kRtn && w.actorder != ActOrder::kNone)
    out.error(field(wa, "actorder"), "'actorder' applies to GPTQModifier only");

  if (g.input_activations) {
    const QuantArgs& a = *g.input_activations;
    const std::string aa = field(at, "input_activations");
    const int before = out.error_count();
    if (a.num_bits != 8)
      out.error(field(aa, "num_bits"),
                fmt::format("num_bits {} is not supported for input activations (allowed: 8)", a.num_bits));
    if (!a.symmetric)
      out.error(field(aa, "symmetric"), "asymmetric input activations are not supported; use 'symmetric: true'");
    if (a.strategy == Strategy::kChannel) {
      out.error(field(aa, "strategy"),
                "input activations cannot be quantized per channel; use strategy 'token' (dynamic) or "
                "'tensor' (static)");
    } else if (a.strategy == Strategy::kToken && !a.dynamic) {
      out.error(field(aa, "strategy"), "strategy 'token' requires 'dynamic: true'");
    } else if (!(a.strategy == Strategy::kTensor && !a.dynamic) && !(a.strategy == Strategy::kToken && a.dynamic)) {
      out.error(field(aa, "strategy"),
                fmt::format("vLLM cannot load int8 activations quantized {} per-{}; use static per-tensor "
                            "(strategy: tensor, dynamic: false) or dynamic per-token (strategy: token, "
                            "dynamic: true)",
                            a.dynamic ? "dynamic" : "static", strategy_name(a.strategy)));
    }
    if (a.actorder != ActOrder::kNone) out.error(field(aa, "actorder"), "actorder cannot be applied to input activations");
    if (!a.dynamic && !a.observer)
      out.error(field(aa, "observer"), "static input activations need an observer");
    if (out.error_count() != before) return;
    if (w.num_bits != 8)
      out.error(field(wa, "num_bits"),
                fmt::format("vLLM cannot load int8 activations with {}-bit weights; W8A8 needs 'num_bits: 8' "
                            "for weights",
                            w.num_bits));
    if (w.strategy == Strategy::kGroup)
      out.error(field(wa, "strategy"),
                "vLLM cannot load W8A8 int8 with per-group weights; use strategy 'channel' or 'tensor'");
    if (!w.symmetric)
      out.error(field(wa, "symmetric"), "vLLM cannot load W8A8 int8 with asymmetric weights; use 'symmetric: true'");
  } else {
    if (w.strategy == Strategy::kTensor)
      out.error(field(wa, "strategy"),
                "vLLM cannot load weight-only int quantization per tensor; use strategy 'channel' or 'group'");
  }
}

// Rules between the smoothing stages and the quantization stage.
void validate_stage_quantization(const std::vector<SmoothingStage>& stages, const std::vector<ConfigGroup>& groups,
                                 Issues& out) {
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const auto* awq = std::get_if<AwqStage>(&stages[i]);
    if (!awq) continue;
    for (const auto& g : groups) {
      const std::string at = field("config_groups", g.name);
      if (g.input_activations)
        out.error(field(at, "input_activations"),
                  "AWQModifier (stage " + std::to_string(i) +
                      ") searches its scales for weight-only quantization; config group '" + g.name +
                      "' also quantizes input activations (use SmoothQuantModifier for W8A8)");
      // awq/base.py on_calibration_start raises the same.
      if (awq->duo_scaling != DuoScaling::kFalse && g.weights.strategy == Strategy::kTensor)
        out.error(field(item("stages", i), "duo_scaling"),
                  "duo_scaling is only supported with per-channel quantization strategies (group or channel), "
                  "but config group '" + g.name + "' quantizes weights per tensor; set duo_scaling: false");
    }
  }
}

}  // namespace

void read_scheme_core(CanonicalReader& r, QuantArgs& a, Issues& issues) {
  a.num_bits = static_cast<int>(r.i64("num_bits"));
  if (auto t = parse_quant_type(r.str("type")); t.is_ok()) a.type = *t;
  else issues.error(r.at("type"), t.status().message());
  a.symmetric = r.boolean("symmetric");
  if (auto s = parse_strategy(r.str("strategy")); s.is_ok()) a.strategy = *s;
  else issues.error(r.at("strategy"), s.status().message());
  a.group_size = r.opt_i64("group_size").value_or(0);
}

namespace {

Result<QuantArgs> args_from_json(const json& j, const std::string& at, bool gptq_weights, Issues& issues) {
  std::vector<std::string_view> keys = {"num_bits", "type",           "symmetric",  "strategy",
                                        "group_size", "dynamic",      "observer",   "observer_kwargs",
                                        "scale_rule", "rounding"};
  if (gptq_weights) keys.push_back("actorder");
  CanonicalReader r(j, at, issues, keys, {"block_structure"});
  QuantArgs a;
  read_scheme_core(r, a, issues);
  if (r.has("block_structure")) {
    const json& bs = r.raw("block_structure");
    if (!bs.is_array() || bs.size() != 2 || !bs[0].is_number_integer() || !bs[1].is_number_integer())
      issues.error(r.at("block_structure"), "expected [rows, cols]");
    else
      a.block_structure = {bs[0].get<std::int64_t>(), bs[1].get<std::int64_t>()};
  }
  a.dynamic = r.boolean("dynamic");
  if (auto o = r.opt_str("observer")) {
    if (auto k = parse_observer(*o); k.is_ok()) a.observer = *k;
    else issues.error(r.at("observer"), k.status().message());
  }
  const json& kw = r.raw("observer_kwargs");
  if (!kw.is_object()) {
    issues.error(r.at("observer_kwargs"), "expected an object");
  } else {
    for (const auto& [k, v] : kw.items()) {
      if (!v.is_number()) { issues.error(field(r.at("observer_kwargs"), k), "expected a number"); continue; }
      if (k == "averaging_constant") a.observer_options.averaging_constant = v.get<double>();
      else if (k == "maxshrink") a.observer_options.maxshrink = v.get<double>();
      else if (k == "patience") a.observer_options.patience = v.get<int>();
      else if (k == "grid") a.observer_options.grid = v.get<double>();
      else if (k == "norm") a.observer_options.norm = v.get<double>();
      else issues.error(field(r.at("observer_kwargs"), k), "unknown field");
    }
  }
  if (gptq_weights) {
    if (auto o = r.opt_str("actorder")) {
      if (auto k = parse_actorder(*o); k.is_ok()) a.actorder = *k;
      else issues.error(r.at("actorder"), k.status().message());
    }
  }
  if (issues.ok()) {
    if (r.str("scale_rule") != scale_rule(a))
      issues.error(r.at("scale_rule"), "'" + r.str("scale_rule") + "' is not the rule of these args ('" +
                                           scale_rule(a) + "')");
    if (r.str("rounding") != "half_even") issues.error(r.at("rounding"), "qbuild rounds half_even only");
  }
  return a;
}

}  // namespace

const char* modifier_name(Modifier m) { return m == Modifier::kGptq ? "GPTQModifier" : "QuantizationModifier"; }

std::string scale_rule(const QuantArgs& a) {
  if (a.type == QuantType::kFloat) return "absmax/448";  // e4m3 (qmath/fp8.h)
  if (a.dynamic) return "absmax/(2^(bits-1)-1)";
  return a.symmetric ? "absmax/((2^bits-1)/2)" : "(max-min)/(2^bits-1)";
}

json args_to_json(const QuantArgs& a, bool gptq_weights) {
  json j = {{"num_bits", a.num_bits},
            {"type", quant_type_name(a.type)},
            {"symmetric", a.symmetric},
            {"strategy", strategy_name(a.strategy)},
            {"group_size", a.strategy == Strategy::kGroup ? json(a.group_size) : json(nullptr)},
            {"dynamic", a.dynamic},
            {"observer", a.observer ? json(observer_name(*a.observer)) : json(nullptr)},
            {"observer_kwargs", observer_kwargs(a)},
            {"scale_rule", scale_rule(a)},
            {"rounding", "half_even"}};
  if (gptq_weights) j["actorder"] = a.actorder == ActOrder::kWeight ? json("weight") : json(nullptr);
  if (a.strategy == Strategy::kBlock) j["block_structure"] = a.block_structure;
  return j;
}

const std::vector<SchemePreset>& scheme_presets() {
  // compressed-tensors 0.19: W8A16 is int8 group 128 there (older releases: per-channel).
  static const std::vector<SchemePreset> kPresets = {
      {"W8A8", "int8 weights per channel (symmetric) + int8 activations per token, dynamic",
       int_weights(8, Strategy::kChannel, 0), dynamic_token_acts()},
      {"W8A16", "int8 weight-only, groups of 128 columns (symmetric)", int_weights(8, Strategy::kGroup, 128),
       std::nullopt},
      {"W4A16", "int4 weight-only, groups of 128 columns (symmetric)", int_weights(4, Strategy::kGroup, 128),
       std::nullopt},
      {"W4A16_ASYM", "int4 weight-only, groups of 128 columns, with zero points (AWQ's usual scheme)",
       asym(int_weights(4, Strategy::kGroup, 128)), std::nullopt},
      {"FP8", "fp8 e4m3 weights per tensor + fp8 activations per tensor, static (static_minmax)",
       fp8(int_weights(8, Strategy::kTensor, 0)), fp8_static_tensor_acts()},
      {"FP8_DYNAMIC", "fp8 e4m3 weights per channel + fp8 activations per token, dynamic",
       fp8(int_weights(8, Strategy::kChannel, 0)), fp8(dynamic_token_acts())},
      {"FP8_BLOCK", "fp8 e4m3 weights in 128x128 blocks + fp8 activations per group of 128, dynamic",
       fp8_block_weights(), fp8_dynamic_group_acts(128)},
  };
  return kPresets;
}

const SchemePreset* find_scheme(std::string_view name) {
  for (const auto& p : scheme_presets()) {
    if (p.name.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size(); ++i)
      same &= std::toupper(static_cast<unsigned char>(name[i])) == static_cast<unsigned char>(p.name[i]);
    if (same) return &p;
  }
  return nullptr;
}

ConfigGroup preset_group(const SchemePreset& preset, std::vector<std::string> targets) {
  ConfigGroup g;
  g.name = "group_0";
  g.targets = std::move(targets);
  g.weights = preset.weights;
  g.input_activations = preset.input_activations;
  return g;
}

bool QuantRecipe::needs_calibration() const {
  if (!stages.empty() || modifier == Modifier::kGptq || kv_cache_scheme) return true;
  for (const auto& g : groups)
    if (g.input_activations && !g.input_activations->dynamic) return true;
  return false;
}

QuantRecipe QuantRecipe::quantization_stage() const {
  QuantRecipe q = *this;
  q.stages.clear();
  if (!q.needs_calibration()) q.calibration.reset();
  return q;
}

void QuantRecipe::validate(Issues& out) const {
  validate_stages(stages, out);
  validate_stage_quantization(stages, groups, out);
  if (groups.empty()) out.error("config_groups", "'config_groups' is empty");
  for (const auto& g : groups) validate_group(g, modifier, field("config_groups", g.name), out);
  if (kv_cache_scheme) validate_kv_cache_scheme(*kv_cache_scheme, "kv_cache_scheme", out);
  for (std::size_t i = 0; i < ignore.size(); ++i)
    if (ignore[i].rfind("re:", 0) == 0)
      if (std::string p = target_problem(ignore[i]); !p.empty()) out.error(item("ignore", i), p);
  if (modifier == Modifier::kGptq) {
    if (block_size < 1) out.error("block_size", fmt::format("'block_size' must be positive, got {}", block_size));
    if (!(dampening_frac >= 0 && dampening_frac < 1))
      out.error("dampening_frac", fmt::format("'dampening_frac' must be in [0, 1), got {}", dampening_frac));
  }
  validate_compute(device, compute_dtype, out);
  if (needs_calibration() && !calibration) {
    const std::string who = !stages.empty() ? std::string(stage_modifier_name(stages.front())) + " needs"
                            : modifier == Modifier::kGptq ? "GPTQModifier needs"
                            : kv_cache_scheme             ? "the KV-cache scheme needs"
                                                          : "static input activations need";
    out.error("calibration", who + " calibration data: add a 'calibration' section with a 'source'");
  } else if (!needs_calibration() && calibration) {
    out.error("calibration",
              "'calibration' is set but this recipe has no smoothing stage, no static activations, no KV-cache "
              "scheme and is not GPTQ");
  }
  if (calibration) validate_calibration(*calibration, out);
}

void validate_calibration(const CalibrationSpec& c, Issues& out) {
  if (c.source_kind != "txt" && c.source_kind != "jsonl")
    out.error("calibration.source_kind", "calibration reads a .txt or .jsonl file, not '" + c.source_kind + "'");
  if (c.num_samples < 1 || c.num_samples > kMaxCalibrationSamples)
    out.error("calibration.num_samples",
              fmt::format("'num_samples' must be in [1, {}], got {}", kMaxCalibrationSamples, c.num_samples));
  if (c.seq_len < 1 || c.seq_len > kMaxCalibrationSeqLen)
    out.error("calibration.seq_len",
              fmt::format("'seq_len' must be in [1, {}], got {}", kMaxCalibrationSeqLen, c.seq_len));
  if (c.num_samples >= 1 && c.seq_len >= 1 && c.num_samples <= kMaxCalibrationSamples &&
      c.seq_len <= kMaxCalibrationSeqLen && c.num_samples * c.seq_len > kMaxCalibrationTokens)
    out.error("calibration.num_samples",
              fmt::format("num_samples × seq_len = {} tokens is more than qbuild calibrates on ({}); "
                          "llm-compressor's examples use 512 × 2048",
                          c.num_samples * c.seq_len, kMaxCalibrationTokens));
}

json QuantRecipe::to_json() const {
  const bool gptq = modifier == Modifier::kGptq;
  json groups_json = json::object();
  for (const auto& g : groups)
    groups_json[g.name] = {{"targets", g.targets},
                           {"weights", args_to_json(g.weights, gptq)},
                           {"input_activations",
                            g.input_activations ? args_to_json(*g.input_activations, false) : json(nullptr)}};
  json j = {{"modifier", modifier_name(modifier)},
            {"config_groups", groups_json},
            {"ignore", ignore},
            {"save_compressed", save_compressed},
            {"device", device},
            {"compute_dtype", compute_dtype}};
  if (gptq) {
    j["block_size"] = block_size;
    j["dampening_frac"] = dampening_frac;
  }
  if (kv_cache_scheme) j["kv_cache_scheme"] = args_to_json(*kv_cache_scheme, false);
  if (calibration)
    j["calibration"] = {{"source_kind", calibration->source_kind},
                        {"num_samples", calibration->num_samples},
                        {"seq_len", calibration->seq_len},
                        {"seed", calibration->seed}};
  if (!stages.empty()) {
    json s = json::array();
    for (const auto& st : stages) s.push_back(stage_to_json(st));
    j["stages"] = s;
  }
  return j;
}

Result<QuantRecipe> QuantRecipe::from_json(const json& j) {
  Issues issues;
  QuantRecipe r;
  const std::string mod = j.is_object() && j.contains("modifier") && j["modifier"].is_string()
                              ? j["modifier"].get<std::string>()
                              : "";
  const bool gptq = mod == "GPTQModifier";
  std::vector<std::string_view> keys = {"modifier", "config_groups", "ignore", "save_compressed", "device",
                                        "compute_dtype"};
  if (gptq) keys.insert(keys.end(), {"block_size", "dampening_frac"});
  CanonicalReader top(j, "", issues, keys, {"calibration", "kv_cache_scheme", "stages"});
  if (mod == "GPTQModifier") r.modifier = Modifier::kGptq;
  else if (mod == "QuantizationModifier") r.modifier = Modifier::kRtn;
  else issues.error("modifier", "expected QuantizationModifier or GPTQModifier");
  const json& cg = top.raw("config_groups");
  if (!cg.is_object()) {
    issues.error("config_groups", "expected an object");
  } else {
    for (const auto& [name, gj] : cg.items()) {
      const std::string at = field("config_groups", name);
      CanonicalReader gr(gj, at, issues, {"targets", "weights", "input_activations"});
      ConfigGroup g;
      g.name = name;
      g.targets = gr.strings("targets");
      g.weights = *args_from_json(gr.raw("weights"), field(at, "weights"), gptq, issues);
      if (!gr.raw("input_activations").is_null())
        g.input_activations = *args_from_json(gr.raw("input_activations"), field(at, "input_activations"), false, issues);
      r.groups.push_back(std::move(g));
    }
  }
  r.ignore = top.strings("ignore");
  r.save_compressed = top.boolean("save_compressed");
  r.device = top.str("device");
  r.compute_dtype = top.str("compute_dtype");
  if (gptq) {
    r.block_size = top.i64("block_size");
    r.dampening_frac = top.f64("dampening_frac");
  }
  if (top.has("kv_cache_scheme"))
    r.kv_cache_scheme = *args_from_json(top.raw("kv_cache_scheme"), "kv_cache_scheme", false, issues);
  if (top.has("calibration")) {
    CanonicalReader c(top.raw("calibration"), "calibration", issues, {"source_kind", "num_samples", "seq_len", "seed"});
    CalibrationSpec cs;
    cs.source_kind = c.str("source_kind");
    cs.num_samples = c.i64("num_samples");
    cs.seq_len = c.i64("seq_len");
    cs.seed = c.u64("seed");
    r.calibration = cs;
  }
  if (top.has("stages")) {
    const json& st = top.raw("stages");
    if (!st.is_array() || st.empty()) issues.error("stages", "expected a non-empty list (absent when there are none)");
    else
      for (std::size_t i = 0; i < st.size(); ++i) r.stages.push_back(stage_from_json(st[i], item("stages", i), issues));
  }
  QB_TRY(issues.to_status("quant recipe"));
  return r;
}

}  // namespace qb::spec
