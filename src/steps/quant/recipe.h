// The quantize step's recipe is the spec layer's QuantRecipe (src/spec/quant_recipe.h: defaults,
// rules, presets and canonical JSON in one place); the quant library names it here.
#pragma once

#include "spec/quant_recipe.h"

namespace qb::quant {

using CalibrationSettings = spec::CalibrationSpec;
using spec::ConfigGroup;
using spec::Modifier;
using spec::modifier_name;
using spec::QuantRecipe;

}  // namespace qb::quant
