// Parsing and validating quantization recipes (see recipe.h).
#include "steps/quant/recipe.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace qb::quant {
namespace {

using nlohmann::json;
using qmath::ActOrder;
using qmath::QuantArgs;
using qmath::Strategy;

Status err(const std::string& where, const std::string& what) {
  return invalid_argument("recipe: " + (where.empty() ? what : where + ": " + what));
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

Status check_keys(const json& j, const std::vector<std::string>& allowed, const std::string& where) {
  if (!j.is_object()) return err(where, "expected an object, got " + std::string(j.type_name()));
  for (const auto& [k, v] : j.items())
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      return err(where, "unknown key '" + k + "' (allowed: " + join(allowed) + ")");
  return Status::ok();
}

// Typed field readers: absent (or null where allowed) leaves `out` unchanged.
Status read_bool(const json& j, const char* key, bool& out, const std::string& where) {
  if (!j.contains(key)) return Status::ok();
  if (!j[key].is_boolean()) return err(where, std::string("'") + key + "' must be a boolean");
  out = j[key].get<bool>();
  return Status::ok();
}
Status read_int(const json& j, const char* key, std::int64_t& out, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return Status::ok();
  if (!j[key].is_number_integer()) return err(where, std::string("'") + key + "' must be an integer");
  out = j[key].get<std::int64_t>();
  return Status::ok();
}
Status read_double(const json& j, const char* key, double& out, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return Status::ok();
  if (!j[key].is_number()) return err(where, std::string("'") + key + "' must be a number");
  out = j[key].get<double>();
  return Status::ok();
}
Result<std::optional<std::string>> read_string(const json& j, const char* key,
                                               const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<std::string>();
  if (!j[key].is_string()) return err(where, std::string("'") + key + "' must be a string");
  return std::optional<std::string>(j[key].get<std::string>());
}
Result<std::vector<std::string>> read_string_list(const json& j, const char* key,
                                                  const std::string& where) {
  std::vector<std::string> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  if (!j[key].is_array()) return err(where, std::string("'") + key + "' must be a list of strings");
  for (const auto& e : j[key]) {
    if (!e.is_string()) return err(where, std::string("'") + key + "' must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

Status read_observer_kwargs(const json& j, qmath::ObserverOptions& o, const std::string& where) {
  if (!j.contains("observer_kwargs") || j["observer_kwargs"].is_null()) return Status::ok();
  const auto& kw = j["observer_kwargs"];
  const std::string w = where + ".observer_kwargs";
  QB_TRY(check_keys(kw, {"averaging_constant", "maxshrink", "patience", "grid", "norm"}, w));
  QB_TRY(read_double(kw, "averaging_constant", o.averaging_constant, w));
  QB_TRY(read_double(kw, "maxshrink", o.maxshrink, w));
  std::int64_t patience = o.patience;
  QB_TRY(read_int(kw, "patience", patience, w));
  o.patience = static_cast<int>(patience);
  QB_TRY(read_double(kw, "grid", o.grid, w));
  QB_TRY(read_double(kw, "norm", o.norm, w));
  if (!(o.averaging_constant > 0 && o.averaging_constant <= 1))
    return err(w, "averaging_constant must be in (0, 1]");
  if (!(o.maxshrink > 0 && o.maxshrink < 1)) return err(w, "maxshrink must be in (0, 1)");
  if (o.patience < 1) return err(w, "patience must be >= 1");
  if (!(o.grid >= 1)) return err(w, "grid must be >= 1");
  if (!(o.norm > 0)) return err(w, "norm must be > 0");
  return Status::ok();
}

// The scale rule each kind of args implies (the config layer records it in params).
std::string expected_scale_rule(const QuantArgs& a) {
  if (a.dynamic) return "absmax/(2^(bits-1)-1)";
  return a.symmetric ? "absmax/((2^bits-1)/2)" : "(max-min)/(2^bits-1)";
}

// `actorder_given`: set when the args carry an "actorder" key (null included).
Result<QuantArgs> parse_args(const json& j, const std::string& where, bool weights,
                             bool* actorder_given) {
  std::vector<std::string> keys = {"num_bits",   "type",       "symmetric",      "strategy",
                                   "group_size", "dynamic",    "observer",       "observer_kwargs",
                                   "scale_rule", "rounding",   "block_structure", "scale_dtype",
                                   "zp_dtype",   "actorder"};
  QB_TRY(check_keys(j, keys, where));
  QuantArgs a;
  std::int64_t bits = a.num_bits;
  QB_TRY(read_int(j, "num_bits", bits, where));
  a.num_bits = static_cast<int>(bits);
  QB_ASSIGN_OR_RETURN(auto type, read_string(j, "type", where));
  if (type) {
    std::string t = *type;
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
    QB_ASSIGN_OR_RETURN_CTX(a.type, qmath::parse_quant_type(t), "recipe: " + where);
  }
  QB_TRY(read_bool(j, "symmetric", a.symmetric, where));
  QB_TRY(read_bool(j, "dynamic", a.dynamic, where));
  std::int64_t gs = 0;
  const bool has_gs = j.contains("group_size") && !j["group_size"].is_null();
  QB_TRY(read_int(j, "group_size", gs, where));
  QB_ASSIGN_OR_RETURN(auto strategy, read_string(j, "strategy", where));
  if (has_gs && (gs == 0 || gs < -1))
    return err(where, "invalid group_size " + std::to_string(gs) +
                          ": use a positive value with strategy group, or -1 for channel");
  if (strategy) {
    std::string s = *strategy;
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    QB_ASSIGN_OR_RETURN_CTX(a.strategy, qmath::parse_strategy(s), "recipe: " + where);
    if (a.strategy == Strategy::kGroup && !(has_gs && gs > 0))
      return err(where, "strategy group requires group_size > 0");
    if (has_gs && gs > 0 && a.strategy != Strategy::kGroup)
      return err(where, "group_size requires strategy group");
    if (has_gs && gs == -1 && a.strategy != Strategy::kChannel)
      return err(where, "group_size -1 means per-channel and conflicts with strategy " +
                            std::string(qmath::strategy_name(a.strategy)));
  } else {
    a.strategy = !has_gs ? Strategy::kTensor : (gs > 0 ? Strategy::kGroup : Strategy::kChannel);
  }
  if (a.strategy == Strategy::kGroup) a.group_size = gs;
  QB_ASSIGN_OR_RETURN(auto observer, read_string(j, "observer", where));
  if (observer) {
    QB_ASSIGN_OR_RETURN_CTX(auto o, qmath::parse_observer(*observer), "recipe: " + where);
    a.observer = o;
  }
  QB_TRY(read_observer_kwargs(j, a.observer_options, where));
  for (const char* k : {"block_structure", "scale_dtype", "zp_dtype"})
    if (j.contains(k) && !j[k].is_null())
      return err(where, std::string("'") + k + "' is not supported (must be null)");
  if (j.contains("actorder")) {
    if (!weights && !j["actorder"].is_null())
      return err(where, "actorder cannot be applied to input activations");
    if (actorder_given) *actorder_given = true;
    const auto& ao = j["actorder"];
    if (ao.is_boolean()) {
      if (ao.get<bool>())
        return err(where, "actorder: true meant 'group', which compressed-tensors 0.19 removed; "
                          "use 'weight' (alias 'static') or null");
    } else if (!ao.is_null()) {
      if (!ao.is_string()) return err(where, "'actorder' must be a string or null");
      QB_ASSIGN_OR_RETURN_CTX(a.actorder, qmath::parse_actorder(ao.get<std::string>()),
                              "recipe: " + where);
    }
  }
  QB_ASSIGN_OR_RETURN(auto rule, read_string(j, "scale_rule", where));
  if (rule && *rule != expected_scale_rule(a))
    return err(where, "scale_rule '" + *rule + "' is not what qbuild implements for these args ('" +
                          expected_scale_rule(a) + "')");
  QB_ASSIGN_OR_RETURN(auto rounding, read_string(j, "rounding", where));
  if (rounding && *rounding != "half_even")
    return err(where, "rounding '" + *rounding + "' is not supported (qbuild rounds half_even)");
  return a;
}

}  // namespace

const char* modifier_name(Modifier m) {
  return m == Modifier::kGptq ? "GPTQModifier" : "QuantizationModifier";
}

bool QuantRecipe::needs_calibration() const {
  if (modifier == Modifier::kGptq) return true;
  for (const auto& g : groups)
    if (g.input_activations && !g.input_activations->dynamic) return true;
  return false;
}

Result<ConfigGroup> preset_group(std::string_view scheme, std::vector<std::string> targets) {
  std::string s(scheme);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  ConfigGroup g;
  g.name = "group_0";
  g.targets = std::move(targets);
  if (s == "W8A8") {
    g.weights.strategy = Strategy::kChannel;
    QuantArgs a;
    a.strategy = Strategy::kToken;
    a.dynamic = true;
    g.input_activations = a;
  } else if (s == "W8A16" || s == "W4A16") {
    g.weights.num_bits = s == "W4A16" ? 4 : 8;
    g.weights.strategy = Strategy::kGroup;
    g.weights.group_size = 128;
  } else {
    return invalid_argument("recipe: unknown scheme '" + std::string(scheme) +
                            "' (qbuild supports W8A8, W8A16, W4A16)");
  }
  return g;
}

Status validate_group(const ConfigGroup& g, Modifier modifier, const std::string& where) {
  const QuantArgs& w = g.weights;
  const std::string ww = where + ".weights";
  if (g.targets.empty()) return err(where, "'targets' must not be empty");
  for (const auto& t : g.targets) {
    // A class name (compressed-tensors matches those too): only Linear layers are quantized
    // here (no Embedding, no attention/KV-cache schemes).
    const bool class_like = !t.empty() && std::isupper(static_cast<unsigned char>(t[0])) &&
                            t.find('.') == std::string::npos && t.rfind("re:", 0) != 0;
    if (class_like && t != "Linear")
      return err(where, "target '" + t + "': qbuild quantizes Linear modules only");
  }
  if (w.type != qmath::QuantType::kInt)
    return err(ww, "type float (fp8) is not implemented; use int");
  if (w.dynamic) return err(ww, "dynamic weight quantization is not supported");
  if (w.strategy == Strategy::kToken) return err(ww, "strategy token cannot be applied to weights");
  if (modifier == Modifier::kRtn && w.actorder != ActOrder::kNone)
    return err(ww, "actorder applies to GPTQModifier only");
  if (g.input_activations) {
    const QuantArgs& a = *g.input_activations;
    const std::string aw = where + ".input_activations";
    if (a.type != qmath::QuantType::kInt)
      return err(aw, "type float (fp8) is not implemented; use int");
    if (a.strategy == Strategy::kChannel)
      return err(aw, "input activations cannot be quantized per channel; use strategy token "
                     "(dynamic) or tensor (static)");
    if (a.strategy == Strategy::kToken && !a.dynamic)
      return err(aw, "strategy token requires dynamic: true");
    if (a.dynamic && a.strategy != Strategy::kToken)
      return err(aw, std::string("vLLM cannot load int8 activations quantized dynamic per-") +
                         qmath::strategy_name(a.strategy) + "; use dynamic per-token or static "
                         "per-tensor");
    if (!a.dynamic && a.strategy != Strategy::kTensor)
      return err(aw, std::string("vLLM cannot load int8 activations quantized static per-") +
                         qmath::strategy_name(a.strategy) + "; use static per-tensor or dynamic "
                         "per-token");
    if (a.num_bits != 8) return err(aw, "input activations must be 8-bit");
    if (!a.symmetric) return err(aw, "asymmetric input activations are not supported");
    if (w.num_bits != 8) return err(ww, "W8A8 int8 needs 8-bit weights (vLLM)");
    if (!w.symmetric) return err(ww, "W8A8 int8 needs symmetric weights (vLLM)");
    if (w.strategy == Strategy::kGroup)
      return err(ww, "vLLM cannot load W8A8 int8 with per-group weights; use channel or tensor");
  } else {
    if (w.num_bits != 4 && w.num_bits != 8)
      return err(ww, "weight-only quantization supports 4 or 8 bits (vLLM), got " +
                         std::to_string(w.num_bits));
    if (w.strategy == Strategy::kTensor)
      return err(ww, "vLLM cannot load weight-only int quantization per tensor; use channel or "
                     "group");
    if (!w.symmetric) return err(ww, "asymmetric weight-only quantization is not supported");
  }
  return Status::ok();
}

Result<QuantRecipe> recipe_from_json(const json& p) {
  QB_TRY(check_keys(p, {"modifier", "config_groups", "scheme", "targets", "ignore",
                        "save_compressed", "block_size", "dampening_frac", "actorder",
                        "calibration"},
                    ""));
  QuantRecipe r;
  QB_ASSIGN_OR_RETURN(auto modifier, read_string(p, "modifier", ""));
  if (!modifier) return err("", "missing 'modifier' (QuantizationModifier or GPTQModifier)");
  if (*modifier == "QuantizationModifier") {
    r.modifier = Modifier::kRtn;
  } else if (*modifier == "GPTQModifier") {
    r.modifier = Modifier::kGptq;
  } else {
    return err("", "unknown modifier '" + *modifier +
                       "' (expected QuantizationModifier or GPTQModifier)");
  }
  const bool gptq = r.modifier == Modifier::kGptq;
  if (!gptq)
    for (const char* k : {"block_size", "dampening_frac", "actorder"})
      if (p.contains(k)) return err("", std::string("'") + k + "' applies to GPTQModifier only");

  const bool has_groups = p.contains("config_groups") && !p["config_groups"].is_null();
  const bool has_scheme = p.contains("scheme") && !p["scheme"].is_null();
  if (has_groups && has_scheme) return err("", "give either 'scheme' or 'config_groups', not both");
  if (!has_groups && !has_scheme) return err("", "missing 'config_groups' or 'scheme'");
  std::vector<bool> actorder_given;
  if (has_scheme) {
    QB_ASSIGN_OR_RETURN(auto scheme, read_string(p, "scheme", ""));
    QB_ASSIGN_OR_RETURN(auto targets, read_string_list(p, "targets", ""));
    if (!p.contains("targets")) targets = {"Linear"};
    QB_ASSIGN_OR_RETURN(auto g, preset_group(*scheme, targets));
    r.groups.push_back(std::move(g));
    actorder_given.push_back(false);
  } else {
    const auto& cg = p["config_groups"];
    if (!cg.is_object() || cg.empty()) return err("config_groups", "must be a non-empty object");
    for (const auto& [name, gj] : cg.items()) {
      const std::string where = "config_groups." + name;
      QB_TRY(check_keys(gj, {"targets", "weights", "input_activations", "output_activations",
                             "format"},
                        where));
      ConfigGroup g;
      g.name = name;
      QB_ASSIGN_OR_RETURN(g.targets, read_string_list(gj, "targets", where));
      if (!gj.contains("weights") || gj["weights"].is_null())
        return err(where, "needs 'weights': activation-only quantization is not supported");
      bool given = false;
      QB_ASSIGN_OR_RETURN(g.weights, parse_args(gj["weights"], where + ".weights", true, &given));
      if (gj.contains("input_activations") && !gj["input_activations"].is_null()) {
        QB_ASSIGN_OR_RETURN(auto a, parse_args(gj["input_activations"],
                                               where + ".input_activations", false, nullptr));
        g.input_activations = a;
      }
      if (gj.contains("output_activations") && !gj["output_activations"].is_null())
        return err(where, "output activation quantization is not supported");
      if (gj.contains("format") && !gj["format"].is_null())
        return err(where, "'format' is chosen by qbuild (int-quantized or pack-quantized)");
      r.groups.push_back(std::move(g));
      actorder_given.push_back(given);
    }
  }
  QB_ASSIGN_OR_RETURN(r.ignore, read_string_list(p, "ignore", ""));
  QB_TRY(read_bool(p, "save_compressed", r.save_compressed, ""));

  if (gptq) {
    QB_TRY(read_int(p, "block_size", r.block_size, ""));
    if (r.block_size < 1) return err("", "block_size must be >= 1");
    QB_TRY(read_double(p, "dampening_frac", r.dampening_frac, ""));
    if (!(r.dampening_frac >= 0 && r.dampening_frac < 1))
      return err("", "dampening_frac must be in [0, 1)");
    // GPTQModifier.actorder (default "static") fills groups that do not set it; a conflicting
    // explicit group value is an error, as in llm-compressor 0.14.
    std::optional<ActOrder> modifier_order;
    if (p.contains("actorder")) {
      const auto& ao = p["actorder"];
      if (ao.is_null() || (ao.is_boolean() && !ao.get<bool>())) {
        modifier_order = ActOrder::kNone;
      } else if (ao.is_string()) {
        QB_ASSIGN_OR_RETURN_CTX(modifier_order, qmath::parse_actorder(ao.get<std::string>()),
                                "recipe");
      } else {
        return err("", "'actorder' must be 'weight', 'static' or null");
      }
    }
    for (std::size_t i = 0; i < r.groups.size(); ++i) {
      auto& w = r.groups[i].weights;
      if (!actorder_given[i]) {
        w.actorder = modifier_order.value_or(ActOrder::kWeight);
      } else if (modifier_order && *modifier_order != w.actorder) {
        return err("config_groups." + r.groups[i].name + ".weights",
                   "actorder conflicts with GPTQModifier's actorder; set only one of them");
      }
    }
  }
  std::set<std::string> names;
  for (const auto& g : r.groups) {
    QB_TRY(validate_group(g, r.modifier, "config_groups." + g.name));
    names.insert(g.name);
  }

  if (p.contains("calibration") && !p["calibration"].is_null()) {
    const auto& c = p["calibration"];
    QB_TRY(check_keys(c, {"source_kind", "num_samples", "seq_len", "seed"}, "calibration"));
    CalibrationSettings cs;
    QB_ASSIGN_OR_RETURN(auto kind, read_string(c, "source_kind", "calibration"));
    if (kind) cs.source_kind = *kind;
    if (cs.source_kind != "txt" && cs.source_kind != "jsonl" && cs.source_kind != "dataset")
      return err("calibration", "source_kind must be txt, jsonl or dataset, got '" +
                                    cs.source_kind + "'");
    QB_TRY(read_int(c, "num_samples", cs.num_samples, "calibration"));
    QB_TRY(read_int(c, "seq_len", cs.seq_len, "calibration"));
    std::int64_t seed = 0;
    QB_TRY(read_int(c, "seed", seed, "calibration"));
    if (cs.num_samples < 1) return err("calibration", "num_samples must be >= 1");
    if (cs.seq_len < 1) return err("calibration", "seq_len must be >= 1");
    if (seed < 0) return err("calibration", "seed must be >= 0");
    cs.seed = static_cast<std::uint64_t>(seed);
    r.calibration = cs;
  }
  if (r.needs_calibration() && !r.calibration)
    return err("", std::string(gptq ? "GPTQModifier" : "static input activations") +
                       " need calibration data: add 'calibration'");
  return r;
}

}  // namespace qb::quant
