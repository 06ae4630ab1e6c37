// The quantization arguments qmath computes with are the spec layer's typed QuantArgs
// (src/spec/quant_args.h: one definition, shared by the config layer, the graph's keys and the
// steps). qmath names them in its own namespace.
#pragma once

#include "spec/quant_args.h"

namespace qb::qmath {

using spec::ActOrder;
using spec::check_fp8_args;
using spec::check_int_args;
using spec::check_quant_args;
using spec::effective_observer;
using spec::ObserverKind;
using spec::ObserverOptions;
using spec::observer_name;
using spec::parse_actorder;
using spec::parse_observer;
using spec::parse_quant_type;
using spec::parse_strategy;
using spec::QuantArgs;
using spec::QuantType;
using spec::quant_type_name;
using spec::Role;
using spec::Strategy;
using spec::strategy_name;

}  // namespace qb::qmath
