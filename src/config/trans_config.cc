// pipline/1-trans/*.yaml → TransSpec: "original" (output_suffix null, no modifier) or a
// SpinQuantModifier transform read into the typed spec::SpinQuantParams (field reference:
// pipline/README.md; defaults, rules and canonical JSON: src/spec/spinquant.h).
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "config/fields.h"
#include "config/loc_map.h"
#include "config/names.h"
#include "config/parsers.h"
#include "config/sources.h"

namespace qb::config {
namespace {

const std::vector<std::string_view> kTopKeys = {"name", "input_model", "output_suffix",
                                                "quant_modifiers", "equivalence"};
const std::vector<std::string_view> kSpinQuantKeys = {"rotations", "transform_type", "seed",
                                                      "transform_block_size",
                                                      "center_embeddings"};
const std::vector<std::string_view> kEquivalenceKeys = {"max_rel_error", "prompts"};
const std::vector<std::string_view> kRotations = {"R1", "R2", "R4"};  // canonical order
const std::vector<std::string_view> kTransformTypes = {"hadamard", "random-hadamard",
                                                       "random-matrix"};

// SpinQuantModifier's fields into the typed params.
spec::SpinQuantParams parse_spinquant(FileContext& c, const Node& node, const SourceLoc& key_loc,
                                      LocMap& locs) {
  MapReader r(c.diags, node, "SpinQuantModifier", key_loc, kSpinQuantKeys);
  locs.add_tree("", nullptr, node);
  spec::SpinQuantParams p;
  if (const Node* n = r.find("rotations")) {
    if (!n->is_sequence()) {
      read_string_list(c.diags, *n, "rotations");  // reports the type error
    } else if (n->items.empty()) {
      c.diags.error(n->loc, "'rotations' must not be empty");
    } else {
      p.rotations.clear();
      for (const Node& item : n->items) {
        auto rot = read_enum(c.diags, item, "rotations", kRotations, /*ignore_case=*/true);
        if (!rot) continue;
        auto id = *spec::parse_rotation_id(*rot);
        if (p.has(id))
          c.diags.error(item.loc, fmt::format("duplicate rotation '{}'", *rot));
        else
          p.rotations.push_back(id);
      }
      std::sort(p.rotations.begin(), p.rotations.end());  // the canonical order R1, R2, R4
    }
  }
  if (auto t = r.get_enum("transform_type", kTransformTypes, spec::rotation_type_name(p.transform_type)))
    p.transform_type = *spec::parse_rotation_type(*t);
  p.seed = static_cast<std::uint64_t>(r.get_non_negative_int("seed", 0).value_or(0));
  if (const Node* n = r.find("transform_block_size"); n && !n->is_null())
    p.transform_block_size = r.get_int("transform_block_size", std::nullopt);
  p.center_embeddings = r.get_bool("center_embeddings", p.center_embeddings).value_or(false);
  if (p.center_embeddings) {
    c.diags.warning(r.find("center_embeddings")->loc,
                    "'center_embeddings: true' changes the function of RMSNorm models (Qwen3, "
                    "Qwen2, Llama): the equivalence check is expected to fail");
  }
  return p;
}

spec::EquivalenceCheck parse_equivalence(FileContext& c, const Node& node, const SourceLoc& key_loc,
                                         LocMap& locs) {
  spec::EquivalenceCheck eq;
  MapReader r(c.diags, node, "equivalence", key_loc, kEquivalenceKeys);
  locs.add_tree("", nullptr, node);
  if (auto v = r.get_float("max_rel_error", eq.max_rel_error)) eq.max_rel_error = *v;
  if (const Node* p = r.find("prompts")) {
    if (auto v = read_string_list(c.diags, *p, "prompts")) eq.prompts = *v;
  }
  return eq;
}

}  // namespace

TransSpec parse_trans(FileContext& c, const Node& root, const ProjectSpec& project) {
  MapReader top(c.diags, root, "", c.whole_file(), kTopKeys);
  TransSpec spec;
  spec.loc = c.whole_file();
  spec.name = read_name(c, top, "name", spec.loc);
  if (const Node* n = top.require("input_model")) {
    if (auto s = read_string(c.diags, *n, "input_model")) {
      spec.input_model = normalize_rel_path(*s);
      check_model_dir(c, *n, spec.input_model);
    }
  }
  if (const Node* n = top.find("output_suffix"); n && !n->is_null())
    spec.output_suffix = read_suffix(c, *n);

  const Node* qm = top.find("quant_modifiers");
  bool has_modifier = qm && !(qm->is_null() || (qm->is_mapping() && qm->entries.empty()));
  if (!spec.output_suffix) {
    spec.kind = "original";
    if (has_modifier) {
      c.diags.error(top.find_key("quant_modifiers")->loc,
                    "'quant_modifiers' must be empty when 'output_suffix' is null (no transform: "
                    "kind 'original'); set an output_suffix such as '-r1r2'");
    }
    if (const Node* k = top.find_key("equivalence"))
      c.diags.warning(k->loc, "'equivalence' is ignored: there is no transform (output_suffix "
                              "is null)");
    return spec;
  }

  spec.kind = "spinquant";
  const int before = c.diags.error_count();
  if (!has_modifier) {
    c.diags.error(top.find_key("output_suffix")->loc,
                  fmt::format("output_suffix '{}' needs a transform: add 'quant_modifiers: "
                              "{{SpinQuantModifier: {{...}}}}' (or set output_suffix to null)",
                              printable(*spec.output_suffix)));
  } else {
    MapReader mods(c.diags, *qm, "quant_modifiers", top.find_key("quant_modifiers")->loc,
                   {"SpinQuantModifier"});
    if (const Node* sq = mods.find("SpinQuantModifier")) {
      LocMap locs(mods.find_key("SpinQuantModifier")->loc);
      spec.params = parse_spinquant(c, *sq, mods.find_key("SpinQuantModifier")->loc, locs);
      spec.params.device = project.device;  // float64 on CPU vs GPU may round differently: part of the key
      if (c.diags.error_count() == before) {
        spec::Issues issues;
        spec.params.validate(issues);
        locs.report(issues, c.diags);
      }
    }
  }
  if (const Node* eq = top.find("equivalence")) {
    LocMap locs(top.find_key("equivalence")->loc);
    const int eq_before = c.diags.error_count();
    spec.equivalence = parse_equivalence(c, *eq, top.find_key("equivalence")->loc, locs);
    if (c.diags.error_count() == eq_before) {
      spec::Issues issues;
      spec.equivalence.validate(issues);
      locs.report(issues, c.diags);
    }
  }
  return spec;
}

}  // namespace qb::config
