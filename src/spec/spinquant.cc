// SpinQuant parameters and the equivalence check: rules and canonical JSON (see spinquant.h).
#include "spec/spinquant.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "spec/canonical_json.h"

namespace qb::spec {

const char* rotation_id_name(RotationId id) {
  switch (id) {
    case RotationId::kR1: return "R1";
    case RotationId::kR2: return "R2";
    case RotationId::kR4: return "R4";
  }
  return "?";
}

std::optional<RotationId> parse_rotation_id(std::string_view name) {
  std::string s(name);
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (auto id : {RotationId::kR1, RotationId::kR2, RotationId::kR4})
    if (s == rotation_id_name(id)) return id;
  return std::nullopt;
}

const char* rotation_type_name(RotationType t) {
  switch (t) {
    case RotationType::kHadamard: return "hadamard";
    case RotationType::kRandomHadamard: return "random-hadamard";
    case RotationType::kRandomMatrix: return "random-matrix";
  }
  return "?";
}

Result<RotationType> parse_rotation_type(std::string_view name) {
  for (auto t : {RotationType::kHadamard, RotationType::kRandomHadamard, RotationType::kRandomMatrix})
    if (name == rotation_type_name(t)) return t;
  return invalid_argument("unknown transform_type '" + std::string(name) +
                          "' (expected hadamard, random-hadamard or random-matrix)");
}

bool SpinQuantParams::has(RotationId id) const {
  return std::find(rotations.begin(), rotations.end(), id) != rotations.end();
}

void SpinQuantParams::validate(Issues& out) const {
  if (device != "cpu" && device != "cuda") out.error("device", "device must be cpu or cuda, got '" + device + "'");
  if (rotations.empty()) out.error("rotations", "'rotations' must not be empty");
  if (!std::is_sorted(rotations.begin(), rotations.end()) ||
      std::adjacent_find(rotations.begin(), rotations.end()) != rotations.end())
    out.error("rotations", "rotations must be sorted and unique");
  if (transform_block_size && *transform_block_size <= 0)
    out.error("transform_block_size", fmt::format("'transform_block_size' must be positive, got {}", *transform_block_size));
}

nlohmann::json SpinQuantParams::to_json() const {
  nlohmann::json rot = nlohmann::json::array();
  for (auto r : rotations) rot.push_back(rotation_id_name(r));
  nlohmann::json j = {{"rotations", rot},
                      {"transform_type", rotation_type_name(transform_type)},
                      {"transform_block_size",
                       transform_block_size ? nlohmann::json(*transform_block_size) : nlohmann::json(nullptr)},
                      {"center_embeddings", center_embeddings},
                      {"device", device}};
  if (transform_type != RotationType::kHadamard) j["seed"] = seed;
  return j;
}

Result<SpinQuantParams> SpinQuantParams::from_json(const nlohmann::json& j) {
  Issues issues;
  const bool seeded = j.is_object() && j.value("transform_type", std::string("hadamard")) != "hadamard";
  std::vector<std::string_view> keys = {"rotations", "transform_type", "transform_block_size", "center_embeddings",
                                        "device"};
  if (seeded) keys.push_back("seed");
  CanonicalReader r(j, "", issues, keys);
  SpinQuantParams p;
  p.rotations.clear();
  for (const auto& name : r.strings("rotations")) {
    if (auto id = parse_rotation_id(name)) p.rotations.push_back(*id);
    else issues.error("rotations", "unsupported rotation '" + name + "' (supported: R1, R2, R4)");
  }
  if (auto t = parse_rotation_type(r.str("transform_type")); t.is_ok()) p.transform_type = *t;
  else issues.error("transform_type", t.status().message());
  if (seeded) p.seed = r.u64("seed");
  p.transform_block_size = r.opt_i64("transform_block_size");
  p.center_embeddings = r.boolean("center_embeddings");
  p.device = r.str("device");
  QB_TRY(issues.to_status("SpinQuantModifier"));
  return p;
}

void EquivalenceCheck::validate(Issues& out) const {
  if (!(max_rel_error > 0)) out.error("max_rel_error", fmt::format("'max_rel_error' must be positive, got {}", max_rel_error));
  if (prompts.empty()) out.error("prompts", "'prompts' must not be empty");
  for (std::size_t i = 0; i < prompts.size(); ++i)
    if (prompts[i].empty()) out.error(item("prompts", i), "a prompt must not be empty");
}

nlohmann::json EquivalenceCheck::to_json() const {
  return {{"max_rel_error", max_rel_error}, {"prompts", prompts}};
}

Result<EquivalenceCheck> EquivalenceCheck::from_json(const nlohmann::json& j) {
  Issues issues;
  CanonicalReader r(j, "", issues, {"max_rel_error", "prompts"});
  EquivalenceCheck e;
  e.max_rel_error = r.f64("max_rel_error");
  e.prompts = r.strings("prompts");
  QB_TRY(issues.to_status("equivalence"));
  return e;
}

}  // namespace qb::spec
