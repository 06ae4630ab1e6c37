// pipline/2-quant/*.yaml → QuantSpec: llm-compressor's QuantizationModifier / GPTQModifier
// recipe shape read into the typed spec::QuantRecipe (field reference: pipline/README.md).
// `quant_modifiers` is one modifier or several in order, written as llm-compressor recipes
// write them — a mapping ({SmoothQuantModifier: {...}, GPTQModifier: {...}}, in file order) or
// a list of one-key mappings ([{SmoothQuantModifier: {...}}, {GPTQModifier: {...}}]): any
// SmoothQuantModifier / AWQModifier stages (spec/smoothing.h), then one quantization modifier.
//
// This file reads YAML: types, unknown keys, the user-level spellings (a `scheme:` preset,
// strategy inferred from group_size, actorder aliases and GPTQModifier-level actorder, observer
// names mapped to what llm-compressor runs) and the calibration file on disk. Every rule of a
// recipe itself — what compressed-tensors and vLLM accept, bounds — is QuantRecipe::validate()
// (src/spec/quant_recipe.cc), the one the step re-checks; its findings are reported here at the
// YAML location of the field (LocMap). Defaults are the spec's member initializers.
#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "config/fields.h"
#include "config/loc_map.h"
#include "config/parsers.h"
#include "config/sources.h"

namespace qb::config {
namespace {

namespace stdfs = std::filesystem;
using spec::ActOrder;
using spec::ObserverKind;
using spec::QuantArgs;
using spec::Strategy;

const std::vector<std::string_view> kTopKeys = {"name", "output_suffix", "quant_modifiers",
                                                "save_compressed", "calibration"};
const std::vector<std::string_view> kModifiers = {"QuantizationModifier", "GPTQModifier", "SmoothQuantModifier",
                                                  "AWQModifier"};
const std::vector<std::string_view> kSmoothQuantKeys = {"smoothing_strength", "mappings", "ignore"};
const std::vector<std::string_view> kAwqKeys = {"mappings", "duo_scaling", "n_grid"};
const std::vector<std::string_view> kMappingKeys = {"smooth_layer", "balance_layers"};
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
const std::vector<std::string_view> kTypes = {"int", "float"};
const std::vector<std::string_view> kWeightStrategies = {"tensor", "channel", "group"};
const std::vector<std::string_view> kActStrategies = {"tensor", "channel", "group", "token"};
const std::vector<std::string_view> kObservers = {"static_minmax", "minmax", "memoryless_minmax",
                                                  "mse", "memoryless_mse"};

// The observer static activations get when none is written (see spec/quant_recipe.h).
constexpr ObserverKind kDefaultActObserver = ObserverKind::kStaticMinMax;

std::vector<std::string_view> scheme_names() {
  std::vector<std::string_view> v;
  for (const auto& p : spec::scheme_presets()) v.push_back(p.name);
  return v;
}

// Activation ordering as written: absent, null/false (none), or "weight" (alias "static").
struct ActOrderIn {
  bool given = false;
  std::optional<ActOrder> value;  // kWeight, or nullopt for none
  SourceLoc loc;
};

std::optional<ActOrderIn> read_actorder(FileContext& c, const Node& n) {
  ActOrderIn out;
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
  if (*v == "weight" || *v == "static") out.value = ActOrder::kWeight;
  return out;  // a quoted "null"/"false" reads as none too
}

// strategy + group_size with compressed-tensors' inference: no strategy and no group_size →
// tensor; group_size > 0 → group; group_size -1 → channel.
bool read_strategy(FileContext& c, MapReader& r, const std::vector<std::string_view>& allowed,
                   QuantArgs& a) {
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
  std::string s;
  if (!strategy) {
    s = !gs ? "tensor" : (*gs > 0 ? "group" : "channel");
  } else {
    s = *strategy;
    const SourceLoc& sloc = r.find("strategy")->loc;
    if (s == "group" && !gs) {
      c.diags.error(sloc, "strategy 'group' requires a positive 'group_size'");
      return false;
    }
    if (gs && *gs > 0 && s != "group") {
      c.diags.error(gs_node->loc, fmt::format("'group_size' requires strategy 'group' (got '{}')", s));
      return false;
    }
    if (gs && *gs == -1 && s != "channel") {
      c.diags.error(gs_node->loc,
                    fmt::format("'group_size: -1' means per-channel; it conflicts with strategy '{}'", s));
      return false;
    }
  }
  a.strategy = *spec::parse_strategy(s);
  a.group_size = s == "group" ? *gs : 0;
  return true;
}

// The fields both blocks share: type, num_bits, symmetric, dynamic, strategy.
bool read_common(FileContext& c, MapReader& r, const std::vector<std::string_view>& strategies,
                 QuantArgs& a) {
  int before = c.diags.error_count();
  if (auto t = r.get_enum("type", kTypes, "int", /*ignore_case=*/true)) a.type = *spec::parse_quant_type(*t);
  if (auto bits = r.get_int("num_bits", 8)) a.num_bits = static_cast<int>(*bits);
  a.symmetric = r.get_bool("symmetric", true).value_or(true);
  a.dynamic = r.get_bool("dynamic", false).value_or(false);
  read_strategy(c, r, strategies, a);
  return c.diags.error_count() == before;
}

std::optional<QuantArgs> parse_weights(FileContext& c, const Node& node, const SourceLoc& key_loc,
                                       bool gptq, ActOrderIn& actorder) {
  int before = c.diags.error_count();
  MapReader r(c.diags, node, "weights", key_loc, kWeightKeys);
  if (!r.is_mapping()) return std::nullopt;
  QuantArgs a;
  read_common(c, r, kWeightStrategies, a);
  // Weights are observed once, so llm-compressor swaps any observer for its memoryless twin.
  a.observer = ObserverKind::kMemorylessMinMax;
  if (const Node* n = r.find("observer"); n && !n->is_null()) {
    if (auto o = read_enum(c.diags, *n, "observer", kObservers))
      if (*o == "mse" || *o == "memoryless_mse") a.observer = ObserverKind::kMemorylessMse;
  }
  if (const Node* n = r.find("actorder")) {
    if (gptq) {
      if (auto ao = read_actorder(c, *n)) actorder = *ao;
    } else {
      c.diags.warning(r.find_key("actorder")->loc,
                      "'actorder' has no effect with QuantizationModifier (it orders GPTQ's "
                      "columns); ignored");
    }
  }
  if (c.diags.error_count() != before) return std::nullopt;
  return a;
}

std::optional<QuantArgs> parse_acts(FileContext& c, const Node& node, const SourceLoc& key_loc) {
  int before = c.diags.error_count();
  MapReader r(c.diags, node, "input_activations", key_loc, kActKeys);
  if (!r.is_mapping()) return std::nullopt;
  QuantArgs a;
  if (!read_common(c, r, kActStrategies, a)) return std::nullopt;
  const Node* obs = r.find("observer");
  if (a.dynamic) {
    if (obs && !obs->is_null())
      c.diags.warning(r.find_key("observer")->loc,
                      "'observer' is ignored for dynamic activations (their scales are computed "
                      "at run time)");
  } else {
    a.observer = kDefaultActObserver;
    if (obs && !obs->is_null()) {
      if (auto o = read_enum(c.diags, *obs, "observer", kObservers)) a.observer = *spec::parse_observer(*o);
    }
  }
  if (c.diags.error_count() != before) return std::nullopt;
  return a;
}

struct GroupIn {
  spec::ConfigGroup group;
  ActOrderIn actorder;
};

std::optional<GroupIn> parse_group(FileContext& c, const std::string& name, const Node& node,
                                   const SourceLoc& key_loc, bool gptq) {
  int before = c.diags.error_count();
  MapReader r(c.diags, node, name, key_loc, kGroupKeys);
  if (!r.is_mapping()) return std::nullopt;
  GroupIn g;
  g.group.name = name;
  if (const Node* t = r.require("targets")) {
    if (auto v = read_string_list(c.diags, *t, "targets")) g.group.targets = *v;
  }
  const Node* w = r.require("weights");
  if (w) {
    if (w->is_null()) {
      c.diags.error(w->loc, fmt::format("config group '{}' needs 'weights': activation-only "
                                        "quantization is not supported",
                                        name));
    } else if (auto a = parse_weights(c, *w, r.find_key("weights")->loc, gptq, g.actorder)) {
      g.group.weights = *a;
    }
  }
  if (const Node* a = r.find("input_activations"); a && !a->is_null()) {
    if (auto acts = parse_acts(c, *a, r.find_key("input_activations")->loc)) g.group.input_activations = *acts;
  }
  if (c.diags.error_count() != before) return std::nullopt;
  return g;
}

void sort_unique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// The modifier's body into `recipe` (groups, ignore, GPTQ fields); locations into `locs`.
void parse_modifier(FileContext& c, spec::QuantRecipe& recipe, const Node& node,
                    const SourceLoc& key_loc, LocMap& locs) {
  const bool gptq = recipe.modifier == spec::Modifier::kGptq;
  const std::string kind = spec::modifier_name(recipe.modifier);
  MapReader r(c.diags, node, kind, key_loc, gptq ? kGptqKeys : kRtnKeys);
  if (!r.is_mapping()) return;

  std::vector<GroupIn> groups;
  const Node* cg = r.find("config_groups");
  const Node* scheme = r.find("scheme");
  if (cg && scheme) {
    c.diags.error(r.find_key("scheme")->loc, "give either 'scheme' or 'config_groups', not both");
  } else if (!cg && !scheme) {
    c.diags.error(key_loc, fmt::format("missing 'config_groups' or 'scheme' in '{}'", kind));
  } else if (scheme) {
    std::vector<std::string> targets = {"Linear"};
    if (const Node* t = r.find("targets")) {
      if (auto v = read_string_list(c.diags, *t, "targets")) targets = *v;
      locs.add_tree("config_groups.group_0.targets", r.find_key("targets"), *t);
    }
    if (auto s = read_enum(c.diags, *scheme, "scheme", scheme_names(), /*ignore_case=*/true)) {
      groups.push_back({spec::preset_group(*spec::find_scheme(*s), targets), {}});
      locs.alias("config_groups.group_0", scheme->loc);
    }
  } else {
    if (const Node* t = r.find_key("targets"))
      c.diags.warning(t->loc, "'targets' is ignored when 'config_groups' is given (each group "
                              "has its own targets)");
    locs.add_tree("config_groups", r.find_key("config_groups"), *cg);
    if (!cg->is_null() && !cg->is_mapping())
      c.diags.error(cg->loc, "expected a mapping for 'config_groups', got " + describe(*cg));
    std::map<std::string, SourceLoc> seen;
    for (const auto& [k, v] : cg->entries) {
      if (!k.is_scalar()) {
        c.diags.error(k.loc, "expected a group name, got " + describe(k));
      } else if (auto it = seen.find(k.text); it != seen.end()) {
        c.diags.error(k.loc, "duplicate key '" + k.text + "'")
            .notes.push_back(Diagnostics::note(it->second, "first defined here"));
      } else {
        seen.emplace(k.text, k.loc);
        if (auto g = parse_group(c, k.text, v, k.loc, gptq)) groups.push_back(std::move(*g));
      }
    }
  }

  const Node* ignore = r.find("ignore");
  if (ignore) recipe.ignore = read_string_list(c.diags, *ignore, "ignore").value_or(std::vector<std::string>{});
  sort_unique(recipe.ignore);
  // The canonical list is sorted: map each entry back to where it was written.
  if (ignore && ignore->is_sequence())
    for (const Node& it : ignore->items) {
      auto pos = std::find(recipe.ignore.begin(), recipe.ignore.end(), it.text);
      if (it.is_scalar() && pos != recipe.ignore.end())
        locs.add(spec::item("ignore", static_cast<std::size_t>(pos - recipe.ignore.begin())), nullptr, it);
    }

  if (gptq) {
    if (auto b = r.get_int("block_size", recipe.block_size)) recipe.block_size = *b;
    if (auto d = r.get_float("dampening_frac", recipe.dampening_frac)) recipe.dampening_frac = *d;
    for (const char* f : {"block_size", "dampening_frac"})
      if (const Node* v = r.find(f)) locs.add(f, r.find_key(f), *v);
    // llm-compressor 0.14's GPTQModifier.actorder defaults to "static" (= "weight") and fills
    // every group whose weights leave actorder unset — a group-level null counts as unset.
    std::optional<ActOrderIn> modifier_order;
    if (const Node* n = r.find("actorder")) modifier_order = read_actorder(c, *n);
    for (auto& g : groups) {
      ActOrderIn& go = g.actorder;
      const bool group_set = go.given && go.value.has_value();
      ActOrder& out = g.group.weights.actorder;
      if (!modifier_order) {
        if (go.given && !go.value)
          c.diags.warning(go.loc,
                          "'actorder: null' in a config group does not turn activation ordering "
                          "off (llm-compressor 0.14 applies GPTQModifier's default 'static'); set "
                          "'actorder: null' on GPTQModifier instead");
        out = group_set ? *go.value : ActOrder::kWeight;
      } else if (group_set && go.value != modifier_order->value) {
        c.diags.error(go.loc, fmt::format("actorder 'weight' in group '{}' conflicts with "
                                          "GPTQModifier's actorder '{}'; set only one of them",
                                          g.group.name, modifier_order->value ? "weight" : "null"));
      } else {
        out = modifier_order->value.value_or(ActOrder::kNone);
      }
    }
  }

  for (auto& g : groups) {
    sort_unique(g.group.targets);
    recipe.groups.push_back(std::move(g.group));
  }
  std::sort(recipe.groups.begin(), recipe.groups.end(),
            [](const spec::ConfigGroup& a, const spec::ConfigGroup& b) { return a.name < b.name; });
}

bool is_smoothing(std::string_view modifier) { return modifier == "SmoothQuantModifier" || modifier == "AWQModifier"; }

// One mapping, in either spelling llm-compressor uses: SmoothQuant's [[balance, ...], smooth]
// or AWQ's {smooth_layer: ..., balance_layers: [...]}. Locations go to `locs` under `at`.
std::optional<spec::SmoothMapping> parse_mapping(FileContext& c, const Node& n, const std::string& at, LocMap& locs) {
  spec::SmoothMapping m;
  const Node* smooth = nullptr;
  const Node* balance = nullptr;
  if (n.is_sequence()) {
    if (n.items.size() != 2 || !n.items[0].is_sequence()) {
      c.diags.error(n.loc, "a mapping is [[balance layers...], smooth layer] or {smooth_layer: ..., "
                           "balance_layers: [...]}, got " + describe(n));
      return std::nullopt;
    }
    balance = &n.items[0];
    smooth = &n.items[1];
  } else if (n.is_mapping()) {
    MapReader r(c.diags, n, "mapping", n.loc, kMappingKeys);
    smooth = r.require("smooth_layer");
    balance = r.require("balance_layers");
    if (!smooth || !balance) return std::nullopt;
  } else {
    c.diags.error(n.loc, "a mapping is [[balance layers...], smooth layer] or {smooth_layer: ..., "
                         "balance_layers: [...]}, got " + describe(n));
    return std::nullopt;
  }
  auto sl = read_string(c.diags, *smooth, "smooth_layer");
  auto bl = read_string_list(c.diags, *balance, "balance_layers");
  if (!sl || !bl) return std::nullopt;
  m.smooth_layer = *sl;
  m.balance_layers = *bl;
  locs.add(at, nullptr, n);
  locs.add(spec::field(at, "smooth_layer"), nullptr, *smooth);
  locs.add_tree(spec::field(at, "balance_layers"), nullptr, *balance);
  return m;
}

std::optional<std::vector<spec::SmoothMapping>> parse_mappings(FileContext& c, MapReader& r, const std::string& at,
                                                                LocMap& locs) {
  const Node* n = r.find("mappings");
  if (!n) return std::nullopt;  // the default
  locs.add(at, r.find_key("mappings"), *n);
  if (!n->is_sequence()) {
    c.diags.error(n->loc, "expected a list for 'mappings', got " + describe(*n));
    return std::nullopt;
  }
  std::vector<spec::SmoothMapping> out;
  bool ok = true;
  for (std::size_t i = 0; i < n->items.size(); ++i) {
    if (auto m = parse_mapping(c, n->items[i], spec::item(at, i), locs)) out.push_back(std::move(*m));
    else ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

// A SmoothQuantModifier / AWQModifier body into a stage at "stages[index]".
std::optional<spec::SmoothingStage> parse_stage(FileContext& c, const std::string& kind, const Node& body,
                                                const Node& key, std::size_t index, LocMap& locs) {
  const int before = c.diags.error_count();
  const std::string at = spec::item("stages", index);
  locs.add(at, &key, body);
  if (kind == "SmoothQuantModifier") {
    MapReader r(c.diags, body, kind, key.loc, kSmoothQuantKeys);
    spec::SmoothQuantStage sq;
    if (auto a = r.get_float("smoothing_strength", sq.smoothing_strength)) sq.smoothing_strength = *a;
    if (const Node* v = r.find("smoothing_strength")) locs.add(spec::field(at, "smoothing_strength"), r.find_key("smoothing_strength"), *v);
    if (auto m = parse_mappings(c, r, spec::field(at, "mappings"), locs)) sq.mappings = std::move(*m);
    if (const Node* ig = r.find("ignore")) {
      sq.ignore = read_string_list(c.diags, *ig, "ignore").value_or(std::vector<std::string>{});
      std::sort(sq.ignore.begin(), sq.ignore.end());
      sq.ignore.erase(std::unique(sq.ignore.begin(), sq.ignore.end()), sq.ignore.end());
      locs.add(spec::field(at, "ignore"), r.find_key("ignore"), *ig);
      if (ig->is_sequence())  // the canonical list is sorted: map each entry back
        for (const Node& it : ig->items) {
          auto pos = std::find(sq.ignore.begin(), sq.ignore.end(), it.text);
          if (it.is_scalar() && pos != sq.ignore.end())
            locs.add(spec::item(spec::field(at, "ignore"), static_cast<std::size_t>(pos - sq.ignore.begin())), nullptr, it);
        }
    }
    if (c.diags.error_count() != before) return std::nullopt;
    return sq;
  }
  MapReader r(c.diags, body, kind, key.loc, kAwqKeys);
  spec::AwqStage awq;
  if (auto m = parse_mappings(c, r, spec::field(at, "mappings"), locs)) awq.mappings = std::move(*m);
  if (const Node* d = r.find("duo_scaling")) {
    locs.add(spec::field(at, "duo_scaling"), r.find_key("duo_scaling"), *d);
    if (d->is_scalar() && d->plain && (d->text == "true" || d->text == "True")) awq.duo_scaling = spec::DuoScaling::kTrue;
    else if (d->is_scalar() && d->plain && (d->text == "false" || d->text == "False")) awq.duo_scaling = spec::DuoScaling::kFalse;
    else if (d->is_scalar() && d->text == "both") awq.duo_scaling = spec::DuoScaling::kBoth;
    else c.diags.error(d->loc, "duo_scaling must be true, false or 'both', got " + describe(*d));
  }
  if (auto n = r.get_int("n_grid", awq.n_grid)) awq.n_grid = *n;
  if (const Node* v = r.find("n_grid")) locs.add(spec::field(at, "n_grid"), r.find_key("n_grid"), *v);
  if (c.diags.error_count() != before) return std::nullopt;
  return awq;
}

std::optional<spec::CalibrationSpec> parse_calibration(FileContext& c, const Node& node,
                                                       const SourceLoc& key_loc, std::string& source,
                                                       LocMap& locs) {
  int before = c.diags.error_count();
  MapReader r(c.diags, node, "calibration", key_loc, kCalibKeys);
  if (!r.is_mapping()) return std::nullopt;
  locs.add_tree("calibration", nullptr, node);
  spec::CalibrationSpec cal;
  if (const Node* s = r.require("source")) {
    if (auto v = read_string(c.diags, *s, "source")) {
      source = normalize_rel_path(*v);
      if (auto kind = check_calibration_source(c, *s, source)) cal.source_kind = *kind;
    }
  }
  if (auto v = r.get_int("num_samples", cal.num_samples)) cal.num_samples = *v;
  if (auto v = r.get_int("seq_len", cal.seq_len)) cal.seq_len = *v;
  cal.seed = static_cast<std::uint64_t>(r.get_non_negative_int("seed", 0).value_or(0));
  if (c.diags.error_count() != before) return std::nullopt;
  if (cal.num_samples >= 1 && cal.num_samples <= spec::kMaxCalibrationSamples && cal.seq_len >= 1)
    check_calibration_size(c, *r.find("source"), source, cal.source_kind, cal.num_samples, cal.seq_len);
  return cal;
}

}  // namespace

QuantSpec parse_quant(FileContext& c, const Node& root, const ProjectSpec& project) {
  MapReader top(c.diags, root, "", c.whole_file(), kTopKeys);
  QuantSpec spec;
  spec.loc = c.whole_file();
  spec.name = read_name(c, top, "name", spec.loc);
  if (const Node* n = top.require("output_suffix"))
    spec.output_suffix = read_suffix(c, *n).value_or("");
  spec::QuantRecipe& recipe = spec.recipe;
  recipe.save_compressed = top.get_bool("save_compressed", recipe.save_compressed).value_or(true);
  recipe.device = project.device;  // both change the bits: part of the key
  recipe.compute_dtype = project.compute_dtype;

  const int before = c.diags.error_count();
  SourceLoc mod_loc = c.whole_file();
  LocMap locs(mod_loc);
  bool have_modifier = false;
  if (const Node* qm = top.require("quant_modifiers")) {
    const SourceLoc& qm_loc = top.find_key("quant_modifiers")->loc;
    // The modifiers in order: (name, key node, body node).
    struct Entry {
      std::string kind;
      const Node* key;
      const Node* body;
    };
    std::vector<Entry> entries;
    if (qm->is_sequence()) {
      for (const Node& it : qm->items) {
        if (!it.is_mapping() || it.entries.size() != 1) {
          c.diags.error(it.loc, "each item of 'quant_modifiers' is one modifier ({ModifierName: {...}}), got " +
                                    describe(it));
          continue;
        }
        MapReader one(c.diags, it, "quant_modifiers", it.loc, kModifiers);
        for (const auto& k : one.keys()) entries.push_back({k, one.find_key(k), one.find(k)});
      }
    } else {
      MapReader mods(c.diags, *qm, "quant_modifiers", qm_loc, kModifiers);
      for (const auto& k : mods.keys()) entries.push_back({k, mods.find_key(k), mods.find(k)});
    }
    const Entry* quant = nullptr;
    bool order_ok = true;
    for (const auto& e : entries) {
      if (is_smoothing(e.kind)) {
        if (quant) {
          c.diags.error(e.key->loc, fmt::format("'{}' must come before the quantization modifier '{}' (it "
                                                "transforms the model that is then quantized)",
                                                e.kind, quant->kind));
          order_ok = false;
        }
      } else if (quant) {
        c.diags.error(e.key->loc,
                      fmt::format("one quantization modifier per recipe: '{}' cannot follow '{}'", e.kind, quant->kind));
        order_ok = false;
      } else {
        quant = &e;
      }
    }
    if (!quant && order_ok && !(entries.empty() && c.diags.error_count() != before)) {
      c.diags.error(entries.empty() ? qm_loc : entries.back().key->loc,
                    "'quant_modifiers' needs one of QuantizationModifier, GPTQModifier (after any "
                    "SmoothQuantModifier / AWQModifier)");
    } else if (quant && order_ok) {
      have_modifier = true;
      recipe.modifier = quant->kind == "GPTQModifier" ? spec::Modifier::kGptq : spec::Modifier::kRtn;
      mod_loc = quant->key->loc;
      locs = LocMap(mod_loc);
      for (const auto& e : entries) {
        if (!is_smoothing(e.kind)) continue;
        if (auto st = parse_stage(c, e.kind, *e.body, *e.key, recipe.stages.size(), locs))
          recipe.stages.push_back(std::move(*st));
        else
          recipe.stages.push_back(spec::SmoothQuantStage{});  // keeps the indices; its errors are reported
      }
      parse_modifier(c, recipe, *quant->body, mod_loc, locs);
    }
  }

  const Node* cal_node = top.find("calibration");
  std::optional<spec::CalibrationSpec> cal;
  if (cal_node) cal = parse_calibration(c, *cal_node, top.find_key("calibration")->loc, spec.calibration_source, locs);
  if (!have_modifier || c.diags.error_count() != before) return spec;  // the rules need a whole recipe
  if (recipe.needs_calibration()) {
    if (cal) recipe.calibration = cal;
    else if (cal_node) return spec;  // its errors are reported
  } else {
    spec.calibration_source.clear();
  }
  spec::Issues issues;
  recipe.validate(issues);
  locs.report(issues, c.diags);
  if (issues.ok() && cal_node && !recipe.needs_calibration())
    c.diags.warning(top.find_key("calibration")->loc,
                    "'calibration' is not used: this recipe has no smoothing stage, no static "
                    "activations and is not GPTQ");
  return spec;
}

}  // namespace qb::config
