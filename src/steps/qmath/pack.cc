// Dense int32 packing (see pack.h): a bit stream per row, built word by word on the CPU side of
// the tensor API so it runs on any device.
#include "steps/qmath/pack.h"

#include <string>

namespace qb::qmath {
namespace {

Status check_bits(int num_bits) {
  if (num_bits < 1 || num_bits > 8)
    return invalid_argument("packing supports num_bits in [1, 8], got " +
                            std::to_string(num_bits));
  return Status::ok();
}

}  // namespace

Result<at::Tensor> pack_int_to_int32(const at::Tensor& q, int num_bits) {
  QB_TRY(check_bits(num_bits));
  if (q.scalar_type() != at::kChar || q.dim() != 2)
    return invalid_argument("pack: expected an int8 [rows, cols] tensor");
  const std::int64_t offset = std::int64_t{1} << (num_bits - 1);
  const auto rows = q.size(0), cols = q.size(1);
  auto u = q.to(at::kLong) + offset;  // unsigned codes in [0, 2^bits)
  if (u.numel() > 0 && (u.min().item<std::int64_t>() < 0 ||
                        u.max().item<std::int64_t>() >= (std::int64_t{1} << num_bits)))
    return invalid_argument("pack: a code is outside the " + std::to_string(num_bits) +
                            "-bit range");
  const std::int64_t words = (cols * num_bits + 31) / 32;
  // Each element contributes its low part to word (i·bits)/32 and, when it straddles a word
  // boundary, its high part to the next word. Accumulate in int64 then wrap to int32 (the
  // top bit of a word is the sign bit of the stored int32).
  auto idx = at::arange(cols, u.options());
  auto bit = idx * num_bits;
  auto word = at::floor_divide(bit, 32);
  auto off = at::remainder(bit, 32);
  auto acc = at::zeros({rows, words + 1}, u.options());
  auto low = at::bitwise_left_shift(u, off.unsqueeze(0));
  acc.scatter_add_(1, word.unsqueeze(0).expand({rows, cols}), low);
  // Bits that overflow word w go to w+1: u >> (32 - off) for elements with off + bits > 32.
  auto spill = (off + num_bits) > 32;
  auto high = at::where(spill.unsqueeze(0),
                        at::bitwise_right_shift(u, (32 - off).clamp_max(31).unsqueeze(0)),
                        at::zeros_like(u));
  acc.scatter_add_(1, (word + 1).unsqueeze(0).expand({rows, cols}), high);
  acc = acc.narrow(1, 0, words);
  // Keep the low 32 bits of each word (the shifted low parts overflow past bit 31 and belong
  // to the next word, which received them via `high`), then reinterpret as int32.
  acc = at::bitwise_and(acc, 0xFFFFFFFFLL);
  acc = at::where(acc >= (std::int64_t{1} << 31), acc - (std::int64_t{1} << 32), acc);
  return acc.to(at::kInt).contiguous();
}

Result<at::Tensor> unpack_int32(const at::Tensor& packed, int num_bits, std::int64_t cols) {
  QB_TRY(check_bits(num_bits));
  if (packed.scalar_type() != at::kInt || packed.dim() != 2)
    return invalid_argument("unpack: expected an int32 [rows, words] tensor");
  const std::int64_t words = (cols * num_bits + 31) / 32;
  if (packed.size(1) != words)
    return invalid_argument("unpack: " + std::to_string(packed.size(1)) + " words per row, " +
                            std::to_string(cols) + " columns of " + std::to_string(num_bits) +
                            " bits need " + std::to_string(words));
  auto w = at::bitwise_and(packed.to(at::kLong), 0xFFFFFFFFLL);  // unsigned word values
  w = at::cat({w, at::zeros({w.size(0), 1}, w.options())}, 1);
  auto idx = at::arange(cols, w.options());
  auto bit = idx * num_bits;
  auto word = at::floor_divide(bit, 32);
  auto off = at::remainder(bit, 32);
  auto lo = at::bitwise_right_shift(w.index_select(1, word), off.unsqueeze(0));
  auto hi = at::bitwise_left_shift(w.index_select(1, word + 1), (32 - off).unsqueeze(0));
  auto u = at::bitwise_and(at::bitwise_or(lo, hi), (std::int64_t{1} << num_bits) - 1);
  return (u - (std::int64_t{1} << (num_bits - 1))).to(at::kChar);
}

Result<at::Tensor> pack_int_to_int32_rows(const at::Tensor& q, int num_bits) {
  const at::Tensor m = q.dim() == 1 ? q.unsqueeze(1) : q;
  if (m.dim() != 2) return invalid_argument("pack: expected a 1-D or 2-D tensor");
  QB_ASSIGN_OR_RETURN(at::Tensor packed, pack_int_to_int32(m.t().contiguous(), num_bits));
  return packed.t().contiguous();
}

Result<at::Tensor> unpack_int32_rows(const at::Tensor& packed, int num_bits, std::int64_t rows) {
  if (packed.dim() != 2) return invalid_argument("unpack: expected a 2-D int32 tensor");
  QB_ASSIGN_OR_RETURN(at::Tensor q, unpack_int32(packed.t().contiguous(), num_bits, rows));
  return q.t().contiguous();
}

}  // namespace qb::qmath
