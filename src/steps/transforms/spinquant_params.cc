// SpinQuantParams <-> canonical JSON, with validation; see spinquant_params.h.
#include "steps/transforms/spinquant_params.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace qb::transforms {
namespace {

constexpr const char* kWhere = "SpinQuantModifier";

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

const char* rotation_id_name(RotationId id) {
  switch (id) {
    case RotationId::kR1: return "R1";
    case RotationId::kR2: return "R2";
    case RotationId::kR4: return "R4";
  }
  return "?";
}

bool SpinQuantParams::has(RotationId id) const {
  return std::find(rotations.begin(), rotations.end(), id) != rotations.end();
}

Result<SpinQuantParams> params_from_json(const nlohmann::json& j) {
  const std::string w = kWhere;
  if (!j.is_object()) return invalid_argument(w + ": parameters must be an object");
  for (const auto& [key, _] : j.items())
    if (key != "rotations" && key != "transform_type" && key != "seed" && key != "transform_block_size" &&
        key != "center_embeddings")
      return invalid_argument(w + ": unknown parameter '" + key +
                              "' (expected rotations, transform_type, seed, transform_block_size, "
                              "center_embeddings)");
  SpinQuantParams p;
  if (auto it = j.find("rotations"); it != j.end()) {
    if (!it->is_array() || it->empty())
      return invalid_argument(w + ".rotations: expected a non-empty list of R1, R2, R4");
    p.rotations.clear();
    for (const auto& r : *it) {
      if (!r.is_string()) return invalid_argument(w + ".rotations: expected a non-empty list of R1, R2, R4");
      const std::string name = upper(r.get<std::string>());
      RotationId id;
      if (name == "R1") id = RotationId::kR1;
      else if (name == "R2") id = RotationId::kR2;
      else if (name == "R4") id = RotationId::kR4;
      else
        return invalid_argument(w + ".rotations: unsupported rotation '" + r.get<std::string>() +
                                "' (supported: R1, R2, R4)");
      if (p.has(id)) return invalid_argument(w + ".rotations: duplicate rotation '" + name + "'");
      p.rotations.push_back(id);
    }
    std::sort(p.rotations.begin(), p.rotations.end());
  }
  if (auto it = j.find("transform_type"); it != j.end()) {
    if (!it->is_string()) return invalid_argument(w + ".transform_type: expected a string");
    QB_ASSIGN_OR_RETURN_CTX(p.transform_type, hadamard::parse_rotation_type(it->get<std::string>()),
                            w + ".transform_type");
  }
  if (auto it = j.find("seed"); it != j.end()) {
    if (!it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0))
      return invalid_argument(w + ".seed: expected a non-negative integer");
    p.seed = it->get<uint64_t>();
  }
  if (auto it = j.find("transform_block_size"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() <= 0)
      return invalid_argument(w + ".transform_block_size: expected a positive integer or null");
    p.transform_block_size = it->get<int64_t>();
  }
  if (auto it = j.find("center_embeddings"); it != j.end()) {
    if (!it->is_boolean()) return invalid_argument(w + ".center_embeddings: expected true or false");
    p.center_embeddings = it->get<bool>();
  }
  return p;
}

nlohmann::json params_to_json(const SpinQuantParams& p) {
  nlohmann::json rot = nlohmann::json::array();
  for (auto r : p.rotations) rot.push_back(rotation_id_name(r));
  nlohmann::json j = {{"rotations", rot},
                      {"transform_type", hadamard::rotation_type_name(p.transform_type)},
                      {"transform_block_size", p.transform_block_size ? nlohmann::json(*p.transform_block_size)
                                                                      : nlohmann::json(nullptr)},
                      {"center_embeddings", p.center_embeddings}};
  if (p.transform_type != hadamard::RotationType::kHadamard) j["seed"] = p.seed;
  return j;
}

}  // namespace qb::transforms
