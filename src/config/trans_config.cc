// pipline/1-trans/*.yaml → TransSpec: "original" (output_suffix null, no modifier) or a
// SpinQuantModifier transform (field reference: pipline/README.md; params shape: specs.h).
// Defaults follow llm-compressor 0.14's SpinQuantModifier (rotations [R1, R2], transform_type
// hadamard); the seed is ours (0) and only enters params for the random transform types.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "config/fields.h"
#include "config/names.h"
#include "config/parsers.h"

namespace qb::config {
namespace {

namespace stdfs = std::filesystem;
using nlohmann::json;

const std::vector<std::string_view> kTopKeys = {"name", "input_model", "output_suffix",
                                                "quant_modifiers", "equivalence"};
const std::vector<std::string_view> kSpinQuantKeys = {"rotations", "transform_type", "seed",
                                                      "transform_block_size",
                                                      "center_embeddings"};
const std::vector<std::string_view> kEquivalenceKeys = {"max_rel_error", "prompts"};
const std::vector<std::string_view> kRotations = {"R1", "R2", "R4"};  // canonical order
const std::vector<std::string_view> kTransformTypes = {"hadamard", "random-hadamard",
                                                       "random-matrix"};

// Short, varied prompts (prose, code, arithmetic, non-Latin script) so the check covers many
// token and activation patterns.
const std::vector<std::string> kDefaultPrompts = {
    "The capital of France is",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Question: A train travels 60 km in 45 minutes. What is its average speed in km/h?\nAnswer:",
    "量子计算的基本原理是",
};
// fp32 storage of float64-computed rotations leaves relative logit errors around 1e-5..1e-4
// on a 36-layer model; a wrong rotation gives errors of order 1. 1e-3 separates the two.
constexpr double kDefaultMaxRelError = 1e-3;

void check_input_model(FileContext& c, const Node& at, const std::string& rel) {
  std::error_code ec;
  stdfs::path dir = c.root / rel;
  auto st = stdfs::status(dir, ec);
  if (ec || !stdfs::exists(st)) {
    c.diags.error(at.loc, fmt::format("input model directory '{}' does not exist; see "
                                      "data/HELP.md for how to get it",
                                      rel));
  } else if (!stdfs::is_directory(st)) {
    c.diags.error(at.loc, fmt::format("input model '{}' is not a directory; see data/HELP.md",
                                      rel));
  } else if (!stdfs::is_regular_file(dir / "config.json", ec)) {
    c.diags.error(at.loc, fmt::format("input model directory '{}' has no config.json; see "
                                      "data/HELP.md for how to get the model",
                                      rel));
  }
}

// Reads SpinQuantModifier's fields into canonical params.
json parse_spinquant(FileContext& c, const Node& node, const SourceLoc& key_loc) {
  MapReader r(c.diags, node, "SpinQuantModifier", key_loc, kSpinQuantKeys);
  std::vector<std::string> rotations = {"R1", "R2"};
  if (const Node* n = r.find("rotations")) {
    if (!n->is_sequence()) {
      read_string_list(c.diags, *n, "rotations");  // reports the type error
    } else if (n->items.empty()) {
      c.diags.error(n->loc, "'rotations' must not be empty");
    } else {
      rotations.clear();
      for (const Node& item : n->items) {
        auto rot = read_enum(c.diags, item, "rotations", kRotations, /*ignore_case=*/true);
        if (!rot) continue;
        if (std::find(rotations.begin(), rotations.end(), *rot) != rotations.end())
          c.diags.error(item.loc, fmt::format("duplicate rotation '{}'", *rot));
        else
          rotations.push_back(*rot);
      }
    }
  }
  std::sort(rotations.begin(), rotations.end());  // "R1" < "R2" < "R4": the canonical order
  std::string type = r.get_enum("transform_type", kTransformTypes, "hadamard").value_or("");
  auto seed = r.get_non_negative_int("seed", 0);
  json block = nullptr;
  if (const Node* n = r.find("transform_block_size"); n && !n->is_null()) {
    if (auto v = r.get_positive_int("transform_block_size", std::nullopt)) block = *v;
  }
  bool center = r.get_bool("center_embeddings", false).value_or(false);
  if (center) {
    c.diags.warning(r.find("center_embeddings")->loc,
                    "'center_embeddings: true' changes the function of RMSNorm models (Qwen3, "
                    "Qwen2, Llama): the equivalence check is expected to fail");
  }
  json params = {{"rotations", rotations},
                 {"transform_type", type},
                 {"transform_block_size", block},
                 {"center_embeddings", center}};
  // A plain Hadamard matrix has no randomness: its seed would only cause needless rebuilds.
  if (type != "hadamard") params["seed"] = seed.value_or(0);
  return params;
}

EquivalenceSpec parse_equivalence(FileContext& c, const Node* node, const SourceLoc& key_loc) {
  EquivalenceSpec eq;
  eq.max_rel_error = kDefaultMaxRelError;
  eq.prompts = kDefaultPrompts;
  if (!node) return eq;
  MapReader r(c.diags, *node, "equivalence", key_loc, kEquivalenceKeys);
  eq.max_rel_error = r.get_positive_float("max_rel_error", kDefaultMaxRelError).value_or(0);
  if (const Node* p = r.find("prompts")) {
    if (auto v = read_string_list(c.diags, *p, "prompts")) {
      if (v->empty()) c.diags.error(p->loc, "'prompts' must not be empty");
      eq.prompts = *v;
    }
  }
  return eq;
}

}  // namespace

TransSpec parse_trans(FileContext& c, const Node& root) {
  MapReader top(c.diags, root, "", c.whole_file(), kTopKeys);
  TransSpec spec;
  spec.loc = c.whole_file();
  spec.name = read_name(c, top, "name", spec.loc);
  if (const Node* n = top.require("input_model")) {
    if (auto s = read_string(c.diags, *n, "input_model")) {
      spec.input_model = normalize_rel_path(*s);
      check_input_model(c, *n, spec.input_model);
    }
  }
  if (const Node* n = top.find("output_suffix"); n && !n->is_null())
    spec.output_suffix = read_suffix(c, *n);

  const Node* qm = top.find("quant_modifiers");
  bool has_modifier = qm && !(qm->is_null() || (qm->is_mapping() && qm->entries.empty()));
  if (!spec.output_suffix) {
    spec.kind = "original";
    spec.params = json::object();
    if (has_modifier) {
      c.diags.error(top.find_key("quant_modifiers")->loc,
                    "'quant_modifiers' must be empty when 'output_suffix' is null (no transform: "
                    "kind 'original'); set an output_suffix such as '-r1r2'");
    }
    if (const Node* k = top.find_key("equivalence"))
      c.diags.warning(k->loc, "'equivalence' is ignored: there is no transform (output_suffix "
                              "is null)");
    spec.equivalence = parse_equivalence(c, nullptr, c.whole_file());
    return spec;
  }

  spec.kind = "spinquant";
  if (!has_modifier) {
    c.diags.error(top.find_key("output_suffix")->loc,
                  fmt::format("output_suffix '{}' needs a transform: add 'quant_modifiers: "
                              "{{SpinQuantModifier: {{...}}}}' (or set output_suffix to null)",
                              printable(*spec.output_suffix)));
  } else {
    MapReader mods(c.diags, *qm, "quant_modifiers", top.find_key("quant_modifiers")->loc,
                   {"SpinQuantModifier"});
    if (const Node* sq = mods.find("SpinQuantModifier"))
      spec.params = parse_spinquant(c, *sq, mods.find_key("SpinQuantModifier")->loc);
  }
  const Node* eq_key = top.find_key("equivalence");
  spec.equivalence =
      parse_equivalence(c, top.find("equivalence"), eq_key ? eq_key->loc : c.whole_file());
  return spec;
}

}  // namespace qb::config
