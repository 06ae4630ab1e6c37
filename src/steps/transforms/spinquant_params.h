// The transform step's parameters are the spec layer's SpinQuantParams (src/spec/spinquant.h:
// defaults, rules and canonical JSON in one place); the transforms library names them here.
#pragma once

#include "spec/spinquant.h"

namespace qb::transforms {

using spec::RotationId;
using spec::rotation_id_name;
using spec::SpinQuantParams;

}  // namespace qb::transforms
