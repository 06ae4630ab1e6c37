// Dense int32 packing: the exact bit layout of compressed-tensors' pack_to_int32 for 8 and 4
// bits, round trips for every width 1..8, and the error cases.
#include "steps/qmath/pack.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace qb::qmath {
namespace {

using testing::exact_mismatch;

TEST(Pack, EightBitIsFourOffsetBytesPerWordLittleEndian) {
  auto q = at::tensor({-128, -1, 0, 127, 5, 6, 7, 8}, at::kChar).reshape({1, 8});
  auto p = pack_int_to_int32(q, 8);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  ASSERT_EQ(p->sizes(), (std::vector<int64_t>{1, 2}));
  // bytes (q + 128): 0x00 0x7f 0x80 0xff -> word 0xff807f00 (as int32: negative)
  EXPECT_EQ(static_cast<uint32_t>((*p)[0][0].item<int32_t>()), 0xff807f00u);
  EXPECT_EQ(static_cast<uint32_t>((*p)[0][1].item<int32_t>()), 0x88878685u);
}

TEST(Pack, FourBitIsEightNibblesPerWord) {
  auto q = at::tensor({-8, -7, 0, 7, 1, 2, 3, 4, 5}, at::kChar).reshape({1, 9});
  auto p = pack_int_to_int32(q, 4);
  ASSERT_TRUE(p.is_ok());
  ASSERT_EQ(p->size(1), 2);  // ceil(9 * 4 / 32)
  // nibbles (q + 8): 0 1 8 f 9 a b c -> 0xcba9f810; the 9th (13) alone in word 1.
  EXPECT_EQ(static_cast<uint32_t>((*p)[0][0].item<int32_t>()), 0xcba9f810u);
  EXPECT_EQ((*p)[0][1].item<int32_t>(), 13);
}

TEST(Pack, RoundTripsEveryWidth) {
  for (int bits = 1; bits <= 8; ++bits) {
    const int64_t lo = -(int64_t{1} << (bits - 1)), hi = (int64_t{1} << (bits - 1)) - 1;
    auto g = testing::gen(bits);
    auto q = at::randint(lo, hi + 1, {5, 77}, g, at::TensorOptions().dtype(at::kChar));
    auto p = pack_int_to_int32(q, bits);
    ASSERT_TRUE(p.is_ok()) << bits;
    EXPECT_EQ(p->size(1), (77 * bits + 31) / 32);
    auto u = unpack_int32(*p, bits, 77);
    ASSERT_TRUE(u.is_ok()) << bits;
    EXPECT_EQ(exact_mismatch(*u, q), "") << bits << " bits";
  }
}

TEST(Pack, Errors) {
  EXPECT_EQ(pack_int_to_int32(at::zeros({2, 4}, at::kInt), 8).status().message(),
            "pack: expected an int8 [rows, cols] tensor");
  EXPECT_EQ(pack_int_to_int32(at::zeros({2, 4}, at::kChar), 9).status().message(),
            "packing supports num_bits in [1, 8], got 9");
  EXPECT_EQ(pack_int_to_int32(at::full({1, 4}, 8, at::kChar), 4).status().message(),
            "pack: a code is outside the 4-bit range");
  EXPECT_EQ(unpack_int32(at::zeros({2, 3}, at::kInt), 8, 8).status().message(),
            "unpack: 3 words per row, 8 columns of 8 bits need 2");
}

}  // namespace
}  // namespace qb::qmath
