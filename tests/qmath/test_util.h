// Helpers shared by the qmath tests: seeded random tensors and readable tensor comparisons
// (max-abs error plus the first mismatching elements).
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace qb::qmath::testing {

inline at::Generator gen(std::uint64_t seed) {
  auto g = at::detail::createCPUGenerator(seed);
  return g;
}

inline at::Tensor randn(at::IntArrayRef shape, std::uint64_t seed,
                        at::ScalarType dtype = at::kFloat) {
  auto g = gen(seed);
  return at::randn(shape, g, at::TensorOptions().dtype(at::kFloat)).to(dtype);
}

inline double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

// "" when a and b are elementwise equal (same shape and dtype); otherwise a description of the
// first few differences.
inline std::string exact_mismatch(const at::Tensor& a, const at::Tensor& b, int show = 5) {
  std::ostringstream os;
  if (a.sizes() != b.sizes()) {
    os << "shape " << a.sizes() << " vs " << b.sizes();
    return os.str();
  }
  if (a.scalar_type() != b.scalar_type()) {
    os << "dtype " << a.scalar_type() << " vs " << b.scalar_type();
    return os.str();
  }
  auto ad = a.to(at::kDouble).flatten(), bd = b.to(at::kDouble).flatten();
  auto ne = (ad != bd).nonzero().flatten();
  if (ne.numel() == 0) return "";
  os << ne.numel() << " of " << ad.numel() << " elements differ; first:";
  for (int i = 0; i < std::min<int64_t>(show, ne.numel()); ++i) {
    auto k = ne[i].item<int64_t>();
    os << " [" << k << "] " << ad[k].item<double>() << " vs " << bd[k].item<double>() << ";";
  }
  return os.str();
}

}  // namespace qb::qmath::testing
