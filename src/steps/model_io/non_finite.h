// Finding NaN and ±Inf in a tensor's raw safetensors bytes, without converting it.
//
// A floating value is non-finite exactly when its exponent bits are all ones, i.e. when its bits
// with the sign cleared are >= the bits of +Inf (F8_E4M3 is the "fn" variant: no infinities, NaN
// is S.1111.111). So a scan is an AND, an ADD and an OR per element over the memory-mapped file
// (vectorized): memory-bandwidth bound, threaded over libtorch's intra-op pool. bench/model_io
// (bench_non_finite) measures it; a Qwen3-8B checkpoint (16.4 GB bf16) is the size that matters.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "steps/model_io/safetensors.h"

namespace qb::model_io {

struct NonFinite {
  std::uint64_t index = 0;  // flat (row-major) element index of the first non-finite value
  double value = 0;         // NaN, +Inf or -Inf (what the bits decode to)
};

// True for the floating dtypes (F16, BF16, F32, F64, F8_E4M3, F8_E5M2).
bool is_floating(DType dtype);

// The first non-finite element of `bytes` (little-endian values of `dtype`); nullopt when every
// value is finite, and always for integer and bool dtypes. A trailing partial element is ignored.
std::optional<NonFinite> first_non_finite(DType dtype, std::span<const std::uint8_t> bytes);

}  // namespace qb::model_io
