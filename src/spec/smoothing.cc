// The smoothing stages' roles, defaults, rules and canonical JSON (see smoothing.h).
#include "spec/smoothing.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <regex>

#include <fmt/format.h>

#include "spec/canonical_json.h"
#include "spec/targets.h"

namespace qb::spec {

namespace {

using nlohmann::json;

constexpr LayerRole kAllRoles[] = {
    LayerRole::kQProj,    LayerRole::kKProj,   LayerRole::kVProj,          LayerRole::kOProj,
    LayerRole::kQNorm,    LayerRole::kKNorm,   LayerRole::kGateProj,       LayerRole::kUpProj,
    LayerRole::kDownProj, LayerRole::kInputLayernorm, LayerRole::kPostAttentionLayernorm};

// Modules of the model that are not leaves of a decoder layer: containers and the modules
// outside the layers (a mapping pattern must not name them).
std::vector<std::string> outside_names(int layer) {
  const std::string l = "model.layers." + std::to_string(layer);
  return {"model", "model.embed_tokens", "model.layers", l, l + ".self_attn", l + ".mlp",
          l + ".mlp.act_fn", "model.norm", "model.rotary_emb", "lm_head"};
}

std::string join_roles(const std::vector<LayerRole>& roles) {
  std::string s;
  for (auto r : roles) s += (s.empty() ? "" : ", ") + std::string(role_name(r));
  return s;
}

Result<PatternRoles> resolve_pattern_roles(std::string_view pattern);

bool contains(const std::vector<LayerRole>& v, LayerRole r) { return std::find(v.begin(), v.end(), r) != v.end(); }

json mappings_json(const std::vector<SmoothMapping>& ms) {
  json a = json::array();
  for (const auto& m : ms) a.push_back({{"smooth_layer", m.smooth_layer}, {"balance_layers", m.balance_layers}});
  return a;
}

std::vector<SmoothMapping> mappings_from_json(const json& j, const std::string& at, Issues& issues) {
  std::vector<SmoothMapping> out;
  if (!j.is_array()) {
    issues.error(at, "expected a list");
    return out;
  }
  for (std::size_t i = 0; i < j.size(); ++i) {
    CanonicalReader r(j[i], item(at, i), issues, {"smooth_layer", "balance_layers"});
    out.push_back({r.str("smooth_layer"), r.strings("balance_layers")});
  }
  return out;
}

// The rules of one mapping (paths under `at`).
void validate_mapping(const SmoothMapping& m, const std::string& at, Issues& out) {
  // Roles per pattern, or nullopt when the pattern itself is bad (reported).
  auto roles_of = [&](const std::string& pattern, const std::string& path) -> std::optional<std::vector<LayerRole>> {
    if (pattern.empty()) {
      out.error(path, "an empty name matches no module");
      return std::nullopt;
    }
    if (pattern.rfind("re:", 0) != 0 && pattern.find('.') == std::string::npos &&
        std::isupper(static_cast<unsigned char>(pattern[0]))) {
      out.error(path, "'" + pattern + "' is a class name; a mapping names modules: a module name or 're:<regex>'");
      return std::nullopt;
    }
    auto pr = pattern_roles(pattern);
    if (!pr.is_ok()) {
      out.error(path, pr.status().message());
      return std::nullopt;
    }
    if (!pr->outside.empty()) {
      out.error(path, "'" + pattern + "' matches '" + pr->outside.front() +
                          "', which is not a leaf module of a decoder layer (a mapping smooths within a layer)");
      return std::nullopt;
    }
    if (pr->roles.empty()) {
      std::vector<LayerRole> all(std::begin(kAllRoles), std::end(kAllRoles));
      out.error(path, "'" + pattern + "' matches no module of a Qwen3/Qwen2/Llama decoder layer (its modules: " +
                          join_roles(all) + ", under model.layers.<i>.)");
      return std::nullopt;
    }
    return pr->roles;
  };

  const auto smooth = roles_of(m.smooth_layer, field(at, "smooth_layer"));
  std::vector<LayerRole> balance;
  bool balance_ok = true;
  if (m.balance_layers.empty()) out.error(field(at, "balance_layers"), "'balance_layers' must not be empty");
  for (std::size_t i = 0; i < m.balance_layers.size(); ++i) {
    const std::string path = item(field(at, "balance_layers"), i);
    auto r = roles_of(m.balance_layers[i], path);
    if (!r) {
      balance_ok = false;
      continue;
    }
    for (auto role : *r) {
      if (!role_is_linear(role)) {
        out.error(path, "'" + m.balance_layers[i] + "' matches " + role_name(role) +
                            ", which is not a Linear; balance layers are Linears");
        balance_ok = false;
      } else if (contains(balance, role)) {
        out.error(path, "'" + m.balance_layers[i] + "' matches " + role_name(role) +
                            ", which an earlier balance layer of this mapping already matches");
        balance_ok = false;
      } else {
        balance.push_back(role);
      }
    }
  }
  if (!smooth) return;
  if (smooth->size() > 1) {
    out.error(field(at, "smooth_layer"), "'" + m.smooth_layer + "' matches " + join_roles(*smooth) +
                                             "; a mapping smooths one module per decoder layer");
    return;
  }
  const LayerRole s = smooth->front();
  const auto readers = role_readers(s);
  if (readers.empty()) {
    out.error(field(at, "smooth_layer"),
              std::string("'") + role_name(s) +
                  "' cannot be smoothed: its output does not reach any Linear linearly (smooth layers: "
                  "input_layernorm, post_attention_layernorm, self_attn.v_proj, mlp.up_proj)");
    return;
  }
  if (!balance_ok) return;
  for (std::size_t i = 0; i < m.balance_layers.size(); ++i) {
    auto r = pattern_roles(m.balance_layers[i]);
    for (auto role : r->roles)
      if (!contains(readers, role))
        out.error(item(field(at, "balance_layers"), i),
                  fmt::format("{} does not read {}'s output (its readers: {}): the shapes do not match",
                              role_name(role), role_name(s), join_roles(readers)));
  }
  for (auto reader : readers)
    if (!contains(balance, reader))
      out.error(field(at, "balance_layers"),
                fmt::format("{}'s output is also read by {}, which this mapping does not balance: smoothing "
                            "would change the model's output",
                            role_name(s), role_name(reader)));
}

void validate_mappings(const std::vector<SmoothMapping>& ms, const std::string& at, Issues& out) {
  if (ms.empty()) out.error(at, "'mappings' must not be empty");
  std::vector<std::pair<LayerRole, std::size_t>> seen;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const int before = out.error_count();
    validate_mapping(ms[i], item(at, i), out);
    if (out.error_count() != before) continue;
    const LayerRole s = pattern_roles(ms[i].smooth_layer)->roles.front();
    for (const auto& [role, j] : seen)
      if (role == s)
        out.error_with_note(field(item(at, i), "smooth_layer"),
                            std::string(role_name(s)) + " is smoothed by two mappings",
                            field(item(at, j), "smooth_layer"), "first mapped here");
    seen.emplace_back(s, i);
  }
}

}  // namespace

const char* role_name(LayerRole r) {
  switch (r) {
    case LayerRole::kQProj: return "self_attn.q_proj";
    case LayerRole::kKProj: return "self_attn.k_proj";
    case LayerRole::kVProj: return "self_attn.v_proj";
    case LayerRole::kOProj: return "self_attn.o_proj";
    case LayerRole::kQNorm: return "self_attn.q_norm";
    case LayerRole::kKNorm: return "self_attn.k_norm";
    case LayerRole::kGateProj: return "mlp.gate_proj";
    case LayerRole::kUpProj: return "mlp.up_proj";
    case LayerRole::kDownProj: return "mlp.down_proj";
    case LayerRole::kInputLayernorm: return "input_layernorm";
    case LayerRole::kPostAttentionLayernorm: return "post_attention_layernorm";
  }
  return "?";
}

bool role_is_linear(LayerRole r) {
  return r != LayerRole::kQNorm && r != LayerRole::kKNorm && r != LayerRole::kInputLayernorm &&
         r != LayerRole::kPostAttentionLayernorm;
}

std::vector<LayerRole> role_readers(LayerRole r) {
  switch (r) {
    case LayerRole::kInputLayernorm: return {LayerRole::kQProj, LayerRole::kKProj, LayerRole::kVProj};
    case LayerRole::kPostAttentionLayernorm: return {LayerRole::kGateProj, LayerRole::kUpProj};
    case LayerRole::kVProj: return {LayerRole::kOProj};
    case LayerRole::kUpProj: return {LayerRole::kDownProj};
    default: return {};
  }
}

std::vector<SmoothMapping> default_smoothquant_mappings() {
  return {{"re:.*input_layernorm", {"re:.*q_proj", "re:.*k_proj", "re:.*v_proj"}},
          {"re:.*post_attention_layernorm", {"re:.*gate_proj", "re:.*up_proj"}}};
}

std::vector<SmoothMapping> default_awq_mappings() {
  return {{"re:.*input_layernorm$", {"re:.*q_proj$", "re:.*k_proj$", "re:.*v_proj$"}},
          {"re:.*v_proj$", {"re:.*o_proj$"}},
          {"re:.*post_attention_layernorm$", {"re:.*gate_proj$", "re:.*up_proj$"}},
          {"re:.*up_proj$", {"re:.*down_proj$"}}};
}

const char* stage_modifier_name(const SmoothingStage& s) {
  return std::holds_alternative<AwqStage>(s) ? "AWQModifier" : "SmoothQuantModifier";
}

std::vector<std::pair<double, bool>> awq_grid(const AwqStage& s) {
  // awq/base.py _get_grid_search_params: Python's true division of ints, i.e. the double nearest
  // to i / (n - 1).
  std::vector<std::pair<double, bool>> g;
  const auto n = s.n_grid;
  switch (s.duo_scaling) {
    case DuoScaling::kBoth: {
      const std::int64_t half = n / 2;
      for (std::int64_t i = 0; i < half; ++i)
        for (bool duo : {false, true}) g.emplace_back(static_cast<double>(i) / static_cast<double>(half - 1), duo);
      break;
    }
    case DuoScaling::kFalse:
      for (std::int64_t i = 0; i < n; ++i) g.emplace_back(static_cast<double>(i) / static_cast<double>(n - 1), false);
      break;
    case DuoScaling::kTrue:
      g.emplace_back(0.0, false);
      for (std::int64_t i = 0; i < n - 1; ++i) g.emplace_back(static_cast<double>(i) / static_cast<double>(n - 2), true);
      break;
  }
  return g;
}

Result<PatternRoles> pattern_roles(std::string_view pattern) {
  // Memoized: configs repeat the same few patterns, and each costs ~1k regex matches.
  static std::mutex mu;
  static std::map<std::string, Result<PatternRoles>, std::less<>> memo;
  {
    std::lock_guard lock(mu);
    if (auto it = memo.find(pattern); it != memo.end()) return it->second;
  }
  Result<PatternRoles> r = resolve_pattern_roles(pattern);
  std::lock_guard lock(mu);
  memo.emplace(std::string(pattern), r);
  return r;
}

namespace {

Result<PatternRoles> resolve_pattern_roles(std::string_view pattern) {
  PatternRoles out;
  bool role_hit[kNumLayerRoles] = {};
  auto add_outside = [&](const std::string& name) {
    if (std::find(out.outside.begin(), out.outside.end(), name) == out.outside.end()) out.outside.push_back(name);
  };
  if (pattern.rfind("re:", 0) != 0) {  // an exact name
    const std::string p(pattern);
    for (int l = 0; l < kProbeLayers; ++l) {
      const std::string prefix = "model.layers." + std::to_string(l) + ".";
      for (auto r : kAllRoles)
        if (p == prefix + role_name(r)) role_hit[static_cast<int>(r)] = true;
      for (const auto& o : outside_names(l))
        if (p == o) add_outside(o);
    }
  } else {
    std::regex re;
    try {
      re = std::regex(std::string(pattern.substr(3)), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return invalid_argument("invalid regular expression '" + std::string(pattern) + "': " + e.what());
    }
    auto hit = [&](const std::string& name) {
      return std::regex_search(name, re, std::regex_constants::match_continuous);  // Python re.match
    };
    for (int l = 0; l < kProbeLayers; ++l) {
      const std::string prefix = "model.layers." + std::to_string(l) + ".";
      for (auto r : kAllRoles)
        if (!role_hit[static_cast<int>(r)] && hit(prefix + role_name(r))) role_hit[static_cast<int>(r)] = true;
      if (l < 2)  // the containers and outside modules look alike in every layer
        for (const auto& o : outside_names(l))
          if (hit(o)) add_outside(o);
    }
  }
  for (auto r : kAllRoles)
    if (role_hit[static_cast<int>(r)]) out.roles.push_back(r);
  return out;
}

}  // namespace

void validate_stages(const std::vector<SmoothingStage>& stages, Issues& out) {
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const std::string at = item("stages", i);
    if (const auto* sq = std::get_if<SmoothQuantStage>(&stages[i])) {
      if (!(sq->smoothing_strength >= 0 && sq->smoothing_strength <= 1))
        out.error(field(at, "smoothing_strength"),
                  fmt::format("'smoothing_strength' must be in [0, 1], got {}", sq->smoothing_strength));
      validate_mappings(sq->mappings, field(at, "mappings"), out);
      for (std::size_t k = 0; k < sq->ignore.size(); ++k)
        if (std::string p = target_problem(sq->ignore[k]); !p.empty()) out.error(item(field(at, "ignore"), k), p);
    } else {
      const auto& awq = std::get<AwqStage>(stages[i]);
      validate_mappings(awq.mappings, field(at, "mappings"), out);
      // The grid divides by n_grid - 2 (duo true), n_grid/2 - 1 (both) or n_grid - 1 (false).
      const std::int64_t min_grid = awq.duo_scaling == DuoScaling::kTrue ? 3 : awq.duo_scaling == DuoScaling::kBoth ? 4 : 2;
      if (awq.n_grid < min_grid || awq.n_grid > 1000)
        out.error(field(at, "n_grid"), fmt::format("'n_grid' must be in [{}, 1000] with duo_scaling {}, got {}", min_grid,
                                                   awq.duo_scaling == DuoScaling::kTrue    ? "true"
                                                   : awq.duo_scaling == DuoScaling::kBoth ? "'both'"
                                                                                          : "false",
                                                   awq.n_grid));
    }
  }
}

json stage_to_json(const SmoothingStage& s) {
  if (const auto* sq = std::get_if<SmoothQuantStage>(&s))
    return {{"modifier", "SmoothQuantModifier"},
            {"smoothing_strength", sq->smoothing_strength},
            {"mappings", mappings_json(sq->mappings)},
            {"ignore", sq->ignore}};
  const auto& a = std::get<AwqStage>(s);
  json duo = a.duo_scaling == DuoScaling::kBoth ? json("both") : json(a.duo_scaling == DuoScaling::kTrue);
  return {{"modifier", "AWQModifier"}, {"mappings", mappings_json(a.mappings)}, {"duo_scaling", duo}, {"n_grid", a.n_grid}};
}

SmoothingStage stage_from_json(const json& j, const std::string& path, Issues& issues) {
  const std::string mod = j.is_object() && j.contains("modifier") && j["modifier"].is_string()
                              ? j["modifier"].get<std::string>()
                              : "";
  if (mod == "AWQModifier") {
    CanonicalReader r(j, path, issues, {"modifier", "mappings", "duo_scaling", "n_grid"});
    AwqStage a;
    a.mappings = mappings_from_json(r.raw("mappings"), r.at("mappings"), issues);
    const json& duo = r.raw("duo_scaling");
    if (duo.is_boolean()) a.duo_scaling = duo.get<bool>() ? DuoScaling::kTrue : DuoScaling::kFalse;
    else if (duo == "both") a.duo_scaling = DuoScaling::kBoth;
    else issues.error(r.at("duo_scaling"), "expected true, false or \"both\"");
    a.n_grid = r.i64("n_grid");
    return a;
  }
  if (mod != "SmoothQuantModifier") {
    issues.error(field(path, "modifier"), "expected SmoothQuantModifier or AWQModifier");
    return SmoothQuantStage{};
  }
  CanonicalReader r(j, path, issues, {"modifier", "smoothing_strength", "mappings", "ignore"});
  SmoothQuantStage sq;
  sq.smoothing_strength = r.f64("smoothing_strength");
  sq.mappings = mappings_from_json(r.raw("mappings"), r.at("mappings"), issues);
  sq.ignore = r.strings("ignore");
  return sq;
}

}  // namespace qb::spec
