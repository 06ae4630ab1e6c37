// Dense int32 packing of low-bit integer codes, bit-for-bit as compressed-tensors 0.19.0
// (compressors/pack_quantized/helpers.py pack_to_int32 / unpack_from_int32) writes the
// `weight_packed` tensor of the "pack-quantized" format:
//   codes are offset to unsigned (u = q + 2^(bits-1)); element i of a row occupies bits
//   [i·bits, (i+1)·bits) of the row's little-endian bit stream, words are int32, an element may
//   straddle two words (bits that do not divide 32), the row is zero-padded to whole words:
//   packed shape [rows, ceil(cols·bits / 32)].
// For 8 bits: four codes per word, code 4j+k (+128) in byte k of word j; for 4 bits: eight.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

#include "util/status.h"

namespace qb::qmath {

// q: int8 [rows, cols] with values in [-2^(bits-1), 2^(bits-1) - 1]; 1 <= bits <= 8.
// Errors (invalid_argument): wrong dtype/rank, bits out of range, a code out of range.
Result<at::Tensor> pack_int_to_int32(const at::Tensor& q, int num_bits);

// The same packing along dim 0 (compressed-tensors' pack_to_int32(x, bits, packed_dim=0), used
// for asymmetric zero points): q int8 [rows, cols] (or [rows]) -> int32 [ceil(rows·bits/32), cols].
Result<at::Tensor> pack_int_to_int32_rows(const at::Tensor& q, int num_bits);
// Its inverse: int32 [words, cols] -> int8 [rows, cols]. Errors as unpack_int32.
Result<at::Tensor> unpack_int32_rows(const at::Tensor& packed, int num_bits, std::int64_t rows);

// The inverse: packed int32 [rows, words] -> int8 [rows, cols]. Errors: wrong dtype/rank, bits
// out of range, `words` != ceil(cols·bits / 32).
Result<at::Tensor> unpack_int32(const at::Tensor& packed, int num_bits, std::int64_t cols);

}  // namespace qb::qmath
