#include "steps/model_io/non_finite.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <cstring>
#include <limits>

namespace qb::model_io {

namespace {

// Elements per block: the unit of threaded work and of the early exit. A compile-time trip count
// lets the compiler vectorize the inner loop at -O2 (GCC's "very cheap" cost model).
constexpr std::uint64_t kBlock = 4096;
constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();

// Whether one block holds an element whose |bits| (sign cleared) >= `inf`. Adding
// (sign bit - inf) to |bits| sets the sign bit exactly for those (no overflow: |bits| < sign bit),
// so the block reduces with AND, ADD and OR alone, which SSE2 has for every width (an unsigned
// max does not). memcpy: a tensor's offset in the file need not be aligned to its element size.
template <class U>
bool block_has_non_finite(const std::uint8_t* p, U abs_mask, U inf) {
  const U sign = static_cast<U>(~abs_mask), bias = static_cast<U>(sign - inf);
  U acc = 0;
  for (std::uint64_t i = 0; i < kBlock; ++i) {
    U v;
    std::memcpy(&v, p + i * sizeof(U), sizeof(U));
    acc |= static_cast<U>((v & abs_mask) + bias);
  }
  return (acc & sign) != 0;
}

// Index of the first element whose |bits| >= `inf` (the bits of +Inf, or of NaN for a format
// without infinities).
template <class U>
std::optional<std::uint64_t> scan(std::span<const std::uint8_t> bytes, U abs_mask, U inf) {
  const std::uint64_t n = bytes.size() / sizeof(U);
  const std::uint64_t blocks = n / kBlock;
  std::atomic<std::uint64_t> first_block{kNone};
  at::parallel_for(0, static_cast<int64_t>(blocks), 64, [&](int64_t b0, int64_t b1) {
    for (auto b = static_cast<std::uint64_t>(b0); b < static_cast<std::uint64_t>(b1); ++b) {
      if (b > first_block.load(std::memory_order_relaxed)) return;  // an earlier one was found
      if (!block_has_non_finite<U>(bytes.data() + b * kBlock * sizeof(U), abs_mask, inf)) continue;
      std::uint64_t cur = first_block.load();
      while (b < cur && !first_block.compare_exchange_weak(cur, b)) {
      }
      return;
    }
  });
  // Locate the element inside the first bad block, or check the tail after the last full block.
  const std::uint64_t from = first_block == kNone ? blocks * kBlock : first_block * kBlock;
  const std::uint64_t to = first_block == kNone ? n : from + kBlock;
  for (std::uint64_t i = from; i < to; ++i) {
    U v;
    std::memcpy(&v, bytes.data() + i * sizeof(U), sizeof(U));
    if ((v & abs_mask) >= inf) return i;
  }
  return std::nullopt;
}

template <class U>
std::optional<NonFinite> find(std::span<const std::uint8_t> bytes, U abs_mask, U inf, bool has_inf) {
  auto i = scan<U>(bytes, abs_mask, inf);
  if (!i) return std::nullopt;
  U v;
  std::memcpy(&v, bytes.data() + *i * sizeof(U), sizeof(U));
  const bool negative = (v & ~abs_mask) != 0;
  const double inf_value = negative ? -std::numeric_limits<double>::infinity()
                                    : std::numeric_limits<double>::infinity();
  const bool is_inf = has_inf && (v & abs_mask) == inf;
  return NonFinite{*i, is_inf ? inf_value : std::numeric_limits<double>::quiet_NaN()};
}

}  // namespace

bool is_floating(DType dtype) {
  switch (dtype) {
    case DType::kF16:
    case DType::kBF16:
    case DType::kF32:
    case DType::kF64:
    case DType::kF8E4M3:
    case DType::kF8E5M2: return true;
    default: return false;
  }
}

std::optional<NonFinite> first_non_finite(DType dtype, std::span<const std::uint8_t> bytes) {
  switch (dtype) {
    case DType::kF16: return find<std::uint16_t>(bytes, 0x7FFF, 0x7C00, true);
    case DType::kBF16: return find<std::uint16_t>(bytes, 0x7FFF, 0x7F80, true);
    case DType::kF32: return find<std::uint32_t>(bytes, 0x7FFF'FFFFu, 0x7F80'0000u, true);
    case DType::kF64:
      return find<std::uint64_t>(bytes, 0x7FFF'FFFF'FFFF'FFFFull, 0x7FF0'0000'0000'0000ull, true);
    case DType::kF8E5M2: return find<std::uint8_t>(bytes, 0x7F, 0x7C, true);
    case DType::kF8E4M3: return find<std::uint8_t>(bytes, 0x7F, 0x7F, false);  // fn: NaN only
    default: return std::nullopt;
  }
}

}  // namespace qb::model_io
