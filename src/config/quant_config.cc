// pipline/2-quant/*.yaml → QuantSpec: llm-compressor's QuantizationModifier / GPTQModifier
// recipe shape, validated the way compressed-tensors 0.19 and vLLM would, then written out as
// canonical params with every default spelled out (see specs.h for the JSON shape and
// pipline/README.md for the field reference).
//
// Conventions fixed here and recorded in params (the quantizer and the runtime implement them):
//   - static scales (weights, static activations), symmetric: absmax / ((2^bits - 1) / 2), i.e.
//     absmax/127.5 for int8 — llm-compressor's calibration; asymmetric: (max - min)/(2^bits - 1)
//     with the range widened to include 0;
//   - dynamic per-token activation scales: absmax / (2^(bits-1) - 1) = absmax/127, as vLLM's
//     int8 kernel computes them at run time;
//   - rounding half-to-even everywhere;
//   - observers: weights memoryless_minmax (llm-compressor always uses a memoryless observer for
//     weights), static activations static_minmax unless written — llm-compressor 0.14 would pick
//     its moving-average "minmax" when none is given; we choose the global min/max that its
//     maintainers recommend for static activations and make it explicit.
#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "config/fields.h"
#include "config/parsers.h"

namespace qb::config {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

const std::vector<std::string_view> kTopKeys = {"name", "output_suffix", "quant_modifiers",
                                                "save_compressed", "calibration"};
const std::vector<std::string_view> kModifiers = {"QuantizationModifier", "GPTQModifier"};
const std::vector<std::string_view> kRtnKeys = {"config_groups", "scheme", "targets", "ignore"};
const std::vector<std::string_view> kGptqKeys = {"config_groups", "scheme",     "targets",
                                                 "ignore",        "block_size", "dampening_frac",
                                                 "actorder"};
const std::vector<std::string_view> kGroupKeys = {"targets", "weights", "input_activations"};
const std::vector<std::string_view> kWeightKeys = {"num_bits", "type",     "symmetric",
                                                   "strategy", "group_size", "dynamic",
                                                   "observer", "actorder"};
const std::vector<std::string_view> kActKeys = {"num_bits",   "type",    "symmetric", "strategy",
                                                "group_size", "dynamic", "observer"};
const std::vector<std::string_view> kCalibKeys = {"source", "num_samples", "seq_len", "seed"};
const std::vector<std::string_view> kSchemes = {"W8A8", "W8A16", "W4A16"};
const std::vector<std::string_view> kWeightStrategies = {"tensor", "channel", "group"};
const std::vector<std::string_view> kActStrategies = {"tensor", "channel", "group", "token"};
const std::vector<std::string_view> kWeightObservers = {"memoryless_minmax", "minmax",
                                                        "static_minmax", "mse", "memoryless_mse"};
const std::vector<std::string_view> kActObservers = {"static_minmax", "minmax",
                                                     "memoryless_minmax", "mse", "memoryless_mse"};

constexpr std::int64_t kDefaultBlockSize = 128;
constexpr double kDefaultDampeningFrac = 0.01;
constexpr const char* kDefaultActObserver = "static_minmax";
constexpr const char* kWeightObserver = "memoryless_minmax";

// Activation ordering as written: absent, null/false ("none"), or "weight" (alias "static").
struct ActOrder {
  bool given = false;
  std::optional<std::string> value;  // "weight" or nullopt (none)
  SourceLoc loc;
};

// One quantization-args block after validation, before canonical JSON.
struct QArgs {
  std::int64_t num_bits = 8;
  bool symmetric = true;
  std::string strategy = "tensor";
  std::optional<std::int64_t> group_size;
  bool dynamic = false;
  std::optional<std::string> observer;
  ActOrder actorder;
  // Where compatibility errors about this block point: the field when written, else the block.
  SourceLoc bits_loc, strategy_loc, symmetric_loc;
};

struct Group {
  std::vector<std::string> targets;
  QArgs weights;
  std::optional<QArgs> acts;
};

json observer_kwargs(const std::optional<std::string>& observer) {
  json kw = json::object();
  if (!observer) return kw;
  if (*observer == "minmax" || *observer == "mse") kw["averaging_constant"] = 0.01;
  if (*observer == "mse" || *observer == "memoryless_mse") {
    kw["maxshrink"] = 0.2;
    kw["patience"] = std::int64_t{5};
    kw["grid"] = 100.0;
    kw["norm"] = 2.4;
  }
  return kw;
}

json args_json(const QArgs& a, bool weights, bool gptq) {
  std::string scale_rule = a.dynamic ? "absmax/(2^(bits-1)-1)"
                           : a.symmetric ? "absmax/((2^bits-1)/2)"
                                         : "(max-min)/(2^bits-1)";
  json j = {{"num_bits", a.num_bits},
            {"type", "int"},
            {"symmetric", a.symmetric},
            {"strategy", a.strategy},
            {"group_size", a.group_size ? json(*a.group_size) : json(nullptr)},
            {"dynamic", a.dynamic},
            {"observer", a.observer ? json(*a.observer) : json(nullptr)},
            {"observer_kwargs", observer_kwargs(a.observer)},
            {"scale_rule", scale_rule},
            {"rounding", "half_even"}};
  if (weights && gptq) j["actorder"] = a.actorder.value ? json(*a.actorder.value) : json(nullptr);
  return j;
}

std::optional<ActOrder> read_actorder(FileContext& c, const Node& n) {
  ActOrder out;
  out.given = true;
  out.loc = n.loc;
  if (n.is_null()) return out;
  if (n.is_scalar() && n.plain && (n.text == "false" || n.text == "False" || n.text == "FALSE"))
    return out;
  if (n.is_scalar() && n.plain && (n.text == "true" || n.text == "True" || n.text == "TRUE")) {
    c.diags.error(n.loc,
                  "'actorder: true' is not accepted: it meant 'group', which compressed-tensors "
                  "0.19 removed; use 'weight' (alias 'static') or false");
    return std::nullopt;
  }
  if (n.is_scalar() && (n.text == "group" || n.text == "dynamic")) {
    c.diags.error(n.loc, fmt::format("actorder '{}' was removed in compressed-tensors 0.19; use "
                                     "'weight' (alias 'static') or null",
                                     n.text));
    return std::nullopt;
  }
  auto v = read_enum(c.diags, n, "actorder", {"weight", "static", "null", "false"});
  if (!v) return std::nullopt;
  if (*v == "weight" || *v == "static") out.value = "weight";
  return out;  // a quoted "null"/"false" reads as none too
}

// strategy + group_size with compressed-tensors' inference: no strategy and no group_size →
// tensor; group_size > 0 → group; group_size -1 → channel.
bool read_strategy(FileContext& c, MapReader& r, const std::vector<std::string_view>& allowed,
                   QArgs& a) {
  int before = c.diags.error_count();
  auto strategy = r.get_enum("strategy", allowed, std::nullopt, /*ignore_case=*/true);
  auto gs = r.get_int("group_size");
  if (c.diags.error_count() != before) return false;
  const Node* gs_node = r.find("group_size");
  if (gs && (*gs == 0 || *gs < -1)) {
    c.diags.error(gs_node->loc, fmt::format("invalid group_size {}: use a positive value with "
                                            "strategy 'group', or -1 for 'channel'",
                                            *gs));
    return false;
  }
  if (!strategy) {
    a.strategy = !gs ? "tensor" : (*gs > 0 ? "group" : "channel");
  } else {
    a.strategy = *strategy;
    const SourceLoc& sloc = r.find("strategy")->loc;
    if (a.strategy == "group" && !gs) {
      c.diags.error(sloc, "strategy 'group' requires a positive 'group_size'");
      return false;
    }
    if (gs && *gs > 0 && a.strategy != "group") {
      c.diags.error(gs_node->loc,
                    fmt::format("'group_size' requires strategy 'group' (got '{}')", a.strategy));
      return false;
    }
    if (gs && *gs == -1 && a.strategy != "channel") {
      c.diags.error(gs_node->loc,
                    fmt::format("'group_size: -1' means per-channel; it conflicts with strategy "
                                "'{}'",
                                a.strategy));
      return false;
    }
  }
  if (a.strategy == "group") a.group_size = gs;
  return true;
}

// The fields both blocks share: type, num_bits (allowed set), symmetric, dynamic, strategy.
bool read_common(FileContext& c, MapReader& r, const SourceLoc& block_loc,
                 const std::vector<std::int64_t>& allowed_bits, std::string_view what,
                 const std::vector<std::string_view>& strategies, QArgs& a) {
  int before = c.diags.error_count();
  r.get_enum("type", {"int"}, "int", /*ignore_case=*/true);
  auto loc_of = [&](std::string_view key) {
    const Node* n = r.find(key);
    return n ? n->loc : block_loc;
  };
  a.bits_loc = loc_of("num_bits");
  a.strategy_loc = loc_of("strategy");
  a.symmetric_loc = loc_of("symmetric");
  if (auto bits = r.get_int("num_bits", 8)) {
    a.num_bits = *bits;
    if (std::find(allowed_bits.begin(), allowed_bits.end(), *bits) == allowed_bits.end()) {
      std::string list;
      for (auto b : allowed_bits) list += (list.empty() ? "" : ", ") + std::to_string(b);
      c.diags.error(a.bits_loc, fmt::format("num_bits {} is not supported for {} (allowed: {})",
                                            *bits, what, list));
    }
  }
  a.symmetric = r.get_bool("symmetric", true).value_or(true);
  a.dynamic = r.get_bool("dynamic", false).value_or(false);
  read_strategy(c, r, strategies, a);
  return c.diags.error_count() == before;
}

std::optional<QArgs> parse_weights(FileContext& c, const Node& node, const SourceLoc& key_loc,
                                   bool gptq) {
  int before = c.diags.error_count();
  MapReader r(c.diags, node, "weights", key_loc, kWeightKeys);
  if (!r.is_mapping()) return std::nullopt;
  QArgs a;
  read_common(c, r, key_loc, {4, 8}, "int weights", kWeightStrategies, a);
  if (a.dynamic) {
    c.diags.error(r.find("dynamic")->loc,
                  "dynamic weight quantization is not supported: weights are quantized once, "
                  "offline");
  }
  // Weights are observed once, so llm-compressor swaps any observer for its memoryless twin.
  a.observer = kWeightObserver;
  if (const Node* n = r.find("observer"); n && !n->is_null()) {
    if (auto o = read_enum(c.diags, *n, "observer", kWeightObservers))
      a.observer = (*o == "mse" || *o == "memoryless_mse") ? "memoryless_mse" : kWeightObserver;
  }
  if (const Node* n = r.find("actorder")) {
    if (gptq) {
      if (auto ao = read_actorder(c, *n)) a.actorder = *ao;
    } else {
      c.diags.warning(r.find_key("actorder")->loc,
                      "'actorder' has no effect with QuantizationModifier (it orders GPTQ's "
                      "columns); ignored");
    }
  }
  if (c.diags.error_count() != before) return std::nullopt;
  return a;
}

std::optional<QArgs> parse_acts(FileContext& c, const Node& node, const SourceLoc& key_loc) {
  int before = c.diags.error_count();
  MapReader r(c.diags, node, "input_activations", key_loc, kActKeys);
  if (!r.is_mapping()) return std::nullopt;
  QArgs a;
  if (!read_common(c, r, key_loc, {8}, "input activations", kActStrategies, a))
    return std::nullopt;
  if (!a.symmetric) {
    c.diags.error(a.symmetric_loc,
                  "asymmetric input activations are not supported; use 'symmetric: true'");
  }
  if (a.strategy == "channel") {
    c.diags.error(a.strategy_loc,
                  "input activations cannot be quantized per channel; use strategy 'token' "
                  "(dynamic) or 'tensor' (static)");
  } else if (a.strategy == "token" && !a.dynamic) {
    c.diags.error(a.strategy_loc, "strategy 'token' requires 'dynamic: true'");
  } else if (!(a.strategy == "tensor" && !a.dynamic) && !(a.strategy == "token" && a.dynamic)) {
    c.diags.error(a.strategy_loc,
                  fmt::format("vLLM cannot load int8 activations quantized {} per-{}; use static "
                              "per-tensor (strategy: tensor, dynamic: false) or dynamic "
                              "per-token (strategy: token, dynamic: true)",
                              a.dynamic ? "dynamic" : "static", a.strategy));
  }
  const Node* obs = r.find("observer");
  if (a.dynamic) {
    if (obs && !obs->is_null())
      c.diags.warning(r.find_key("observer")->loc,
                      "'observer' is ignored for dynamic activations (their scales are computed "
                      "at run time)");
  } else {
    a.observer = kDefaultActObserver;
    if (obs && !obs->is_null()) {
      if (auto o = read_enum(c.diags, *obs, "observer", kActObservers)) a.observer = *o;
    }
  }
  if (c.diags.error_count() != before) return std::nullopt;
  return a;
}

// vLLM's loaders: W8A8 int8 (CompressedTensorsW8A8Int8) needs 8-bit symmetric per-tensor or
// per-channel weights; weight-only (CompressedTensorsWNA16) needs per-channel or per-group.
void check_loadable(FileContext& c, const Group& g) {
  const QArgs& w = g.weights;
  if (g.acts) {
    if (w.num_bits != 8)
      c.diags.error(w.bits_loc, fmt::format("vLLM cannot load int8 activations with {}-bit "
                                            "weights; W8A8 needs 'num_bits: 8' for weights",
                                            w.num_bits));
    if (w.strategy == "group")
      c.diags.error(w.strategy_loc, "vLLM cannot load W8A8 int8 with per-group weights; use "
                                    "strategy 'channel' or 'tensor'");
    if (!w.symmetric)
      c.diags.error(w.symmetric_loc,
                    "vLLM cannot load W8A8 int8 with asymmetric weights; use 'symmetric: true'");
  } else if (w.strategy == "tensor") {
    c.diags.error(w.strategy_loc, "vLLM cannot load weight-only int quantization per tensor; use strategy "
                  "'channel' or 'group'");
  }
}

std::optional<Group> parse_group(FileContext& c, const std::string& name, const Node& node,
                                 const SourceLoc& key_loc, bool gptq) {
  int before = c.diags.error_count();
  MapReader r(c.diags, node, name, key_loc, kGroupKeys);
  if (!r.is_mapping()) return std::nullopt;
  Group g;
  if (const Node* t = r.require("targets")) {
    if (auto v = read_string_list(c.diags, *t, "targets")) {
      if (v->empty()) c.diags.error(t->loc, "'targets' must not be empty");
      g.targets = *v;
    }
  }
  const Node* w = r.require("weights");
  if (w) {
    if (w->is_null()) {
      c.diags.error(w->loc, fmt::format("config group '{}' needs 'weights': activation-only "
                                        "quantization is not supported",
                                        name));
    } else if (auto a = parse_weights(c, *w, r.find_key("weights")->loc, gptq)) {
      g.weights = *a;
    }
  }
  if (const Node* a = r.find("input_activations"); a && !a->is_null()) {
    g.acts = parse_acts(c, *a, r.find_key("input_activations")->loc);
  }
  if (c.diags.error_count() != before) return std::nullopt;
  check_loadable(c, g);
  if (c.diags.error_count() != before) return std::nullopt;
  return g;
}

// compressed-tensors 0.19's presets (quant_scheme.py), restricted to what qbuild runs.
// W8A16 is group-128 there (older releases used per-channel); we follow the pinned version.
Group expand_scheme(const std::string& scheme, std::vector<std::string> targets) {
  Group g;
  g.targets = std::move(targets);
  g.weights.observer = kWeightObserver;
  if (scheme == "W8A8") {
    g.weights.strategy = "channel";
    QArgs a;
    a.strategy = "token";
    a.dynamic = true;
    g.acts = a;
  } else {
    g.weights.num_bits = scheme == "W4A16" ? 4 : 8;
    g.weights.strategy = "group";
    g.weights.group_size = 128;
  }
  return g;
}

struct Modifier {
  json params;
  bool needs_calibration = false;
  std::string reason;  // why calibration is needed
};

std::optional<Modifier> parse_modifier(FileContext& c, const std::string& kind, const Node& node,
                                       const SourceLoc& key_loc) {
  bool gptq = kind == "GPTQModifier";
  int before = c.diags.error_count();
  MapReader r(c.diags, node, kind, key_loc, gptq ? kGptqKeys : kRtnKeys);
  if (!r.is_mapping()) return std::nullopt;

  std::vector<std::pair<std::string, Group>> groups;  // name → group
  const Node* cg = r.find("config_groups");
  const Node* scheme = r.find("scheme");
  if (cg && scheme) {
    c.diags.error(r.find_key("scheme")->loc,
                  "give either 'scheme' or 'config_groups', not both");
  } else if (!cg && !scheme) {
    c.diags.error(key_loc, fmt::format("missing 'config_groups' or 'scheme' in '{}'", kind));
  } else if (scheme) {
    std::vector<std::string> targets = {"Linear"};
    if (const Node* t = r.find("targets")) {
      if (auto v = read_string_list(c.diags, *t, "targets")) {
        if (v->empty()) c.diags.error(t->loc, "'targets' must not be empty");
        targets = *v;
      }
    }
    if (auto s = read_enum(c.diags, *scheme, "scheme", kSchemes, /*ignore_case=*/true))
      groups.emplace_back("group_0", expand_scheme(*s, targets));
  } else {
    if (const Node* t = r.find_key("targets"))
      c.diags.warning(t->loc, "'targets' is ignored when 'config_groups' is given (each group "
                              "has its own targets)");
    if (cg->is_null() || (cg->is_mapping() && cg->entries.empty())) {
      c.diags.error(cg->is_null() ? r.find_key("config_groups")->loc : cg->loc,
                    "'config_groups' is empty");
    } else if (!cg->is_mapping()) {
      c.diags.error(cg->loc, "expected a mapping for 'config_groups', got " + describe(*cg));
    }
    std::map<std::string, SourceLoc> seen;
    for (const auto& [k, v] : cg->entries) {
      if (!k.is_scalar()) {
        c.diags.error(k.loc, "expected a group name, got " + describe(k));
      } else if (auto it = seen.find(k.text); it != seen.end()) {
        c.diags.error(k.loc, "duplicate key '" + k.text + "'")
            .notes.push_back(Diagnostics::note(it->second, "first defined here"));
      } else {
        seen.emplace(k.text, k.loc);
        if (auto g = parse_group(c, k.text, v, k.loc, gptq)) groups.emplace_back(k.text, *g);
      }
    }
  }

  std::vector<std::string> ignore;
  if (const Node* n = r.find("ignore"))
    ignore = read_string_list(c.diags, *n, "ignore").value_or(std::vector<std::string>{});
  std::sort(ignore.begin(), ignore.end());
  ignore.erase(std::unique(ignore.begin(), ignore.end()), ignore.end());

  Modifier m;
  m.params["modifier"] = kind;
  if (gptq) {
    m.params["block_size"] = r.get_positive_int("block_size", kDefaultBlockSize).value_or(0);
    auto damp = r.get_float("dampening_frac", kDefaultDampeningFrac);
    if (damp && (*damp < 0 || *damp >= 1)) {
      c.diags.error(r.find("dampening_frac")->loc,
                    fmt::format("'dampening_frac' must be in [0, 1), got {}",
                                r.find("dampening_frac")->text));
    }
    m.params["dampening_frac"] = damp.value_or(0.0);
    // llm-compressor 0.14's GPTQModifier.actorder defaults to "static" (= "weight") and fills
    // every group whose weights leave actorder unset — a group-level null counts as unset.
    std::optional<ActOrder> modifier_order;
    if (const Node* n = r.find("actorder")) modifier_order = read_actorder(c, *n);
    for (auto& [name, g] : groups) {
      ActOrder& go = g.weights.actorder;
      bool group_set = go.given && go.value.has_value();
      if (!modifier_order) {
        if (go.given && !go.value)
          c.diags.warning(go.loc,
                          "'actorder: null' in a config group does not turn activation ordering "
                          "off (llm-compressor 0.14 applies GPTQModifier's default 'static'); set "
                          "'actorder: null' on GPTQModifier instead");
        if (!group_set) go.value = "weight";
      } else if (group_set && go.value != modifier_order->value) {
        c.diags.error(go.loc, fmt::format("actorder '{}' in group '{}' conflicts with "
                                          "GPTQModifier's actorder '{}'; set only one of them",
                                          *go.value, name,
                                          modifier_order->value.value_or("null")));
      } else {
        go.value = modifier_order->value;
      }
    }
  }

  json groups_json = json::object();
  for (auto& [name, g] : groups) {
    std::sort(g.targets.begin(), g.targets.end());
    g.targets.erase(std::unique(g.targets.begin(), g.targets.end()), g.targets.end());
    groups_json[name] = {
        {"targets", g.targets},
        {"weights", args_json(g.weights, true, gptq)},
        {"input_activations", g.acts ? args_json(*g.acts, false, gptq) : json(nullptr)}};
    if (g.acts && !g.acts->dynamic && !m.needs_calibration) {
      m.needs_calibration = true;
      m.reason = "static input activations need";
    }
  }
  if (gptq) {
    m.needs_calibration = true;
    m.reason = "GPTQModifier needs";
  }
  m.params["config_groups"] = groups_json;
  m.params["ignore"] = ignore;
  if (c.diags.error_count() != before) return std::nullopt;
  return m;
}

std::optional<CalibrationSpec> parse_calibration(FileContext& c, const Node& node,
                                                 const SourceLoc& key_loc) {
  int before = c.diags.error_count();
  MapReader r(c.diags, node, "calibration", key_loc, kCalibKeys);
  if (!r.is_mapping()) return std::nullopt;
  CalibrationSpec cal;
  if (const Node* s = r.require("source")) {
    if (auto v = read_string(c.diags, *s, "source")) {
      cal.source = normalize_rel_path(*v);
      std::error_code ec;
      stdfs::path p = c.root / cal.source;
      auto st = stdfs::status(p, ec);
      if (ec || !stdfs::exists(st)) {
        c.diags.error(s->loc, fmt::format("calibration source '{}' does not exist; see data/HELP.md for how to get it", cal.source));
      } else if (stdfs::is_directory(st)) {
        // The quantize step reads only text calibration files; say so here, not mid-build.
        c.diags.error(s->loc, fmt::format("calibration source '{}' is a directory; calibration "
                                          "reads a .txt or .jsonl file (dataset directories are "
                                          "not supported)",
                                          cal.source));
      } else if (p.extension() == ".txt") {
        cal.source_kind = "txt";
      } else if (p.extension() == ".jsonl") {
        cal.source_kind = "jsonl";
      } else {
        c.diags.error(s->loc, fmt::format("calibration source '{}' must be a .txt or .jsonl file",
                                          cal.source));
      }
    }
  }
  cal.num_samples = r.get_positive_int("num_samples", 512).value_or(0);
  cal.seq_len = r.get_positive_int("seq_len", 2048).value_or(0);
  cal.seed = r.get_non_negative_int("seed", 0).value_or(0);
  if (c.diags.error_count() != before) return std::nullopt;
  return cal;
}

}  // namespace

QuantSpec parse_quant(FileContext& c, const Node& root) {
  MapReader top(c.diags, root, "", c.whole_file(), kTopKeys);
  QuantSpec spec;
  spec.loc = c.whole_file();
  spec.name = read_name(c, top, "name", spec.loc);
  if (const Node* n = top.require("output_suffix"))
    spec.output_suffix = read_suffix(c, *n).value_or("");
  bool save_compressed = top.get_bool("save_compressed", true).value_or(true);

  std::optional<Modifier> mod;
  SourceLoc mod_loc = c.whole_file();
  if (const Node* qm = top.require("quant_modifiers")) {
    MapReader mods(c.diags, *qm, "quant_modifiers", top.find_key("quant_modifiers")->loc,
                   kModifiers);
    std::vector<std::string> kinds = mods.keys();
    if (kinds.empty() && mods.is_mapping()) {
      c.diags.error(top.find_key("quant_modifiers")->loc,
                    "'quant_modifiers' needs one of QuantizationModifier, GPTQModifier");
    } else if (kinds.size() > 1) {
      c.diags.error(mods.find_key(kinds[1])->loc,
                    fmt::format("one modifier per recipe: '{}' cannot follow '{}'", kinds[1],
                                kinds[0]));
    } else if (kinds.size() == 1) {
      spec.modifier = kinds[0];
      mod_loc = mods.find_key(kinds[0])->loc;
      mod = parse_modifier(c, kinds[0], *mods.find(kinds[0]), mod_loc);
    }
  }

  const Node* cal_node = top.find("calibration");
  std::optional<CalibrationSpec> cal;
  if (cal_node) cal = parse_calibration(c, *cal_node, top.find_key("calibration")->loc);
  if (mod) {
    spec.params = mod->params;
    spec.params["save_compressed"] = save_compressed;
    spec.needs_calibration = mod->needs_calibration;
    if (mod->needs_calibration) {
      if (!cal_node) {
        c.diags.error(mod_loc, mod->reason + " calibration data: add a 'calibration' section "
                                             "with a 'source'");
      } else if (cal) {
        spec.calibration = cal;
        spec.params["calibration"] = {{"source_kind", cal->source_kind},
                                      {"num_samples", cal->num_samples},
                                      {"seq_len", cal->seq_len},
                                      {"seed", cal->seed}};
      }
    } else if (cal_node) {
      c.diags.warning(top.find_key("calibration")->loc,
                      "'calibration' is not used: this recipe has no static activations and is "
                      "not GPTQ");
    }
  }
  return spec;
}

}  // namespace qb::config
