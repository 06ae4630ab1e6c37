// safetensors headers are a security boundary: every malformed input gets a precise kCorrupt
// error naming the file and the tensor, and no input crashes or reads out of bounds.
#include <gtest/gtest.h>

#include <random>

#include "steps/model_io/safetensors.h"
#include "test_util.h"

namespace qb::model_io {
namespace {

using namespace qb::model_io::testing;

class Corrupt : public ::testing::Test {
 protected:
  // Writes `bytes`, opens it and checks the error is kCorrupt "'<path>': <message>".
  void expect_corrupt(const std::string& bytes, const std::string& message) {
    write(path_, bytes);
    auto r = SafetensorsReader::open(path_);
    ASSERT_FALSE(r.is_ok()) << "opened without error";
    EXPECT_EQ(r.status().code(), Code::kCorrupt) << r.status().to_string();
    EXPECT_EQ(r.status().message(), "'" + path_.string() + "': " + message);
  }
  // One tensor entry `a` with the given JSON fields and a data section of `data_bytes` zeros.
  void expect_entry_corrupt(const std::string& fields, std::size_t data_bytes, const std::string& message) {
    expect_corrupt(raw_file(R"({"a":{)" + fields + "}}", std::string(data_bytes, '\0')), message);
  }

  fs::TempDir dir_ = make_temp_dir();
  std::filesystem::path path_ = dir_.path() / "model.safetensors";
};

TEST_F(Corrupt, EmptyFile) { expect_corrupt("", "file is 0 bytes, too short for the 8-byte header length"); }

TEST_F(Corrupt, ShorterThanTheLengthField) {
  expect_corrupt("abc", "file is 3 bytes, too short for the 8-byte header length");
}

TEST_F(Corrupt, HeaderLengthLargerThanTheFile) {
  expect_corrupt(raw_file("{}", "", 100),
                 "header length 100 exceeds the 2 bytes after the length field (truncated file?)");
}

TEST_F(Corrupt, HeaderLengthOverTheLimit) {
  expect_corrupt(raw_file("{}", "", 1ull << 40), "header length 1099511627776 exceeds the limit of 100000000 bytes");
  expect_corrupt(raw_file("{}", "", ~0ull),
                 "header length 18446744073709551615 exceeds the limit of 100000000 bytes");
}

TEST_F(Corrupt, TruncatedInsideTheHeader) {
  auto good = serialize_safetensors({{"a", at::ones({4})}});
  ASSERT_TRUE(good.is_ok());
  // 8 + 56 header bytes + 16 data bytes; keep 20.
  ASSERT_EQ(good->size(), 80u);
  expect_corrupt(good->substr(0, 20), "header length 56 exceeds the 12 bytes after the length field (truncated file?)");
}

TEST_F(Corrupt, TruncatedInsideTheData) {
  auto good = serialize_safetensors({{"a", at::ones({4})}});
  ASSERT_TRUE(good.is_ok());
  expect_corrupt(good->substr(0, good->size() - 4),
                 "tensor 'a': data_offsets [0, 16] run past the end of the 12-byte data section");
}

TEST_F(Corrupt, HeaderNotJson) {
  expect_corrupt(raw_file(R"({"a": nope})"),
                 "header is not valid JSON: parse error at line 1, column 8: syntax error while parsing value - "
                 "invalid literal; last read: '\"a\": no'");
}

TEST_F(Corrupt, HeaderNotUtf8) {
  expect_corrupt(raw_file("{\"\xff\":1}"),
                 "header is not valid JSON: parse error at line 1, column 3: syntax error while parsing object key - "
                 "invalid string: ill-formed UTF-8 byte; last read: '\"\xff'; expected string literal");
}

TEST_F(Corrupt, HeaderNotAnObject) {
  expect_corrupt(raw_file("[1, 2]  "), "header does not start with '{'");
  expect_corrupt(raw_file(" {}"), "header does not start with '{'");  // as strict as the reference
  expect_corrupt(raw_file(""), "header does not start with '{'");
}

TEST_F(Corrupt, NulByteInHeader) {
  expect_corrupt(raw_file(std::string("{}\0\0", 4)), "header contains a NUL byte at offset 10");
}

TEST_F(Corrupt, TrailingGarbageAfterTheJson) {
  expect_corrupt(raw_file("{} x"),
                 "header is not valid JSON: parse error at line 1, column 4: syntax error while parsing value - "
                 "invalid literal; last read: '{} x'; expected end of input");
}

TEST_F(Corrupt, OverlappingOffsets) {
  expect_corrupt(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                          R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                          std::string(12, '\0')),
                 "tensor 'b': data_offsets [4, 12] overlap tensor 'a' [0, 8]");
}

TEST_F(Corrupt, IdenticalOffsets) {
  expect_corrupt(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                          R"("b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
                          std::string(8, '\0')),
                 "tensor 'b': data_offsets [0, 8] overlap tensor 'a' [0, 8]");
}

TEST_F(Corrupt, GapBetweenTensors) {
  expect_corrupt(raw_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                          R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                          std::string(12, '\0')),
                 "tensor 'b': data_offsets [8, 12] leave bytes [4, 8) unused after tensor 'a'");
}

TEST_F(Corrupt, GapAtTheStart) {
  expect_entry_corrupt(R"("dtype":"F32","shape":[1],"data_offsets":[4,8])", 8,
                       "tensor 'a': data_offsets [4, 8] leave bytes [0, 4) unused at the start");
}

TEST_F(Corrupt, BytesAfterTheLastTensor) {
  expect_entry_corrupt(R"("dtype":"F32","shape":[1],"data_offsets":[0,4])", 6,
                       "the data section has 6 bytes but the tensors cover 4");
  expect_corrupt(raw_file("{}", "xy"), "the data section has 2 bytes but the tensors cover 0");
}

TEST_F(Corrupt, OffsetsOutsideTheFile) {
  expect_entry_corrupt(R"("dtype":"U8","shape":[100],"data_offsets":[0,100])", 16,
                       "tensor 'a': data_offsets [0, 100] run past the end of the 16-byte data section");
  expect_entry_corrupt(R"("dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615])", 0,
                       "tensor 'a': data_offsets [18446744073709551615, 18446744073709551615] run past the end of "
                       "the 0-byte data section");
}

TEST_F(Corrupt, ReversedOffsets) {
  expect_entry_corrupt(R"("dtype":"U8","shape":[4],"data_offsets":[8,4])", 8,
                       "tensor 'a': data_offsets [8, 4] are reversed");
}

TEST_F(Corrupt, WrongByteCount) {
  expect_corrupt(raw_file(R"({"model.layers.0.mlp.up_proj.weight":)"
                          R"({"dtype":"BF16","shape":[8,8],"data_offsets":[0,100]}})",
                          std::string(100, '\0')),
                 "tensor 'model.layers.0.mlp.up_proj.weight': data_offsets [0, 100] but BF16 [8, 8] needs 128 bytes");
}

TEST_F(Corrupt, UnknownDType) {
  expect_entry_corrupt(R"("dtype":"F4","shape":[2],"data_offsets":[0,1])", 1, "tensor 'a': unknown dtype 'F4'");
  expect_entry_corrupt(R"("dtype":"bf16","shape":[2],"data_offsets":[0,4])", 4,
                       "tensor 'a': unknown dtype 'bf16'");
  expect_entry_corrupt(R"("dtype":7,"shape":[2],"data_offsets":[0,4])", 4, "tensor 'a': \"dtype\" is not a string");
}

TEST_F(Corrupt, MissingFields) {
  expect_entry_corrupt(R"("shape":[2],"data_offsets":[0,4])", 4, "tensor 'a': missing \"dtype\"");
  expect_entry_corrupt(R"("dtype":"U8","data_offsets":[0,4])", 4, "tensor 'a': missing \"shape\"");
  expect_entry_corrupt(R"("dtype":"U8","shape":[4])", 4, "tensor 'a': missing \"data_offsets\"");
  expect_corrupt(raw_file(R"({"a":[1,2]})"), "tensor 'a': entry is not an object");
}

TEST_F(Corrupt, NegativeShape) {
  expect_entry_corrupt(R"("dtype":"U8","shape":[-1,4],"data_offsets":[0,4])", 4,
                       "tensor 'a': \"shape\" [-1,4] is not a list of non-negative 64-bit integers");
}

TEST_F(Corrupt, NonIntegerShape) {
  expect_entry_corrupt(R"("dtype":"U8","shape":[2.0],"data_offsets":[0,2])", 2,
                       "tensor 'a': \"shape\" [2.0] is not a list of non-negative 64-bit integers");
  expect_entry_corrupt(R"("dtype":"U8","shape":"2","data_offsets":[0,2])", 2, "tensor 'a': \"shape\" is not an array");
}

TEST_F(Corrupt, ShapeDimensionBeyondInt64) {
  expect_entry_corrupt(R"("dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,0])", 0,
                       "tensor 'a': \"shape\" [9223372036854775808] is not a list of non-negative 64-bit integers");
}

TEST_F(Corrupt, OverflowingShape) {
  expect_entry_corrupt(R"("dtype":"U8","shape":[4294967296,4294967296,2],"data_offsets":[0,0])", 0,
                       "tensor 'a': shape [4294967296, 4294967296, 2] overflows 64-bit byte counts");
  // numel fits in 64 bits, numel * 4 bytes does not.
  expect_entry_corrupt(R"("dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0])", 0,
                       "tensor 'a': shape [4611686018427387904] overflows 64-bit byte counts");
  // A zero dimension makes the product 0 even after an overflowing prefix: still rejected.
  expect_entry_corrupt(R"("dtype":"U8","shape":[4294967296,4294967296,4,0],"data_offsets":[0,0])", 0,
                       "tensor 'a': shape [4294967296, 4294967296, 4, 0] overflows 64-bit byte counts");
}

TEST_F(Corrupt, MalformedDataOffsets) {
  expect_entry_corrupt(R"("dtype":"U8","shape":[1],"data_offsets":[0])", 1,
                       "tensor 'a': \"data_offsets\" [0] is not a pair of non-negative integers");
  expect_entry_corrupt(R"("dtype":"U8","shape":[1],"data_offsets":[0,1,2])", 1,
                       "tensor 'a': \"data_offsets\" [0,1,2] is not a pair of non-negative integers");
  expect_entry_corrupt(R"("dtype":"U8","shape":[1],"data_offsets":[-1,0])", 1,
                       "tensor 'a': \"data_offsets\" [-1,0] is not a pair of non-negative integers");
  expect_entry_corrupt(R"("dtype":"U8","shape":[1],"data_offsets":{"b":0})", 1,
                       "tensor 'a': \"data_offsets\" {\"b\":0} is not a pair of non-negative integers");
}

TEST_F(Corrupt, DuplicateTensorNames) {
  expect_corrupt(raw_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                          R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                          "xy"),
                 "tensor 'a' appears twice in the header");
}

TEST_F(Corrupt, DuplicateFieldInsideAnEntry) {
  expect_entry_corrupt(R"("dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1])", 1,
                       "duplicate key 'dtype' in the header");
}

TEST_F(Corrupt, NestingDeeperThanAHeader) {
  expect_entry_corrupt(R"("dtype":"U8","shape":[[1]],"data_offsets":[0,1])", 1,
                       "header nests deeper than a safetensors header can");
  // A million open brackets must not recurse or allocate per level.
  expect_corrupt(raw_file(R"({"a":{"b":)" + std::string(1'000'000, '[')),
                 "header nests deeper than a safetensors header can");
}

TEST_F(Corrupt, MetadataNotAStringMap) {
  expect_corrupt(raw_file(R"({"__metadata__":5})"), "__metadata__ is not an object");
  expect_corrupt(raw_file(R"({"__metadata__":{"format":"pt","n":1}})"),
                 "__metadata__ value for 'n' is not a string");
}

TEST(CorruptData, InvalidBoolByteIsRejectedOnLoad) {
  auto dir = make_temp_dir();
  const auto path = dir.path() / "b.safetensors";
  write(path, raw_file(R"({"b":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})", std::string("\1\2\0", 3)));
  auto r = SafetensorsReader::open(path);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  auto t = r->load("b");
  ASSERT_FALSE(t.is_ok());
  EXPECT_EQ(t.status().code(), Code::kCorrupt);
  EXPECT_EQ(t.status().message(), "'" + path.string() + "': tensor 'b': BOOL byte 1 is 2, not 0 or 1");
}

TEST(CorruptData, MetadataNullIsAccepted) {
  // The reference reader treats "__metadata__": null as absent.
  auto dir = make_temp_dir();
  const auto path = dir.path() / "m.safetensors";
  write(path, raw_file(R"({"__metadata__":null})"));
  auto r = SafetensorsReader::open(path);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_TRUE(r->metadata().empty());
  EXPECT_TRUE(r->entries().empty());
}

// Every prefix and thousands of random byte edits of a valid file either open (and then load
// every tensor) or fail with kCorrupt; nothing crashes (run under ASan/UBSan in CI's sanitizer
// build for the out-of-bounds half of the claim).
TEST(CorruptFuzz, TruncationsAndByteFlipsNeverCrash) {
  auto dir = make_temp_dir();
  auto good = serialize_safetensors({{"w", at::arange(6, at::kFloat).reshape({2, 3})},
                                     {"b", at::ones({3}, at::kBool)},
                                     {"i", at::arange(4, at::kLong)}},
                                    {{"format", "pt"}});
  ASSERT_TRUE(good.is_ok());
  int files = 0;
  auto check = [&](const std::string& bytes) {
    // A fresh name each time: rewriting one file in place makes ext4 flush it on every close.
    const auto path = dir.path() / ("f" + std::to_string(files++) + ".safetensors");
    write(path, bytes);
    auto r = SafetensorsReader::open(path);
    std::filesystem::remove(path);  // the map stays valid until r goes away
    if (!r.is_ok()) {
      EXPECT_EQ(r.status().code(), Code::kCorrupt) << r.status().to_string();
      return false;
    }
    for (const TensorEntry& e : r->entries()) {
      auto t = r->load(e.name);
      if (t.is_ok()) {
        EXPECT_EQ(t->nbytes(), e.nbytes());
      }
    }
    return true;
  };
  int opened = 0;
  for (std::size_t n = 0; n < good->size(); ++n) opened += check(good->substr(0, n));
  EXPECT_EQ(opened, 0);  // every strict prefix is rejected
  EXPECT_TRUE(check(*good));
  std::mt19937 rng(42);
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = *good;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      // Mostly inside the length field and the header, where the parsing is.
      std::size_t pos = rng() % (bytes.size() - 12);
      const char kChars[] = "0123456789[]{},:\"- \xff\x00";
      bytes[pos] = (rng() % 2) ? kChars[rng() % (sizeof kChars - 1)] : static_cast<char>(rng());
    }
    check(bytes);
  }
}

}  // namespace
}  // namespace qb::model_io
