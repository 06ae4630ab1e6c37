// Tensor comparisons shared by the libtorch test suites.
#pragma once

#include <ATen/ATen.h>

namespace qb::test_tensors {

// Largest |a - b| over the largest |b| (in double, on the CPU): the relative error the tests'
// tolerances are stated in.
inline double rel_diff(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor ad = a.to(at::kDouble).cpu(), bd = b.to(at::kDouble).cpu();
  return ((ad - bd).abs().max() / bd.abs().max().clamp_min(1e-30)).item<double>();
}

}  // namespace qb::test_tensors
