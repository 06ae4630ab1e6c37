// Typed field access on a JSON object with errors that name the file and the field, shared by
// the config.json readers of this folder (ModelConfig, QuantizationConfig). Private to qb::model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace qb::model::detail {

// The JSON type in words, for messages: "string", "number", "null", ...
std::string json_type(const nlohmann::json& v);

// Absent or null -> nullopt; present with the wrong type -> invalid_argument
// "<source>: field '<name>' must be <kind>, got <type>".
Result<std::optional<int64_t>> opt_int(const nlohmann::json& j, const std::string& name,
                                       const std::string& source);
Result<std::optional<double>> opt_number(const nlohmann::json& j, const std::string& name,
                                         const std::string& source);
Result<std::optional<bool>> opt_bool(const nlohmann::json& j, const std::string& name,
                                     const std::string& source);
Result<std::optional<std::string>> opt_string(const nlohmann::json& j, const std::string& name,
                                              const std::string& source);
// A string or a list of strings (compressed-tensors accepts both for targets / ignore).
Result<std::vector<std::string>> string_list(const nlohmann::json& j, const std::string& name,
                                             const std::string& source);

// Required: absent or null -> invalid_argument "<source>: missing field '<name>'".
Result<int64_t> req_int(const nlohmann::json& j, const std::string& name,
                        const std::string& source);
Result<double> req_number(const nlohmann::json& j, const std::string& name,
                          const std::string& source);

}  // namespace qb::model::detail
