// Device and dtype options as the command line spells them ("cuda:1", "bf16").
#pragma once

#include <ATen/ATen.h>

#include <optional>
#include <string_view>

#include "util/status.h"

namespace qb::model {

// "cpu", "cuda", "cuda:N". Errors: invalid_argument for other text, unavailable when CUDA (or
// device N) is not present.
Result<at::Device> parse_device(std::string_view name);
// "" or "auto" -> nullopt (the checkpoint's dtype), else parse_dtype() (model_config.h).
Result<std::optional<at::ScalarType>> parse_dtype_option(std::string_view name);

}  // namespace qb::model
