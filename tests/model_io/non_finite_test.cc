// first_non_finite(): the NaN/Inf scan of raw safetensors bytes, for every floating dtype, at
// the first element, in a middle block and in the tail after the last full block, with the
// first of several bad values reported, and on bytes that are not aligned to the element size.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "steps/model_io/non_finite.h"
#include "test_util.h"

namespace qb::model_io {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::span<const std::uint8_t> bytes_of(const at::Tensor& t) {
  return {static_cast<const std::uint8_t*>(t.data_ptr()), static_cast<std::size_t>(t.nbytes())};
}

// `n` finite values (a range that spans each dtype's normal numbers) with `bad` put at `at`.
at::Tensor with_value(at::ScalarType dtype, int64_t n, std::vector<std::pair<int64_t, double>> bad) {
  at::Tensor t = at::linspace(-100, 100, n, at::kDouble);
  for (auto [i, v] : bad) t[i] = v;
  return t.to(dtype).contiguous();
}

struct Case {
  at::ScalarType at;
  DType file;
  bool has_inf;
  double max_finite;  // the largest finite value: its bits are the closest to Inf's
};

const Case kFloatCases[] = {
    {at::kHalf, DType::kF16, true, 65504.0},
    {at::kBFloat16, DType::kBF16, true, 3.3895313892515355e38},
    {at::kFloat, DType::kF32, true, std::numeric_limits<float>::max()},
    {at::kDouble, DType::kF64, true, std::numeric_limits<double>::max()},
    {at::kFloat8_e5m2, DType::kF8E5M2, true, 57344.0},
    {at::kFloat8_e4m3fn, DType::kF8E4M3, false, 448.0},
};

TEST(NonFinite, FiniteTensorsOfEveryFloatDtypeAreClean) {
  for (const Case& c : kFloatCases) {
    at::Tensor t = with_value(c.at, 10000, {{17, c.max_finite}, {18, -c.max_finite}});
    ASSERT_EQ(t[17].item<double>(), c.max_finite) << dtype_name(c.file);
    EXPECT_FALSE(first_non_finite(c.file, bytes_of(t))) << dtype_name(c.file);
  }
}

TEST(NonFinite, ANaNIsFoundAtItsIndexInEveryFloatDtype) {
  for (const Case& c : kFloatCases) {
    for (int64_t at : {int64_t{0}, int64_t{5000}, int64_t{9999}}) {  // first, a middle block, the tail
      auto bad = first_non_finite(c.file, bytes_of(with_value(c.at, 10000, {{at, kNaN}})));
      ASSERT_TRUE(bad) << dtype_name(c.file) << " at " << at;
      EXPECT_EQ(bad->index, static_cast<std::uint64_t>(at)) << dtype_name(c.file);
      EXPECT_TRUE(std::isnan(bad->value)) << dtype_name(c.file);
    }
  }
}

TEST(NonFinite, InfinitiesAreReportedWithTheirSign) {
  for (const Case& c : kFloatCases) {
    if (!c.has_inf) continue;
    auto pos = first_non_finite(c.file, bytes_of(with_value(c.at, 300, {{123, kInf}})));
    ASSERT_TRUE(pos) << dtype_name(c.file);
    EXPECT_EQ(pos->index, 123u);
    EXPECT_EQ(pos->value, kInf) << dtype_name(c.file);
    auto neg = first_non_finite(c.file, bytes_of(with_value(c.at, 300, {{7, -kInf}})));
    ASSERT_TRUE(neg) << dtype_name(c.file);
    EXPECT_EQ(neg->value, -kInf) << dtype_name(c.file);
  }
}

TEST(NonFinite, TheFirstOfSeveralBadValuesIsReported) {
  // Bad values in several blocks (4096 elements each): the threaded scan must report the first.
  at::Tensor t = with_value(at::kBFloat16, 1 << 20, {{900'000, kNaN}, {300'001, -kInf}, {700'000, kInf}});
  auto bad = first_non_finite(DType::kBF16, bytes_of(t));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->index, 300'001u);
  EXPECT_EQ(bad->value, -kInf);
}

TEST(NonFinite, UnalignedBytesAreScanned) {
  at::Tensor t = with_value(at::kFloat, 5000, {{4321, kNaN}});
  std::vector<std::uint8_t> shifted(t.nbytes() + 1);
  std::memcpy(shifted.data() + 1, t.data_ptr(), t.nbytes());
  auto bad = first_non_finite(DType::kF32, std::span<const std::uint8_t>(shifted).subspan(1));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->index, 4321u);
}

TEST(NonFinite, IntegerDtypesAreNeverNonFinite) {
  at::Tensor t = at::full({64}, 0xFF, at::kByte);  // all exponent bits set, were it a float
  EXPECT_FALSE(first_non_finite(DType::kU8, bytes_of(t)));
  EXPECT_FALSE(is_floating(DType::kU8));
  EXPECT_TRUE(is_floating(DType::kBF16));
}

}  // namespace
}  // namespace qb::model_io
