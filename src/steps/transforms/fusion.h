// Applying a SpinQuantPlan to a checkpoint's tensors, one tensor at a time, in float64: the fast
// path (Rotation::apply, i.e. the fast Hadamard transform) and the dense reference (explicit
// n×n rotation matrices and matrix products), with the same contract so tests compare them.
#pragma once

#include <ATen/ATen.h>

#include <functional>
#include <string>

#include "steps/transforms/spinquant_plan.h"
#include "util/status.h"

namespace qb::transforms {

// A source tensor by Hugging Face name, as stored (any floating dtype, any device).
using TensorSource = std::function<Result<at::Tensor>(const std::string& name)>;
// Receives each output tensor (float64, on the fusion device) in checkpoint order; the R4 weight
// (when R4 is on) comes last.
using TensorSink = std::function<Status(const std::string& name, const at::Tensor& value)>;

enum class FusionPath { kFast, kReference };

// Runs every recipe of `plan` (see spinquant_plan.h): loads its source (and the RMSNorm weight
// it fuses) from `source`, computes in float64 on `device`, and hands the result to `sink`.
// Errors: a missing or wrongly shaped source tensor (named), a non-floating tensor; the sink's
// errors are passed through. Library exceptions (c10::Error, e.g. out of device memory) are
// turned into kInternal statuses naming the tensor.
Status fuse_and_rotate(const SpinQuantPlan& plan, const TensorSource& source, const TensorSink& sink,
                       at::Device device, FusionPath path = FusionPath::kFast);

}  // namespace qb::transforms
